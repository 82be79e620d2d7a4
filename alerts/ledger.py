"""The delivery ledger: (alert id, revision) → channel, Slack ``ts``, state.  SQLite in WAL mode.

Why: Kafka offsets are committed only after Slack accepted a message, so after a crash the
notifier sees some alerts again.  The ledger is what stops a second post:

* ``pending`` is written (and fsynced) *before* Slack is called.  A pending row found at
  start-up means "we may or may not have posted": the notifier asks Slack (message metadata)
  before posting again.
* ``delivered`` (with the ``ts``) is written *before* the offset is committed.  A delivered
  row means "skip, just commit".
* ``parked`` means a permanent error sent the alert to the dead-letter topic.

The ledger also remembers each alert's root message (channel + ts) so a later revision edits
it, and the revision's "facts" so the thread reply can say what changed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

State = Literal["pending", "delivered", "parked"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id   TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'parked')),
    sink       TEXT    NOT NULL,
    channel    TEXT,
    ts         TEXT,
    reply_ts   TEXT,
    facts      TEXT,
    error      TEXT,
    started_at REAL    NOT NULL,
    updated_at REAL    NOT NULL,
    PRIMARY KEY (alert_id, revision)
)
"""


@dataclass(frozen=True)
class Entry:
    alert_id: str
    revision: int
    state: State
    sink: str
    channel: str | None
    ts: str | None
    reply_ts: str | None
    facts: dict[str, Any] | None
    error: str | None
    started_at: float


class Ledger:
    """One SQLite file, one writer (the notifier); every write is its own durable transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed row survives power loss, not only a process crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, row: tuple[Any, ...] | None) -> Entry | None:
        if row is None:
            return None
        return Entry(
            alert_id=row[0],
            revision=row[1],
            state=row[2],
            sink=row[3],
            channel=row[4],
            ts=row[5],
            reply_ts=row[6],
            facts=json.loads(row[7]) if row[7] else None,
            error=row[8],
            started_at=row[9],
        )

    _COLUMNS = "alert_id, revision, state, sink, channel, ts, reply_ts, facts, error, started_at"

    def get(self, alert_id: str, revision: int) -> Entry | None:
        cur = self._db.execute(
            f"SELECT {self._COLUMNS} FROM deliveries WHERE alert_id = ? AND revision = ?",
            (alert_id, revision),
        )
        return self._row(cur.fetchone())

    def latest_delivered(self, alert_id: str) -> Entry | None:
        """The newest delivered revision: its channel/ts is the alert's root message."""
        cur = self._db.execute(
            f"SELECT {self._COLUMNS} FROM deliveries WHERE alert_id = ? AND state = 'delivered'"
            " ORDER BY revision DESC LIMIT 1",
            (alert_id,),
        )
        return self._row(cur.fetchone())

    def mark_pending(
        self, alert_id: str, revision: int, sink: str, channel: str | None, ts: str | None = None
    ) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, state, sink, channel, ts, started_at,"
            " updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision) DO UPDATE SET state = 'pending',"
            " sink = excluded.sink, channel = excluded.channel, ts = excluded.ts, error = NULL,"
            " updated_at = excluded.updated_at",
            (alert_id, revision, sink, channel, ts, now, now),
        )

    def mark_delivered(
        self,
        alert_id: str,
        revision: int,
        *,
        sink: str,
        channel: str | None,
        ts: str | None,
        reply_ts: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, state, sink, channel, ts, reply_ts, facts,"
            " started_at, updated_at) VALUES (?, ?, 'delivered', ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision) DO UPDATE SET state = 'delivered',"
            " sink = excluded.sink, channel = excluded.channel, ts = excluded.ts,"
            " reply_ts = excluded.reply_ts, facts = excluded.facts, error = NULL,"
            " updated_at = excluded.updated_at",
            (
                alert_id,
                revision,
                sink,
                channel,
                ts,
                reply_ts,
                json.dumps(facts, ensure_ascii=False) if facts is not None else None,
                now,
                now,
            ),
        )

    def mark_parked(self, alert_id: str, revision: int, sink: str, error: str) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, state, sink, error, started_at,"
            " updated_at) VALUES (?, ?, 'parked', ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision) DO UPDATE SET state = 'parked',"
            " error = excluded.error, updated_at = excluded.updated_at",
            (alert_id, revision, sink, error, now, now),
        )

    def counts(self) -> dict[str, int]:
        cur = self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
        return {state: n for state, n in cur.fetchall()}
