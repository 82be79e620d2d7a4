"""Opening the store's database: the one place that turns ``Settings.database`` into an Engine.

SQLite (the embedded default, ``$MARSAD_HOME/marsad.db``) is opened in WAL mode, so the web
pages read while the store service writes, with foreign keys enforced (SQLite leaves them
off unless each connection asks) and a busy timeout rather than an immediate "database is
locked". PostgreSQL (``postgresql+psycopg://…``, docker-compose) needs nothing special.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from marsad.errors import ConfigError, MarsadError
from marsad.settings import Settings, get_settings


class DatabaseError(MarsadError):
    """The store's database cannot be opened or reached (the command says which, in a line)."""


#: How long a SQLite writer waits for another's lock before failing (seconds).
SQLITE_BUSY_TIMEOUT_S = 30


def open_engine(url: str | None = None, *, settings: Settings | None = None) -> Engine:
    """An Engine for ``url``, else ``settings.database`` (default: the process settings).

    A URL SQLAlchemy cannot read, or whose driver is not installed, is a :class:`ConfigError`
    naming ``MARSAD_DATABASE_URL`` (never printing a password)."""
    try:
        target = make_url(url or (settings or get_settings()).database)
        if target.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"MARSAD_DATABASE_URL: the store runs on sqlite or postgresql, "
                f"not {target.get_backend_name()!r}"
            )
        if target.get_backend_name() == "postgresql":
            return create_engine(target, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"MARSAD_DATABASE_URL: {exc}") from None
    if target.database and target.database != ":memory:":
        Path(target.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def redacted(engine: Engine) -> str:
    """The engine's URL for a log line: the password never printed."""
    return engine.url.render_as_string(hide_password=True)
