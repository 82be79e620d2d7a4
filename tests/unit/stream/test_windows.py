"""Window and surge decisions (``stream.windows``), with plain dicts as the windowed state."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from stream.alerting import WindowRange
from stream.merge import new_incident
from stream.rules import SurgeRule, WindowRule, parse_rules
from stream.windows import (
    FIRED_KEPT,
    Members,
    parse_window_update,
    record_fired,
    retention,
    set_member,
    surge_baseline_windows,
    window_firing,
    window_key,
    window_updates,
    windowed_rules,
    windows_at,
    windows_to_forget,
)
from tests.unit.stream.helpers import NOW, candidate

DAY = 86400.0
RULES = parse_rules(
    """
rules:
  - {name: deadly, kind: incident, when: {killed_gte: 10}}
  - name: gov-killed
    kind: window
    metric: killed
    window: {type: hopping, size: 24h, step: 6h}
    threshold: 25
  - name: isis-count
    kind: window
    where: {perpetrator: [ISIS]}
    group_by: perpetrator
    window: {size: 1d}
    threshold: 2
  - name: surge
    kind: surge
    window: {size: 1d}
    baseline_windows: 3
    factor: 2
    min_count: 3
"""
)
BY_NAME = windowed_rules(RULES)
HOPPING = BY_NAME["gov-killed"]
TUMBLING = BY_NAME["isis-count"]


def _surge() -> SurgeRule:
    rule = BY_NAME["surge"]
    assert isinstance(rule, SurgeRule)
    return rule


SURGE = _surge()
assert isinstance(HOPPING, WindowRule)

#: Event times inside day 100 (days since the epoch) and the day's tumbling window.
T = 100 * DAY + 3600.0
TODAY = windows_at(SURGE, T)[0]


def reader(data: Mapping[WindowRange, Mapping[str, int]]) -> Members:
    """Windows from a dict; a window never written reads as empty, like the table's default."""
    return lambda rng: data.get(rng, {})


def day_window(day_offset: int) -> WindowRange:
    """The tumbling day window ``day_offset`` days from TODAY."""
    return windows_at(SURGE, TODAY[0] + day_offset * DAY + 1.0)[0]


def members(n: int, prefix: str = "i") -> dict[str, int]:
    return {f"{prefix}{k}": 1 for k in range(n)}


# ---------------------------------------------------------------- updates


def test_windowed_rules_are_the_window_and_surge_rules_by_name() -> None:
    assert list(BY_NAME) == ["gov-killed", "isis-count", "surge"]


def test_window_updates_only_for_matching_rules_with_group_and_metric() -> None:
    inc = new_incident(candidate("a1", killed=30), NOW)
    updates = window_updates(BY_NAME.values(), inc)
    assert [(u.rule, u.group, u.value) for u in updates] == [
        ("gov-killed", "SY-DY", 30),
        ("isis-count", "ISIS", 1),
        ("surge", "SY-DY", 1),
    ]
    other = new_incident(candidate("a2", perpetrator="SDF", targets=["ISIS"]), NOW)
    assert "isis-count" not in {u.rule for u in window_updates(BY_NAME.values(), other)}


def test_window_update_wire_format_and_round_trip() -> None:
    inc = new_incident(candidate("a1", killed=30), NOW)
    update = window_updates([HOPPING], inc)[0]
    assert update.key == window_key("gov-killed", "SY-DY") == "gov-killed|SY-DY"
    assert json.loads(update.to_bytes()) == {
        "rule": "gov-killed",
        "group": "SY-DY",
        "incident_id": inc.id,
        "value": 30,
    }
    assert list(json.loads(update.to_bytes())) == ["rule", "group", "incident_id", "value"]
    rule, parsed = parse_window_update(update.to_bytes(), BY_NAME)
    assert rule is HOPPING and parsed == update


def test_parse_window_update_rejects_unknown_rule_and_bad_values() -> None:
    with pytest.raises(KeyError):
        parse_window_update(
            b'{"rule": "gone", "group": "g", "incident_id": "i", "value": 1}', BY_NAME
        )
    with pytest.raises(ValueError):
        parse_window_update(
            b'{"rule": "surge", "group": "g", "incident_id": "i", "value": "x"}', BY_NAME
        )
    with pytest.raises(ValueError):
        parse_window_update(b"not json", BY_NAME)


def test_set_member_replaces_the_incident_value_in_a_fresh_dict() -> None:
    old = {"a": 1, "b": 5}
    new = set_member(old, ("b", 9))
    assert new == {"a": 1, "b": 9}
    assert old == {"a": 1, "b": 5}  # the changelog must see a new value, not a mutated one
    assert set_member(None, ("a", 2)) == {"a": 2}
    assert set_member(set_member(None, ("a", 2)), ("a", 2)) == {"a": 2}  # redelivery: no double


# ---------------------------------------------------------------- geometry and retention


def test_window_geometry_is_hopping_or_tumbling_per_rule() -> None:
    assert len(windows_at(HOPPING, T)) == 4  # 24 h windows every 6 h
    assert len(windows_at(TUMBLING, T)) == 1
    start, end = TODAY
    assert start <= T <= end and start == 100 * DAY


