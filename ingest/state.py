"""Poller state that survives restarts: validators, schedule, and what was already published.

One sqlite file (``$MARSAD_HOME/ingest-state.sqlite``): no server, atomic transactions, and
it is only ever written from the poller's event-loop thread.  The "seen" table is shared by
every feed (the same story on two feeds is one story) and bounded: the oldest keys beyond
``max_seen`` are pruned.

The crucial rule lives in :meth:`StateStore.commit_poll`: a feed's validators and its seen
keys are written in ONE transaction, and the poller calls it only after the broker has
confirmed every new article of that fetch.  A crash or broker outage before that point
leaves the old validators, so the next poll re-fetches (200, not 304) and re-tries.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    interval REAL NOT NULL,
    next_due REAL NOT NULL,
    errors INTEGER NOT NULL DEFAULT 0,
    last_outcome TEXT,
    last_polled REAL,
    body_hash TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    key TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen(seen_at);
"""

DEFAULT_MAX_SEEN = 200_000


@dataclass(frozen=True)
class FeedState:
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    interval: float
    next_due: float
    errors: int = 0
    last_outcome: str | None = None
    last_polled: float | None = None
    #: Hash of the last body parsed: servers that ignore validators still cost no parse.
    body_hash: str | None = None


class StateStore:
    """sqlite-backed state. ``path=None`` keeps it in memory (tests, benchmarks)."""

    def __init__(self, path: Path | None, *, max_seen: int = DEFAULT_MAX_SEEN) -> None:
        self.path = path
        self.max_seen = max_seen
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path) if path is not None else ":memory:",
            isolation_level=None,
            check_same_thread=False,
        )
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(feed_state)")}
        if "body_hash" not in columns:  # state files written before the column existed
            self._db.execute("ALTER TABLE feed_state ADD COLUMN body_hash TEXT")
        self._commits = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def feed(self, name: str) -> FeedState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, url, etag, last_modified, interval, next_due, errors,"
                " last_outcome, last_polled, body_hash FROM feed_state WHERE name = ?",
                (name,),
            ).fetchone()
        return FeedState(*row) if row else None

    def seen_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` already published."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key FROM seen WHERE key IN ({marks})", chunk)
                found.update(r[0] for r in rows)
        return found

    def save_schedule(self, state: FeedState) -> None:
        """Record an outcome that published nothing (error, 304, nothing new): validators are
        written only if given (a 304 keeps them; an error keeps the old ones)."""
        self.commit_poll(state, ())

    def commit_poll(self, state: FeedState, new_keys: Iterable[str]) -> None:
        """Atomically record the feed's new validators/schedule AND the keys just published."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO feed_state (name, url, etag, last_modified, interval, next_due,"
                    " errors, last_outcome, last_polled, body_hash) VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(name) DO UPDATE SET url=excluded.url, etag=excluded.etag,"
                    " last_modified=excluded.last_modified, interval=excluded.interval,"
                    " next_due=excluded.next_due, errors=excluded.errors,"
                    " last_outcome=excluded.last_outcome, last_polled=excluded.last_polled,"
                    " body_hash=excluded.body_hash",
                    (
                        state.name,
                        state.url,
                        state.etag,
                        state.last_modified,
                        state.interval,
                        state.next_due,
                        state.errors,
                        state.last_outcome,
                        state.last_polled,
                        state.body_hash,
                    ),
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO seen (key, seen_at) VALUES (?, ?)",
                    ((key, now) for key in new_keys),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._commits += 1
            if self._commits % 200 == 0:
                self._prune()

    def _prune(self) -> None:
        count = self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        excess = count - self.max_seen
        if excess > 0:
            self._db.execute(
                "DELETE FROM seen WHERE key IN (SELECT key FROM seen ORDER BY seen_at LIMIT ?)",
                (excess,),
            )

    def prune(self) -> None:
        with self._lock:
            self._prune()

    def seen_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])
