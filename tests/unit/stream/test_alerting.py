from __future__ import annotations

from marsad.records import StoredIncident
from stream.alerting import choose_window, incident_alerts, window_alert, window_alert_id
from stream.merge import merge_into, new_incident
from stream.rules import parse_rules
from tests.unit.stream.helpers import NOW, candidate

RULES = parse_rules(
    """
rules:
  - {name: deadly, kind: incident, when: {killed_gte: 10}}
  - {name: any-isis, kind: incident, when: {perpetrator: [ISIS]}, severity: info}
  - name: w
    kind: window
    metric: killed
    window: {type: hopping, size: 24h, step: 6h}
    threshold: 25
  - {name: s, kind: surge, window: {size: 1d}}
"""
)


def test_first_alert_then_revision_with_same_id() -> None:
    inc = new_incident(candidate("a1", killed=30), NOW)
    first = incident_alerts(RULES.incident_rules, inc, {}, [], NOW)
    assert [(a.id, a.revision) for a, _ in first] == [
        (f"deadly:{inc.id}", 1),
        (f"any-isis:{inc.id}", 1),
    ]
    fired = {a.id: state for a, state in first}
    result = merge_into(inc, candidate("a2", "Orient", killed=64), NOW)
    second = incident_alerts(RULES.incident_rules, result.incident, fired, result.changes, NOW)
    assert [(a.id, a.revision) for a, _ in second] == [
        (f"deadly:{inc.id}", 2),
        (f"any-isis:{inc.id}", 2),
    ]
    assert second[0][0].changes == ["killed 30→64"]
    assert second[0][0].incident is not None and second[0][0].incident.killed == 64
    # the same incident revision again (redelivery): nothing
    fired.update({a.id: state for a, state in second})
    assert incident_alerts(RULES.incident_rules, result.incident, fired, [], NOW) == []


def test_rule_that_starts_matching_later_fires_revision_one() -> None:
    inc = new_incident(candidate("a1", killed=3), NOW)
    fired = {a.id: s for a, s in incident_alerts(RULES.incident_rules, inc, {}, [], NOW)}
    assert list(fired) == [f"any-isis:{inc.id}"]
    up = merge_into(inc, candidate("a2", killed=12), NOW).incident
    out = incident_alerts(RULES.incident_rules, up, fired, ["killed 3→12"], NOW)
    assert {(a.rule, a.revision) for a, _ in out} == {("deadly", 1), ("any-isis", 2)}


def test_background_never_fires() -> None:
    inc = new_incident(candidate("a1", killed=90, background=True), NOW)
    assert incident_alerts(RULES.incident_rules, inc, {}, [], NOW) == []


def test_summaries_in_both_languages() -> None:
    inc = new_incident(candidate("a1", killed=64), NOW)
    alert = incident_alerts(RULES.incident_rules, inc, {}, [], NOW)[0][0]
    assert "64 killed" in alert.summary_en and "Al-Bukamal" in alert.summary_en
    assert "64 قتيلاً" in alert.summary_ar and "البوكمال" in alert.summary_ar
    # A summary stored at extraction is not what the alert says: its fields are.
    inc2 = inc.model_copy(update={"summary_en": "Unidentified attackers attack: 3 killed"})
    alert2 = incident_alerts(RULES.incident_rules, inc2, {}, [], NOW)[0][0]
    assert alert2.summary_en == alert.summary_en


def test_choose_window_one_episode_per_overlap() -> None:
    h = 3600.0
    totals = [((0.0, 24 * h), 30), ((6 * h, 30 * h), 30), ((12 * h, 36 * h), 10)]
    assert choose_window(totals, 25, []) == (0.0, 24 * h)
    assert choose_window(totals, 25, [[0.0, 24 * h]]) is None  # overlapping ones stay quiet
    assert choose_window([((24 * h, 48 * h), 26)], 25, [[0.0, 24 * h - 0.1]]) == (24 * h, 48 * h)
    assert choose_window(totals, 31, []) is None


def test_window_alert_shape() -> None:
    rule = RULES.window_rules[0]
    alert = window_alert(rule, "SY-DY", (0.0, 86400.0), 31, ["i2", "i1"], NOW)
    assert alert.id == window_alert_id("w", "SY-DY", 0.0) == "w:SY-DY:1970-01-01T00:00:00Z"
    assert alert.kind == "window" and alert.incident_ids == ["i1", "i2"]
    assert alert.window is not None and alert.window["threshold"] == 25
    assert "31 killed" in alert.summary_en
    surge = window_alert(RULES.surge_rules[0], "SY-DY", (0.0, 86400.0), 9, ["i"], NOW, 1.5)
    assert surge.kind == "surge" and surge.window is not None
    assert surge.window["baseline_mean"] == 1.5


def _absorbed(inc: StoredIncident, into: str) -> StoredIncident:
    """The twin's last revision as the stream sends it once merged into ``into``."""
    data = {**inc.model_dump(), "merged_into": into, "revision": inc.revision + 1}
    return StoredIncident.model_validate(data)


def test_twin_alert_gets_one_last_revision_pointing_to_the_survivor() -> None:
    twin = new_incident(candidate("a1", killed=3), NOW)  # fired any-isis only
    fired = {a.id: s for a, s in incident_alerts(RULES.incident_rules, twin, {}, [], NOW)}
    assert list(fired) == [f"any-isis:{twin.id}"]
    gone = _absorbed(twin, "inc-survivor")
    out = incident_alerts(RULES.incident_rules, gone, fired, ["merged"], NOW)
    ((alert, state),) = out  # deadly never fired for the twin: nothing new fires
    assert alert.id == f"any-isis:{twin.id}" and alert.revision == 2
    assert alert.merged_into == "any-isis:inc-survivor"
    assert alert.changes == ["merged into any-isis:inc-survivor"]
    assert alert.incident is not None and alert.incident.id == twin.id
    assert state == {"revision": 2, "incident_revision": gone.revision, "merged": 1}
    # redelivered, or revised again later: the merge revision was the last one
    fired.update({alert.id: state})
    assert incident_alerts(RULES.incident_rules, gone, fired, [], NOW) == []
    later = gone.model_copy(update={"merged_into": None, "revision": gone.revision + 1})
    assert incident_alerts(RULES.incident_rules, later, fired, [], NOW) == []


def test_twin_alert_merges_even_if_its_rule_no_longer_matches() -> None:
    twin = new_incident(candidate("a1", killed=30, perpetrator="UNKNOWN"), NOW)
    fired = {a.id: s for a, s in incident_alerts(RULES.incident_rules, twin, {}, [], NOW)}
    assert list(fired) == [f"deadly:{twin.id}"]
    gone = _absorbed(twin.model_copy(update={"killed": 3}), "inc-b")
    ((alert, _),) = incident_alerts(RULES.incident_rules, gone, fired, [], NOW)
    assert alert.merged_into == "deadly:inc-b" and alert.revision == 2


def test_an_unalerted_twin_fires_nothing() -> None:
    twin = new_incident(candidate("a1", killed=90), NOW)
    assert incident_alerts(RULES.incident_rules, _absorbed(twin, "x"), {}, [], NOW) == []
