"""The machine-readable side: JSON, GeoJSON and the ACLED CSV, for the same views as the pages.

Every endpoint takes the pages' query parameters (:mod:`desk.web.params`), so a map a person
is looking at is the GeoJSON a script downloads by changing the path. Records become JSON
through pydantic's encoder (dates as ISO strings, the stored records as the topic carried
them); the GeoJSON and CSV are the store's own exports (:mod:`desk.export`), so the web and
``marsad export`` never disagree about a column.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from pydantic_core import to_jsonable_python
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desk.export import geojson, write_csv
from desk.store.records import IncidentFilter, IncidentRow
from desk.web.context import desk_of
from desk.web.pages import timeline_charts


def row_json(row: IncidentRow) -> dict[str, Any]:
    """An incident's listing entry: its columns and its page's path (not the whole record)."""
    data = {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name != "raw"}
    data["url"] = f"/incidents/{row.id}"
    out: dict[str, Any] = to_jsonable_python(data)
    return out


def filter_json(flt: IncidentFilter) -> dict[str, Any]:
    out: dict[str, Any] = to_jsonable_python(dataclasses.asdict(flt))
    return out


def incidents(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request)
    rows = desk.source.incidents(view.filter)
    return JSONResponse(
        {
            "filter": filter_json(view.filter),
            "count": len(rows),
            "incidents": [row_json(r) for r in rows],
        }
    )


def incident(request: Request) -> Response:
    incident_id = request.path_params["incident_id"]
    detail = desk_of(request).source.incident(incident_id)
    if detail is None:
        raise HTTPException(404, f"no incident {incident_id!r} in the store")
    body = to_jsonable_python(detail, by_alias=True)
    body["current"]["url"] = f"/incidents/{detail.current.id}"
    return JSONResponse(body)


def timeline(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request)
    counts = desk.source.daily_counts(view.filter, view.stack)
    charts, _longer = timeline_charts(desk, view, counts)
    return JSONResponse(
        {
            "filter": filter_json(view.filter),
            "stack": view.stack,
            "counts": to_jsonable_python(list(counts)),
            "totals": {c.metric: c.total for c in charts},
            "thresholds": to_jsonable_python(list(desk.thresholds)),
        }
    )


def incidents_geojson(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request)
    rows = desk.source.incidents(view.filter)
    return JSONResponse(geojson(rows), media_type="application/geo+json")


def export_csv(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request, limit=False)
    rows = desk.source.incidents(view.filter)
    out = io.StringIO()
    write_csv(rows, out)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="marsad-acled.csv"'},
    )
