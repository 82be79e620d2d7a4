"""The real :class:`~desk.web.source.DeskSource`: the store's read API over one Engine.

Each question opens a connection for its queries and gives it back (the pool keeps it), so a
page sees one consistent read and never holds the database between requests. The handlers
that call it are plain functions, which Starlette runs in its thread pool, so a slow query
never blocks the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from desk.store import queries
from desk.store.engine import open_engine
from desk.store.migrate import current, head, upgrade
from desk.store.records import (
    CountBy,
    DailyCount,
    IncidentDetail,
    IncidentFilter,
    IncidentRow,
)
from desk.web.queries import MapPoint, map_points

log = logging.getLogger(__name__)


class StoreSource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def incidents(self, flt: IncidentFilter) -> Sequence[IncidentRow]:
        with self.engine.connect() as conn:
            return queries.incidents(conn, flt)

    def count(self, flt: IncidentFilter) -> int:
        with self.engine.connect() as conn:
            return queries.incident_count(conn, flt)

    def map_points(self, flt: IncidentFilter) -> Sequence[MapPoint]:
        with self.engine.connect() as conn:
            return map_points(conn, flt)

    def incident(self, incident_id: str) -> IncidentDetail | None:
        with self.engine.connect() as conn:
            return queries.incident_detail(conn, incident_id)

    def daily_counts(self, flt: IncidentFilter, by: CountBy) -> Sequence[DailyCount]:
        with self.engine.connect() as conn:
            return queries.daily_counts(conn, flt, by)

    def close(self) -> None:
        self.engine.dispose()


def open_source(url: str) -> StoreSource:
    """The store at ``url``, brought to the current schema first (idempotent), so the pages
    start, empty, before the store service has written anything.

    ``marsad up`` and compose start the store service beside this one, and both migrate a new
    database: when the other wins that race, this one's migration fails on tables that now
    exist, and the database is at the schema it wanted, so that failure is not an error."""
    engine = open_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError:
        if current(engine) != head():
            raise
        log.info("the store's schema was migrated by another process meanwhile")
    return StoreSource(engine)
