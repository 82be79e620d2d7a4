"""What the desk did with its alerts: acknowledgements, mutes, corrections.  SQLite in WAL mode.

Why a file of its own, beside the delivery ledger: the ledger is the notifier's record of what
reached Slack; this is the desk's record of what people decided about it.  Both are written by
different threads (the notifier, the Socket Mode handler) and read by a third (the digest), so
each writer keeps its own connection and every write is one short durable transaction.

* An **acknowledgement** is one per alert: the first one stands (a second click by someone
  else does not rewrite who took it).
* A **mute** silences one rule for one governorate or one actor until a time; it is *lifted*
  (never deleted), so the digest and an audit can still see it.  An alert is muted when its
  rule matches and its governorate, or its perpetrator or any target, is the mute's value —
  the same reading of "where" and "who" that routing uses.
* A muted alert is still delivered to the store and the digest; :meth:`ActionStore.record_muted`
  counts the revisions that did not ping.
* A **correction** is what a reader said the reading should have been (a toll, "not an
  incident", "a duplicate of that alert"); ``marsad feedback export`` turns them into
  evaluation cases.

Times are timezone-aware; they are stored as UTC epoch seconds (compared) and handed back as
aware UTC datetimes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from alerts.interactive.ids import Scope, scope_values
from marsad.records import Alert

__all__ = ["ACTIONS_FILE", "Ack", "ActionStore", "Correction", "CorrectionKind", "Mute", "Scope"]

#: The file, in ``Settings.home``.
ACTIONS_FILE = "alerts-actions.sqlite"

CorrectionKind = Literal["wrong_toll", "not_incident", "duplicate"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
CORRECTION_KINDS: tuple[CorrectionKind, ...] = get_args(CorrectionKind)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS acks (
        alert_id TEXT PRIMARY KEY,
        user     TEXT NOT NULL,
        at       REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS mutes (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        rule      TEXT NOT NULL,
        scope     TEXT NOT NULL CHECK (scope IN ('governorate', 'actor')),
        value     TEXT NOT NULL,
        until     REAL NOT NULL,
        by        TEXT NOT NULL,
        at        REAL NOT NULL,
        lifted_by TEXT,
        lifted_at REAL,
        origin    TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS mutes_by_rule ON mutes (rule, until)",
    """CREATE TABLE IF NOT EXISTS muted (
        alert_id TEXT    NOT NULL,
        revision INTEGER NOT NULL,
        at       REAL    NOT NULL,
        PRIMARY KEY (alert_id, revision)
    )""",
    "CREATE INDEX IF NOT EXISTS muted_by_time ON muted (at)",
    """CREATE TABLE IF NOT EXISTS corrections (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id     TEXT NOT NULL,
        incident_id  TEXT,
        article_ids  TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('wrong_toll', 'not_incident', 'duplicate')),
        killed       INTEGER,
        injured      INTEGER,
        duplicate_of TEXT,
        user         TEXT NOT NULL,
        at           REAL NOT NULL,
        note         TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS corrections_by_time ON corrections (at)",
    """CREATE TABLE IF NOT EXISTS alert_revisions (
        alert_id TEXT    NOT NULL,
        revision INTEGER NOT NULL,
        body     TEXT    NOT NULL,
        at       REAL    NOT NULL,
        PRIMARY KEY (alert_id, revision)
    )""",
    "CREATE INDEX IF NOT EXISTS alert_revisions_by_time ON alert_revisions (at)",
)


@dataclass(frozen=True)
class Ack:
    alert_id: str
    user: str
    at: datetime


@dataclass(frozen=True)
class Mute:
    id: int
    rule: str
    scope: Scope
    value: str
    until: datetime
    by: str
    at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    #: the alert whose message the mute was set from (its message shows the mute)
    origin: str | None = None

    def active(self, now: datetime) -> bool:
        return self.lifted_at is None and _epoch(now) < _epoch(self.until)


