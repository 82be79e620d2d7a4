"""The HTML pages: the map, the timeline and an incident's page (server-rendered, read-only).

Each handler reads the view from the URL (:mod:`desk.web.params`), asks the source, lays the
picture out with the pure modules (:mod:`desk.web.geo`, :mod:`desk.web.timeline`,
:mod:`desk.web.evidence`) and hands the template plain values; templates decide nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from desk.store.records import ArticleRow, DailyCount, IncidentDetail
from desk.web import evidence, geo, timeline
from desk.web.context import Desk, desk_of
from desk.web.params import View
from desk.web.templates import render
from desk.web.thresholds import Threshold
from marsad.records import ACTOR_CODES, EVENT_TYPES
from marsad.vocabulary import actor_name, governorate_name

#: the incidents listed under the map (newest first); the map draws them all
TABLE_ROWS = 200


def governorate_label(code: str | None) -> str:
    if not code:
        return "—"
    return governorate_name(code) or geo.governorate_names().get(code, (code, ""))[0]


def key_label(stack: str) -> Callable[[str], str]:
    """How the timeline names a stack's key (a governorate or an actor)."""
    if stack == "admin1":
        return governorate_label
    return actor_name


def _form(view: View) -> dict[str, Any]:
    """The filter form's choices and current values."""
    outlines = sorted(geo.outlines(), key=lambda o: (o.country, governorate_label(o.admin1)))
    return {
        "view": view,
        "query": view.query(),
        "governorates": [(o.country, o.admin1, governorate_label(o.admin1)) for o in outlines],
        "actors": [(code, actor_name(code)) for code in ACTOR_CODES],
        "event_types": list(EVENT_TYPES),
    }


def map_page(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request)
    points = desk.source.map_points(view.filter)
    total = len(points)
    if view.filter.limit is not None and total >= view.filter.limit:
        total = desk.source.count(view.filter)
    rows = desk.source.incidents(replace(view.filter, limit=TABLE_ROWS))
    markers, unplaced = geo.markers(points)
    return render(
        request,
        "map.html",
        page="map",
        rows=rows,
        total=total,
        drawn=len(points),
        marker_svg=geo.marker_svg(markers),
        unplaced=unplaced,
        outlines=geo.outlines(),
        frame=geo.frame(),
        tiles=geo.tiles(desk.tile_url) if desk.tile_url else [],
        event_classes=geo.EVENT_CLASSES,
        killed=sum(p.killed or 0 for p in points),
        governorate_label=governorate_label,
        actor_name=actor_name,
        **_form(view),
    )


def timeline_charts(
    desk: Desk, view: View, counts: Sequence[DailyCount]
) -> tuple[list[timeline.Chart], list[Threshold]]:
    """Both charts of a view, and the thresholds too long to draw on a per-day axis."""
    days = timeline.day_range(counts, view.filter.since, view.filter.until or desk.today())
    label = key_label(view.stack)
    fills = timeline.colours(counts, "incidents")  # one colour per key on both charts
    charts = [
        timeline.chart(counts, metric, days, desk.thresholds, name=label, fills=fills)
        for metric in ("incidents", "deaths")
    ]
    return charts, [t for t in desk.thresholds if not t.daily]


def timeline_page(request: Request) -> Response:
    desk = desk_of(request)
    view = desk.view(request)
    charts, longer = timeline_charts(desk, view, desk.source.daily_counts(view.filter, view.stack))
    return render(
        request,
        "timeline.html",
        page="timeline",
        charts=charts,
        longer=longer,
        # a bar of one governorate or actor links to the map of that day and key
        linkable={b.key for c in charts for b in c.bars} - {timeline.OTHER, timeline.UNKNOWN},
        **_form(view),
    )


def safe_link(url: str | None) -> str | None:
    """An article's link only when it is http(s): a ``javascript:`` or ``data:`` URL from a
    feed is shown as text, never made a link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _article_text(article: ArticleRow, detail: IncidentDetail) -> list[list[evidence.Segment]]:
    if not article.text:
        return []
    record = detail.current.record
    return evidence.paragraphs(evidence.mark(article.text, record.evidence, record.evidence_span))


def incident_page(request: Request) -> Response:
    desk = desk_of(request)
    incident_id = request.path_params["incident_id"]
    detail = desk.source.incident(incident_id)
    if detail is None:
        raise HTTPException(404, f"no incident {incident_id!r} in the store")
    record = detail.current.record
    articles = [(a, safe_link(a.url), _article_text(a, detail)) for a in detail.articles]
    return render(
        request,
        "incident.html",
        page="incident",
        detail=detail,
        row=detail.current,
        record=record,
        articles=articles,
        evidence_parts=[p for p in record.evidence.split(evidence.JOINER) if p.strip()],
        toll=timeline.toll_chart([(r.revision, r.killed) for r in detail.revisions]),
        governorate_label=governorate_label,
        actor_name=actor_name,
        event_class=geo.EVENT_CLASSES.get(record.event_type, "ev-other"),
    )
