"""The one query the web desk adds to the store's read API: the map's points.

Why: a map of a busy week draws thousands of markers, and each needs nine columns, not the
whole record. ``desk.store.queries.incidents`` builds a full :class:`IncidentRow` (the stored
record's JSON included) per incident, which is what a listing or an export wants and several
times more than a marker does. This selects only the marker's columns, narrowed by the very
same filter code as every other query (``desk.store.queries.filtered``), so the map and the
listings can never disagree about what a filter means.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, select

from desk.store.queries import filtered
from desk.store.records import IncidentFilter
from desk.store.schema import IncidentCurrent as C
from desk.store.schema import IncidentRevision as R


class MapPoint(NamedTuple):
    """What one marker needs (a named tuple: a busy month's map builds thousands per page)."""

    id: str
    day: date | None
    event_type: str
    sub_event_type: str
    admin1: str | None
    place_en: str | None
    lat: float | None
    lon: float | None
    killed: int | None


def map_points(conn: Connection, f: IncidentFilter) -> list[MapPoint]:
    """The current incidents matching ``f`` as markers, newest day first (``limit`` kept)."""
    query = filtered(
        select(
            R.incident_id,
            C.day,
            R.event_type,
            R.sub_event_type,
            R.admin1,
            R.place_en,
            R.lat,
            R.lon,
            R.killed,
        )
        .select_from(R)
        .join(C, (C.incident_id == R.incident_id) & (C.revision == R.revision))
        .where(C.merged_into.is_(None)),
        f,
    ).order_by(C.day.desc().nulls_last(), R.updated_at.desc().nulls_last(), R.incident_id)
    if f.limit is not None:
        query = query.limit(f.limit)
    return [MapPoint(*row) for row in conn.execute(query)]