def test_retention_covers_a_surge_baseline() -> None:
    assert retention(SURGE) == DAY * (3 + 2)
    assert retention(HOPPING) == DAY * 3
    forgotten = windows_to_forget(SURGE, T)
    assert forgotten == [day_window(-5)]
    # nothing a surge still reads is forgotten
    assert not set(forgotten) & {TODAY, *surge_baseline_windows(SURGE, TODAY)}


def test_surge_baseline_is_the_previous_windows_nearest_first() -> None:
    assert surge_baseline_windows(SURGE, TODAY) == [day_window(-1), day_window(-2), day_window(-3)]
    # adjacent: each ends just before the next one starts
    base = surge_baseline_windows(SURGE, TODAY)
    assert all(abs(b[0] + DAY - a[0]) < 1e-6 for a, b in zip([TODAY, *base], base, strict=False))


# ---------------------------------------------------------------- surge


def test_surge_fires_over_factor_times_the_baseline_mean() -> None:
    data = {TODAY: members(6), day_window(-1): members(1), day_window(-2): members(2)}
    firing = window_firing(SURGE, "SY-DY", T, reader(data), [], NOW)
    assert firing is not None
    assert firing.window == TODAY
    assert firing.alert.kind == "surge"
    assert firing.alert.window is not None
    assert firing.alert.window["total"] == 6
    assert firing.alert.window["baseline_mean"] == 1.0  # (1 + 2 + 0) / 3: a missing day is 0
    assert firing.alert.id == "surge:SY-DY:1970-04-11T00:00:00Z"
    assert firing.fired == [list(TODAY)]


def test_surge_stays_silent_when_the_baseline_is_high() -> None:
    data = {TODAY: members(6), day_window(-1): members(5), day_window(-3): members(5)}
    assert window_firing(SURGE, "SY-DY", T, reader(data), [], NOW) is None  # 6 < 2 * 10/3
    data[day_window(-1)] = members(4)
    assert window_firing(SURGE, "SY-DY", T, reader(data), [], NOW) is not None  # 6 >= 2 * 3


def test_surge_baseline_ignores_windows_before_it_and_the_current_one() -> None:
    # a busy day four windows back is outside a 3-window baseline
    data = {TODAY: members(4), day_window(-4): members(50)}
    firing = window_firing(SURGE, "SY-DY", T, reader(data), [], NOW)
    assert firing is not None and firing.alert.window is not None
    assert firing.alert.window["baseline_mean"] == 0.0


def test_surge_baseline_floor_and_min_count() -> None:
    # empty baseline: mean 0 floors at 1.0, so 2 would clear 2 * 1, but min_count is 3
    assert window_firing(SURGE, "SY-DY", T, reader({TODAY: members(2)}), [], NOW) is None
    assert window_firing(SURGE, "SY-DY", T, reader({TODAY: members(3)}), [], NOW) is not None


def test_surge_fires_once_per_window() -> None:
    data = {TODAY: members(6)}
    first = window_firing(SURGE, "SY-DY", T, reader(data), [], NOW)
    assert first is not None
    data[TODAY] = members(9)
    assert window_firing(SURGE, "SY-DY", T + 60, reader(data), first.fired, NOW) is None
    # the next day is a new window
    tomorrow = day_window(1)
    data[tomorrow] = members(20, "j")
    nxt = window_firing(SURGE, "SY-DY", tomorrow[0] + 1, reader(data), first.fired, NOW)
    assert nxt is not None and nxt.window == tomorrow
    assert nxt.fired == [list(TODAY), list(tomorrow)]


def test_surge_members_are_the_current_window_incidents() -> None:
    data = {TODAY: {"b": 1, "a": 1, "c": 1}, day_window(-1): {"old": 1}}
    firing = window_firing(SURGE, "SY-DY", T, reader(data), [], NOW)
    assert firing is not None and firing.alert.incident_ids == ["a", "b", "c"]


# ---------------------------------------------------------------- window rules


def test_window_rule_fires_at_threshold_on_the_earliest_window() -> None:
    ranges = windows_at(HOPPING, T)
    data = {r: {"a": 20, "b": 10} for r in ranges[1:]}
    data[ranges[0]] = {"a": 20}
    firing = window_firing(HOPPING, "SY-DY", T, reader(data), [], NOW)
    assert firing is not None
    assert firing.window == ranges[1]  # the earliest at or over 25
    assert firing.alert.window is not None and firing.alert.window["total"] == 30
    assert firing.alert.window["threshold"] == 25
    assert sorted(firing.alert.incident_ids) == ["a", "b"]


def test_window_rule_below_threshold_and_overlapping_fired_window_stay_silent() -> None:
    ranges = windows_at(HOPPING, T)
    assert window_firing(HOPPING, "g", T, reader({r: {"a": 24} for r in ranges}), [], NOW) is None
    hot = reader({r: {"a": 30} for r in ranges})
    first = window_firing(HOPPING, "g", T, hot, [], NOW)
    assert first is not None
    # every window containing T overlaps the one alerted: one episode, one alert
    assert window_firing(HOPPING, "g", T, hot, first.fired, NOW) is None


def test_record_fired_keeps_the_last_windows() -> None:
    fired: list[list[float]] = [[float(k), float(k) + 1] for k in range(FIRED_KEPT)]
    out = record_fired(fired, (1000.0, 1001.0))
    assert len(out) == FIRED_KEPT
    assert out[-1] == [1000.0, 1001.0] and out[0] == [1.0, 2.0]
    assert len(fired) == FIRED_KEPT  # the stored list is not mutated
