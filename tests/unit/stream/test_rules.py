from __future__ import annotations

from pathlib import Path

import pytest

from marsad.settings import PROJECT_ROOT
from stream.rules import (
    IncidentRule,
    RulesError,
    SurgeRule,
    WindowRule,
    civilians_killed,
    group_value,
    load_rules,
    metric_value,
    parse_duration,
    parse_rules,
)
from tests.unit.stream.helpers import incident

GOOD = """
rules:
  - name: deadly
    kind: incident
    when: {killed_gte: 10}
    severity:
      - {killed_gte: 10, level: warning}
      - {killed_gte: 50, level: critical}
  - name: dy-24h
    kind: window
    where: {admin1: [SY-DY]}
    metric: killed
    window: {type: hopping, size: 24h, step: 6h}
    threshold: 25
  - name: surge
    kind: surge
    window: {size: 1d}
"""


def test_shipped_rules_load() -> None:
    rules = load_rules(PROJECT_ROOT / "config" / "rules.yaml")
    assert any(r.name == "deadly-incident" for r in rules.incident_rules)
    assert rules.window_rules and rules.surge_rules


def test_kinds_and_durations() -> None:
    rules = parse_rules(GOOD)
    assert [type(r) for r in rules.rules] == [IncidentRule, WindowRule, SurgeRule]
    w = rules.window_rules[0]
    assert (w.window.size, w.window.step) == (86400, 6 * 3600)
    assert rules.surge_rules[0].window.size == 86400


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", 1800), ("24h", 86400), ("7d", 604800), ("1w", 604800), (90, 90.0)],
)
def test_parse_duration(text: object, expected: float) -> None:
    assert parse_duration(text) == expected


def _error(text: str) -> str:
    with pytest.raises(RulesError) as exc:
        parse_rules(text, "rules.yaml")
    return str(exc.value)


def test_error_names_line_rule_and_field() -> None:
    text = GOOD.replace("threshold: 25", "threshold: 0")
    line = text.splitlines().index("    threshold: 0") + 1
    msg = _error(text)
    assert f"rules.yaml:{line}:" in msg
    assert "rule #1 (dy-24h)" in msg
    assert "'threshold'" in msg


def test_unknown_field_is_an_error() -> None:
    msg = _error(GOOD.replace("when: {killed_gte: 10}", "when: {kiled_gte: 10}"))
    assert "rule #0 (deadly)" in msg and "kiled_gte" in msg


def test_unknown_actor_and_sub_event() -> None:
    assert "unknown actor code 'DAESH'" in _error(
        "rules:\n- {name: x, kind: incident, when: {perpetrator: [DAESH]}}\n"
    )
    assert "unknown sub_event_type" in _error(
        "rules:\n- {name: x, kind: incident, when: {sub_event_type: [Bombing]}}\n"
    )


def test_bad_duration_and_bad_hop() -> None:
    assert "bad duration" in _error(GOOD.replace("size: 24h", "size: 24x"))
    assert "whole multiple" in _error(GOOD.replace("step: 6h", "step: 7h"))
    assert "needs 'step'" in _error(GOOD.replace(", step: 6h", ""))


def test_unknown_kind_and_duplicates_and_not_yaml() -> None:
    assert "rule #0" in _error("rules:\n- {name: x, kind: weekly}\n")
    assert "duplicate rule name" in _error(
        "rules:\n- {name: x, kind: incident}\n- {name: x, kind: incident}\n"
    )
    assert "not valid YAML" in _error("rules: [\n")
    assert "expected a mapping" in _error("- 1\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "nope.yaml")


def test_filters() -> None:
    rules = parse_rules(
        """
rules:
  - name: suicide
    kind: incident
    when: {sub_event_type: [Suicide bomb]}
    severity: critical
  - name: civ-air
    kind: incident
    when: {sub_event_type: [Air/drone strike], civilians_killed_gte: 1}
  - name: isis-dy
    kind: incident
    when: {perpetrator: [ISIS], admin1: [SY-DY], event_type: [Battles], targets: [SYRIAN_GOV]}
"""
    )
    suicide, civ, isis = rules.incident_rules
    bomb = incident(
        event_type="Explosions/Remote violence", sub_event_type="Suicide bomb", killed=None
    )
    assert suicide.when.matches(bomb) and suicide.severity_for(bomb) == "critical"
    strike = incident(
        event_type="Explosions/Remote violence",
        sub_event_type="Air/drone strike",
        perpetrator="RUSSIA",
        targets=["CIVILIANS"],
        killed=3,
    )
    assert civ.when.matches(strike)
    assert not civ.when.matches(strike.model_copy(update={"killed": None}))
    assert isis.when.matches(incident())
    assert not isis.when.matches(incident(perpetrator="SDF"))
    assert not isis.when.matches(incident(location=None))


def test_severity_steps() -> None:
    rule = parse_rules(GOOD).incident_rules[0]
    assert rule.severity_for(incident(killed=12)) == "warning"
    assert rule.severity_for(incident(killed=64)) == "critical"


def test_civilians_killed() -> None:
    assert civilians_killed(incident(killed_by_actor={"CIVILIANS": 4, "ISIS": 2})) == 4
    assert civilians_killed(incident(targets=["CIVILIANS"], killed=7)) == 7
    assert civilians_killed(incident(targets=["CIVILIANS", "SDF"], killed=7)) == 0


def test_surge_definition() -> None:
    rule = parse_rules(
        "rules:\n- {name: s, kind: surge, window: {size: 1d}, baseline_windows: 4,"
        " factor: 3, min_count: 5}\n"
    ).surge_rules[0]
    assert rule.fires(6, [0, 0, 0, 0]) == (True, 0.0)  # floor 1.0 -> bar 3, min 5
    assert rule.fires(4, [0, 0, 0, 0])[0] is False  # under min_count
    assert rule.fires(8, [2, 4, 2, 4])[0] is False  # mean 3 -> bar 9
    assert rule.fires(9, [2, 4, 2, 4])[0] is True


def test_group_and_metric() -> None:
    rules = parse_rules(GOOD)
    w = rules.window_rules[0]
    assert group_value(w, incident()) == "SY-DY"
    assert group_value(w, incident(location=None)) == "UNKNOWN"
    assert metric_value(w, incident(killed=None)) == 0
    assert metric_value(rules.surge_rules[0], incident(killed=40)) == 1
