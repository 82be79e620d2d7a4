"""The delivery ledger: (alert id, revision, destination) → channel, Slack ``ts``, state.  SQLite
in WAL mode.

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

**Keyed by destination.** "Delivered" is a fact about one place: an alert printed to the
console has not reached Slack, and a post through one webhook is not a post through another.
Every row names its :class:`Destination` (what :meth:`alerts.delivery.Sink.destination`
returns): its ``scope`` is the account the message lands in — ``slack:<team id>`` for the bot,
``webhook:<hash of the URL>`` (never the URL: it is a secret), ``console:<JSONL file>`` — and
its ``id`` adds the channel where the sink routes (the bot: ``slack:T0123/#marsad-alerts``).
An alert is delivered once per destination; its root message is looked up within a scope
(a revision edits the message in whichever channel of that workspace the alert lives in).

**An older ledger file** (keyed by alert id and revision alone) is migrated when opened: each
old row keeps its state, channel, ts and facts, and is *unclaimed* — it knows the kind of sink
that wrote it (its ``sink`` column: ``slack``, ``webhook``, ``console``) but not which
workspace, webhook or file. The first sink *of the same kind* that delivers afterwards claims
them as its own (:meth:`Ledger.claim`). Why that, rather than "they are the console's" or
"the bot's": the sink kind is known, and it is exactly the part that matters — console rows
never stop an alert from reaching Slack once ``SLACK_BOT_TOKEN`` is set (the bug this keying
fixes), and bot rows keep the bot from posting again what it already posted (their ``ts`` stay
the roots later revisions edit). A ledger lives in one ``MARSAD_HOME`` served by one notifier
configuration at a time, so the next sink of that kind is, in practice, the one that wrote
them. A row written without a destination (a caller that does not know it) is unclaimed in
the same way. When a claimed row meets a row already kept for that destination, the one
written last wins — the rule the ledger has always had for a second write of the same key.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

State = Literal["pending", "delivered", "parked"]

#: ``user_version`` of a ledger keyed by destination (an older file has 0).
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id    TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    destination TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'parked')),
    sink        TEXT    NOT NULL,
    channel     TEXT,
    ts          TEXT,
    reply_ts    TEXT,
    facts       TEXT,
    error       TEXT,
    started_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL,
    PRIMARY KEY (alert_id, revision, destination)
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_by_scope ON deliveries (alert_id, scope, state)"

#: The scope (and id) of rows that do not know their destination yet.
UNCLAIMED = "unclaimed:"


@dataclass(frozen=True)
class Destination:
    """Where a message lands, as the ledger keys it (see the module docstring)."""

    #: the account: ``slack:<team id>``, ``webhook:<hash>``, ``console:<file>``
    scope: str
    #: the channel, where the sink routes (the bot); empty where the sink has one place
    channel: str = ""

    @property
    def id(self) -> str:
        return f"{self.scope}/{self.channel}" if self.channel else self.scope

    @classmethod
    def unclaimed(cls, sink: str) -> Destination:
        return cls(UNCLAIMED + sink)


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
    #: :attr:`Destination.id` and :attr:`Destination.scope` of the row
    destination: str = ""
    scope: str = ""

    @property
    def where(self) -> Destination:
        """The row's :class:`Destination`."""
        if self.destination == self.scope:
            return Destination(self.scope)
        return Destination(self.scope, self.destination[len(self.scope) + 1 :])


