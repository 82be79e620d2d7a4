"""Bringing a database to the store's schema: Alembic, run from code, shipped in the package.

Why Alembic rather than ``metadata.create_all``: a store lives for months while the schema
grows, and ``create_all`` never alters a table that already exists. The migrations are in
``desk/store/migrations`` (installed with the package), so ``marsad store --migrate`` and the
service's own start-up need no ``alembic.ini`` in the working directory.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)

#: Alembic announces each plugin it sets up (on import) at INFO: noise in every start's log.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for ``engine``'s database (the engine rides along to env.py)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head() -> str:
    """The newest revision the package ships."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_script_config()).get_heads()
    return heads[0]


def current(engine: Engine) -> str | None:
    """The revision ``engine``'s database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Migrate ``engine``'s database to the newest revision; return it. Idempotent.

    Alembic's own INFO lines (plugins set up, the dialect's DDL mode) are held back while it
    runs: the one line logged here says what changed."""
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, level))
    try:
        before = current(engine)
        target = head()
        if before != target:
            from alembic import command

            command.upgrade(alembic_config(engine), "head")
    finally:
        alembic_log.setLevel(level)
    if before != target:
        log.info("store schema migrated from %s to %s", before or "empty", target)
    return target


def ready(engine: Engine) -> str:
    """:func:`upgrade`, with a database that cannot be reached ending as one line
    (:class:`desk.store.engine.DatabaseError`, the password hidden) rather than a traceback."""
    from sqlalchemy.exc import OperationalError

    from desk.store.engine import DatabaseError, redacted

    try:
        return upgrade(engine)
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseError(f"cannot open the database {redacted(engine)}: {reason}") from None


def _script_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
