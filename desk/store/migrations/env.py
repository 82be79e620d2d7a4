"""Alembic's entry point: migrate the engine ``desk.store.migrate`` hands over.

Online only (a live connection): the store never writes SQL scripts for someone else to run.
SQLite alters tables in "batch" mode (copy and move), since it has no ALTER for most changes.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from desk.store.schema import metadata

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