class Ledger:
    """One SQLite file, one writer (the notifier); every write is its own durable transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed row survives power loss, not only a process crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def _migrate(self) -> None:
        """Create the table, or turn an older ledger's rows into unclaimed ones (see above).
        One transaction: a crash midway leaves the old file as it was."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(deliveries)")}
        if columns and "destination" in columns:
            self._db.execute(_INDEX)
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if columns:
                self._db.execute("ALTER TABLE deliveries RENAME TO deliveries_v1")
            self._db.execute(_SCHEMA)
            self._db.execute(_INDEX)
            if columns:
                self._db.execute(
                    "INSERT INTO deliveries (alert_id, revision, destination, scope, state, sink,"
                    " channel, ts, reply_ts, facts, error, started_at, updated_at)"
                    " SELECT alert_id, revision, ? || sink, ? || sink, state, sink, channel, ts,"
                    " reply_ts, facts, error, started_at, updated_at FROM deliveries_v1",
                    (UNCLAIMED, UNCLAIMED),
                )
                self._db.execute("DROP TABLE deliveries_v1")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

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
            destination=row[10],
            scope=row[11],
        )

    _COLUMNS = (
        "alert_id, revision, state, sink, channel, ts, reply_ts, facts, error, started_at,"
        " destination, scope"
    )

    def get(
        self, alert_id: str, revision: int, destination: Destination | None = None
    ) -> Entry | None:
        """The row of (alert, revision) for ``destination``; without one, the row of any
        destination written last (what an operator or a test asks: "what became of it?")."""
        if destination is None:
            cur = self._db.execute(
                f"SELECT {self._COLUMNS} FROM deliveries WHERE alert_id = ? AND revision = ?"
                " ORDER BY updated_at DESC LIMIT 1",
                (alert_id, revision),
            )
        else:
            cur = self._db.execute(
                f"SELECT {self._COLUMNS} FROM deliveries WHERE alert_id = ? AND revision = ?"
                " AND destination = ?",
                (alert_id, revision, destination.id),
            )
        return self._row(cur.fetchone())

    def latest_delivered(self, alert_id: str, scope: str | None = None) -> Entry | None:
        """The newest delivered revision in ``scope`` (any, if not given): its channel/ts is
        the alert's root message there."""
        where, args = "alert_id = ? AND state = 'delivered'", [alert_id]
        if scope is not None:
            where, args = where + " AND scope = ?", [alert_id, scope]
        cur = self._db.execute(
            f"SELECT {self._COLUMNS} FROM deliveries WHERE {where}"
            " ORDER BY revision DESC, updated_at DESC LIMIT 1",
            args,
        )
        return self._row(cur.fetchone())

    def mark_pending(
        self,
        alert_id: str,
        revision: int,
        sink: str,
        channel: str | None,
        ts: str | None = None,
        *,
        destination: Destination | None = None,
    ) -> None:
        dest = destination or Destination.unclaimed(sink)
        now = time.time()
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, destination, scope, state, sink, channel,"
            " ts, started_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision, destination) DO UPDATE SET state = 'pending',"
            " sink = excluded.sink, channel = excluded.channel, ts = excluded.ts, error = NULL,"
            " updated_at = excluded.updated_at",
            (alert_id, revision, dest.id, dest.scope, sink, channel, ts, now, now),
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
        destination: Destination | None = None,
    ) -> None:
        dest = destination or Destination.unclaimed(sink)
        now = time.time()
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, destination, scope, state, sink, channel,"
            " ts, reply_ts, facts, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'delivered', ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision, destination) DO UPDATE SET state = 'delivered',"
            " sink = excluded.sink, channel = excluded.channel, ts = excluded.ts,"
            " reply_ts = excluded.reply_ts, facts = excluded.facts, error = NULL,"
            " updated_at = excluded.updated_at",
            (
                alert_id,
                revision,
                dest.id,
                dest.scope,
                sink,
                channel,
                ts,
                reply_ts,
                json.dumps(facts, ensure_ascii=False) if facts is not None else None,
                now,
                now,
            ),
        )

    def mark_parked(
        self,
        alert_id: str,
        revision: int,
        sink: str,
        error: str,
        *,
        destination: Destination | None = None,
    ) -> None:
        """Without ``destination``: the attempt that failed is the revision's newest pending
        row written by ``sink`` (the dispatcher writes one before every Slack call); if there
        is none (the failure came first), an unclaimed row records the parking."""
        now = time.time()
        if destination is None:
            cur = self._db.execute(
                "UPDATE deliveries SET state = 'parked', error = ?, updated_at = ?"
                " WHERE rowid = (SELECT rowid FROM deliveries WHERE alert_id = ? AND revision = ?"
                " AND sink = ? AND state = 'pending' ORDER BY updated_at DESC LIMIT 1)",
                (error, now, alert_id, revision, sink),
            )
            if cur.rowcount:
                return
        dest = destination or Destination.unclaimed(sink)
        self._db.execute(
            "INSERT INTO deliveries (alert_id, revision, destination, scope, state, sink, error,"
            " started_at, updated_at) VALUES (?, ?, ?, ?, 'parked', ?, ?, ?, ?)"
            " ON CONFLICT (alert_id, revision, destination) DO UPDATE SET state = 'parked',"
            " error = excluded.error, updated_at = excluded.updated_at",
            (alert_id, revision, dest.id, dest.scope, sink, error, now, now),
        )

    def claim(self, sink: str, destination_of: Callable[[str], Destination]) -> int:
        """Give ``sink``'s unclaimed rows their destination (``destination_of(row's channel)``);
        the number claimed. Where the destination already has a row for that revision, the
        one written last is kept. One transaction; cheap when there is nothing to claim."""
        unclaimed = Destination.unclaimed(sink)
        cur = self._db.execute(
            "SELECT rowid, alert_id, revision, channel, updated_at FROM deliveries WHERE scope = ?",
            (unclaimed.scope,),
        )
        rows = cur.fetchall()
        if not rows:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for rowid, alert_id, revision, channel, updated_at in rows:
                dest = destination_of(channel or "")
                other = self._db.execute(
                    "SELECT rowid, updated_at FROM deliveries WHERE alert_id = ? AND revision = ?"
                    " AND destination = ?",
                    (alert_id, revision, dest.id),
                ).fetchone()
                if other is not None and other[1] > updated_at:
                    self._db.execute("DELETE FROM deliveries WHERE rowid = ?", (rowid,))
                    continue
                if other is not None:
                    self._db.execute("DELETE FROM deliveries WHERE rowid = ?", (other[0],))
                self._db.execute(
                    "UPDATE deliveries SET destination = ?, scope = ? WHERE rowid = ?",
                    (dest.id, dest.scope, rowid),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return len(rows)

    def counts(self) -> dict[str, int]:
        cur = self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
        return {state: n for state, n in cur.fetchall()}
