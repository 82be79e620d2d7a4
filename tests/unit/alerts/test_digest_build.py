"""The digest's figures on constructed incidents, with a fixed clock (08:00 in Damascus)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.digest.build import NO_PLACE, build_digest, change, event_time, latest_revisions
from alerts.digest.layout import percent
from tests.support.digest_samples import DAMASCUS, MORNING, Fix, incident, place

HOUR = timedelta(hours=1)


def test_the_five_deadliest_in_order_and_nothing_without_deaths() -> None:
    incs = [incident(f"i{k}", k, MORNING - k * HOUR) for k in range(1, 8)]
    incs.append(incident("none", 0, MORNING - HOUR))
    incs.append(incident("untold", None, MORNING - HOUR))
    # a tie on deaths is broken by the injured
    incs.append(incident("tie", 5, MORNING - 9 * HOUR, injured=40))
    digest = build_digest(incs, MORNING, DAMASCUS)
    assert [r.incident.id for r in digest.deadliest] == ["i7", "i6", "tie", "i5", "i4"]
    assert digest.day.incidents == 10
    assert digest.day.killed == sum(range(1, 8)) + 5


def test_latest_revision_counts_once_and_merged_incidents_are_left_out() -> None:
    at = MORNING - 2 * HOUR
    revised = [incident("a", 12, at, revision=2), incident("a", 3, at, revision=1)]
    merged = [incident("b", 7, at, revision=1), incident("b", 7, at, revision=2, merged_into="c")]
    survivor = incident("c", 9, at, revision=3)
    assert {i.id: i.killed for i in latest_revisions([*revised, *merged, survivor])} == {
        "a": 12,
        "c": 9,
    }
    digest = build_digest([*revised, *merged, survivor], MORNING, DAMASCUS)
    assert (digest.day.incidents, digest.day.killed) == (2, 21)


def test_the_24_hours_end_at_the_digest_time_in_its_zone() -> None:
    start = MORNING - timedelta(hours=24)  # 08:00 Damascus on Tuesday = 05:00 UTC
    incs = [
        incident("at-start", 1, start),  # included: [start, end)
        incident("before-start", 10, start - timedelta(seconds=1)),
        incident("at-end", 100, MORNING),  # the next digest's
        incident("late-evening", 1000, datetime(2026, 12, 1, 23, 59, tzinfo=DAMASCUS)),
        incident("after-midnight", 10000, datetime(2026, 12, 2, 0, 1, tzinfo=DAMASCUS)),
    ]
    digest = build_digest(incs, MORNING, DAMASCUS)
    assert digest.local_date == date(2026, 12, 2)
    assert digest.start == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert digest.end == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    assert digest.day.killed == 1 + 1000 + 10000


def test_a_digest_just_after_midnight_in_damascus_is_the_new_local_day() -> None:
    # 00:30 in Damascus is still the previous day in UTC (21:30)
    just_after = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    digest = build_digest([], just_after, DAMASCUS)
    assert digest.local_date == date(2026, 12, 2)
    assert build_digest([], just_after, ZoneInfo("UTC")).local_date == date(2026, 12, 1)


def test_event_time_is_the_event_day_but_never_after_the_first_report() -> None:
    early = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 07:00 in Damascus
    dated_today = incident("d", 3, early, occurred_on="2026-12-02")
    assert event_time(dated_today) == early  # not noon UTC, which is after the digest
    dated_before = incident("e", 3, early, occurred_on="2026-11-30")
    assert event_time(dated_before) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert event_time(incident("f", 3, None, occurred_on="2026-12-01")) == datetime(
        2026, 12, 1, 12, 0, tzinfo=UTC
    )
    digest = build_digest([dated_today, dated_before, incident("g", 5, None)], MORNING, DAMASCUS)
    assert [r.incident.id for r in digest.deadliest] == ["d"]
    assert digest.undated == 1


def test_week_over_week_compares_the_last_7_days_with_the_7_before() -> None:
    day = timedelta(days=1)
    incs = [
        incident("w1", 10, MORNING - 2 * HOUR),
        incident("w2", 20, MORNING - 3 * day),
        incident("w3", 30, MORNING - 7 * day + HOUR),
        incident("p1", 40, MORNING - 7 * day - HOUR),
        incident("p2", 80, MORNING - 13 * day),
        incident("old", 500, MORNING - 15 * day),
    ]
    digest = build_digest(incs, MORNING, DAMASCUS)
    assert (digest.week.incidents, digest.week.killed) == (3, 60)
    assert (digest.previous_week.incidents, digest.previous_week.killed) == (2, 120)
    assert change(3, 2) == 50.0
    assert percent(3, 2) == "+50%"
    assert percent(60, 120) == "\u221250%"
    assert percent(4, 0) == "new"
    assert percent(5, 5) == "no change"


def test_groups_by_governorate_and_perpetrator_with_display_names() -> None:
    at = MORNING - HOUR
    incs = [
        incident("a", 5, at, location=place("SY-DY"), perpetrator="ISIS"),
        incident("b", 7, at, location=place("SY-DY"), perpetrator="TURKEY"),
        incident("c", 1, at, location=place("SY-HL"), perpetrator="ISIS"),
        incident("d", 2, at, location=None, perpetrator="UNKNOWN"),
    ]
    digest = build_digest(incs, MORNING, DAMASCUS)
    govs = [(g.code, g.name, g.incidents, g.killed) for g in digest.by_governorate]
    assert govs == [
        ("SY-DY", "Deir ez-Zor", 2, 12),
        ("", NO_PLACE, 1, 2),
        ("SY-HL", "Aleppo", 1, 1),
    ]
    sides = {g.code: (g.incidents, g.killed) for g in digest.by_perpetrator}
    assert sides == {"ISIS": (2, 6), "TURKEY": (1, 7), "UNKNOWN": (1, 2)}
    assert digest.by_perpetrator[0].name != "TURKEY"  # a display name, not the code


def test_muted_count_and_only_the_days_corrections() -> None:
    fixes = [
        Fix("x2", "not_incident", MORNING - 2 * HOUR),
        Fix("x1", "wrong_toll", MORNING - 20 * HOUR, killed=4),
        Fix("old", "duplicate", MORNING - 30 * HOUR, duplicate_of="x1"),
        Fix("next", "duplicate", MORNING + HOUR),
    ]
    digest = build_digest([], MORNING, DAMASCUS, muted=3, corrections=fixes)
    assert digest.muted == 3
    assert [c.alert_id for c in digest.corrections] == ["x1", "x2"]
