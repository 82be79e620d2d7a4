"""The map's markers are written as SVG by ``geo.marker_svg`` (not the template, for speed):
what comes from the store is escaped there, and the markup is what the template wrote."""

from __future__ import annotations

import re
from datetime import date

from desk.web import geo
from desk.web.queries import MapPoint

NASTY = '"><script>alert(1)</script><a href="javascript:x'


def point(incident_id: str, **fields: object) -> MapPoint:
    values: dict[str, object] = {
        "id": incident_id,
        "day": date(2026, 3, 14),
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "admin1": "SY-DY",
        "place_en": "Al-Mayadin",
        "lat": 35.02,
        "lon": 40.45,
        "killed": 14,
    }
    values.update(fields)
    return MapPoint(**values)  # type: ignore[arg-type]


def test_each_marker_links_to_its_page_with_its_class_place_and_title() -> None:
    drawn, unplaced = geo.markers([point("inc-a"), point("inc-b", lat=None, killed=None)])
    svg = str(geo.marker_svg(drawn))
    assert unplaced == 0
    circles = re.findall(r'<a href="/incidents/([^"]+)"><circle class="([^"]+)" data-id="\1"', svg)
    assert circles == [("inc-a", "marker ev-battles"), ("inc-b", "marker ev-battles approximate")]
    assert "<title>2026-03-14 · Armed clash · Al-Mayadin · 14 killed</title>" in svg
    a = drawn[0]
    assert f'cx="{a.x}" cy="{a.y}" r="{a.r}"' in svg


def test_what_comes_from_the_store_is_escaped() -> None:
    drawn, _ = geo.markers([point(NASTY, place_en=NASTY)])
    svg = str(geo.marker_svg(drawn))
    assert "<script>" not in svg and 'href="javascript' not in svg
    assert "&quot;&gt;&lt;script&gt;" in svg
    assert svg.count("<a ") == 1 and svg.count("<circle ") == 1 and svg.count("<title>") == 1