@dataclass(frozen=True)
class Correction:
    alert_id: str
    incident_id: str | None
    article_ids: tuple[str, ...]
    kind: CorrectionKind
    killed: int | None
    injured: int | None
    duplicate_of: str | None
    user: str
    at: datetime
    note: str = ""


def _epoch(at: datetime) -> float:
    """Aware datetimes only: a naive one would silently mean the machine's zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, got {at!r}")
    return at.timestamp()


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class ActionStore:
    """One SQLite file; one connection per instance, guarded by a lock (the Socket Mode
    handler and the notifier may share one instance across threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Other processes (the digest, a second notifier thread) write the same file.
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ActionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- the alerts the desk can act on ------------------------------------------------------
    def remember(self, alert: Alert, at: datetime) -> None:
        """Keep an alert revision: a click names only its id, and the handler needs the rule,
        the place, the incident and its articles — and, to redraw the message, the revision
        that message shows (a held-back revision must not appear in it unannounced)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO alert_revisions (alert_id, revision, body, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (alert_id, revision) DO UPDATE SET body = excluded.body,"
                " at = excluded.at",
                (alert.id, alert.revision, alert.to_json(), _epoch(at)),
            )

    def alert(self, alert_id: str, revision: int | None = None) -> Alert | None:
        """That revision of an alert, or its newest; None for an id never delivered here (or
        forgotten)."""
        if revision is None:
            rows = self._all(
                "SELECT body FROM alert_revisions WHERE alert_id = ?"
                " ORDER BY revision DESC LIMIT 1",
                (alert_id,),
            )
        else:
            rows = self._all(
                "SELECT body FROM alert_revisions WHERE alert_id = ? AND revision = ?",
                (alert_id, revision),
            )
        return Alert.from_json(rows[0][0]) if rows else None

    def forget_before(self, at: datetime) -> int:
        """Drop alert revisions remembered before ``at`` (acknowledgements, mutes and
        corrections stay: they are the record); the number dropped. A click on an alert
        forgotten this way answers that it has expired."""
        with self._lock:
            cur = self._db.execute("DELETE FROM alert_revisions WHERE at < ?", (_epoch(at),))
            return cur.rowcount

    # -- acknowledgements -------------------------------------------------------------------
    def acknowledge(self, alert_id: str, user: str, at: datetime) -> Ack:
        """Record that ``user`` took the alert; the first acknowledgement stands (returned)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO acks (alert_id, user, at) VALUES (?, ?, ?)"
                " ON CONFLICT (alert_id) DO NOTHING",
                (alert_id, user, _epoch(at)),
            )
        ack = self.acknowledgement(alert_id)
        assert ack is not None
        return ack

    def acknowledgement(self, alert_id: str) -> Ack | None:
        rows = self._all("SELECT alert_id, user, at FROM acks WHERE alert_id = ?", (alert_id,))
        return Ack(rows[0][0], rows[0][1], _at(rows[0][2])) if rows else None

    # -- mutes ------------------------------------------------------------------------------
    _MUTE_COLUMNS = "id, rule, scope, value, until, by, at, lifted_by, lifted_at, origin"

    @staticmethod
    def _mute(row: tuple[Any, ...]) -> Mute:
        return Mute(
            id=row[0],
            rule=row[1],
            scope=row[2],
            value=row[3],
            until=_at(row[4]),
            by=row[5],
            at=_at(row[6]),
            lifted_by=row[7],
            lifted_at=_time(row[8]),
            origin=row[9],
        )

    def mute(
        self,
        rule: str,
        scope: Scope,
        value: str,
        until: datetime,
        by: str,
        at: datetime,
        *,
        origin: str | None = None,
    ) -> Mute:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if _epoch(until) <= _epoch(at):
            raise ValueError("a mute must end after it starts")
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO mutes (rule, scope, value, until, by, at, origin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rule, scope, value, _epoch(until), by, _epoch(at), origin),
            )
            mute_id = cur.lastrowid
        found = self.get_mute(int(mute_id or 0))
        assert found is not None
        return found

    def get_mute(self, mute_id: int) -> Mute | None:
        rows = self._all(f"SELECT {self._MUTE_COLUMNS} FROM mutes WHERE id = ?", (mute_id,))
        return self._mute(rows[0]) if rows else None

    def lift(self, mute_id: int, by: str, at: datetime) -> bool:
        """End a mute now; False when there is no such mute or it was already lifted."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE mutes SET lifted_by = ?, lifted_at = ? WHERE id = ? AND lifted_at IS NULL",
                (by, _epoch(at), mute_id),
            )
            return cur.rowcount == 1

    def active_mutes(self, now: datetime) -> list[Mute]:
        """Mutes neither lifted nor expired at ``now``, the soonest to end first."""
        rows = self._all(
            f"SELECT {self._MUTE_COLUMNS} FROM mutes WHERE lifted_at IS NULL AND until > ?"
            " ORDER BY until, id",
            (_epoch(now),),
        )
        return [self._mute(r) for r in rows]

    def muting(self, alert: Alert, now: datetime) -> Mute | None:
        """The active mute that silences ``alert`` (the one that lasts longest), if any."""
        values = scope_values(alert)
        rows = self._all(
            f"SELECT {self._MUTE_COLUMNS} FROM mutes WHERE rule = ? AND lifted_at IS NULL"
            " AND until > ? ORDER BY until DESC, id",
            (alert.rule, _epoch(now)),
        )
        for row in rows:
            mute = self._mute(row)
            if mute.value in values.get(mute.scope, set()):
                return mute
        return None

    def record_muted(self, alert_id: str, revision: int, at: datetime) -> None:
        """Count a revision that was not posted because of a mute (once per revision)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO muted (alert_id, revision, at) VALUES (?, ?, ?)"
                " ON CONFLICT (alert_id, revision) DO NOTHING",
                (alert_id, revision, _epoch(at)),
            )

    def muted_count(self, since: datetime, until: datetime) -> int:
        """Muted revisions recorded in ``[since, until)``."""
        rows = self._all(
            "SELECT COUNT(*) FROM muted WHERE at >= ? AND at < ?", (_epoch(since), _epoch(until))
        )
        return int(rows[0][0])

    # -- corrections ------------------------------------------------------------------------
    def add_correction(self, c: Correction) -> None:
        if c.kind not in CORRECTION_KINDS:
            raise ValueError(f"kind must be one of {CORRECTION_KINDS}, got {c.kind!r}")
        with self._lock:
            self._db.execute(
                "INSERT INTO corrections (alert_id, incident_id, article_ids, kind, killed,"
                " injured, duplicate_of, user, at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c.alert_id,
                    c.incident_id,
                    json.dumps(list(c.article_ids)),
                    c.kind,
                    c.killed,
                    c.injured,
                    c.duplicate_of,
                    c.user,
                    _epoch(c.at),
                    c.note,
                ),
            )

    def corrections(self, since: datetime, until: datetime) -> list[Correction]:
        """Corrections made in ``[since, until)``, oldest first."""
        return self._corrections("at >= ? AND at < ?", (_epoch(since), _epoch(until)))

    def alert_corrections(self, alert_id: str) -> list[Correction]:
        """Every correction of one alert, oldest first (what its message shows)."""
        return self._corrections("alert_id = ?", (alert_id,))

    def _corrections(self, where: str, args: tuple[Any, ...]) -> list[Correction]:
        rows = self._all(
            "SELECT alert_id, incident_id, article_ids, kind, killed, injured, duplicate_of,"
            f" user, at, note FROM corrections WHERE {where} ORDER BY at, id",
            args,
        )
        return [
            Correction(
                alert_id=r[0],
                incident_id=r[1],
                article_ids=tuple(json.loads(r[2])),
                kind=r[3],
                killed=r[4],
                injured=r[5],
                duplicate_of=r[6],
                user=r[7],
                at=_at(r[8]),
                note=r[9],
            )
            for r in rows
        ]
