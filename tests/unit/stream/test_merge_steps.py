"""The merge step (``stream.merge_step``): candidates, merge outcome, index update."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marsad.records import Article, Extraction, Location
from stream.alerting import (
    fired_entries,
    incident_alert_ids,
    incident_alerts,
    known_alerts,
    living_alerts,
)
from stream.merge import MergeConfig, ids_near, index_entry, new_incident
from stream.merge_step import (
    candidates_of,
    governorate,
    index_entries,
    index_update,
    merge_candidate,
)
from stream.rules import parse_rules
from tests.unit.stream.helpers import MAYADIN, NOW, candidate, incident

CFG = MergeConfig()
RULES = parse_rules(
    """
rules:
  - {name: deadly, kind: incident, when: {killed_gte: 10}}
  - {name: any-isis, kind: incident, when: {perpetrator: [ISIS]}, severity: info}
"""
)
LATER = datetime(2018, 6, 9, 18, 0, tzinfo=UTC)


def test_governorate_is_admin1_or_unknown() -> None:
    assert governorate(incident()) == "SY-DY"
    assert governorate(incident(location=None)) == "UNKNOWN"
    no_admin1 = Location(name_ar="قرية", name_en="A village")
    assert governorate(incident(location=no_admin1)) == "UNKNOWN"


def test_candidates_skip_background_and_keep_positions() -> None:
    article = Article(
        id="art-1",
        text="…",
        source="SOHR",
        url="https://example.org/art-1",
        published_at=datetime(2018, 6, 8, 9, 0, tzinfo=UTC),
    )
    incidents = [incident(background=True), incident(location=None), incident(location=MAYADIN)]
    out = list(candidates_of(article, Extraction(id="art-1", incidents=incidents)))
    # by country; the placeless one is told where its article's other incidents are
    assert [(key, c.index) for key, c in out] == [("SY", 1), ("SY", 2)]
    assert (out[0][1].country, out[1][1].country) == ("SY", None)
    first = out[0][1]
    assert (first.article_id, first.source, first.url) == ("art-1", "SOHR", article.url)
    assert first.published_at == article.published_at
    assert first.incident == incidents[1]


def test_a_report_without_a_place_meets_the_reports_of_the_country_it_names() -> None:
    """Item 4: any two reports that might tell one event must meet. A report naming no place
    is keyed by the country its words name ("القوات العراقية"), not left alone under
    ``UNKNOWN`` where nothing could ever merge with it; naming both countries as often, or
    neither, it stays ``UNKNOWN``."""

    def keys(text: str) -> list[str]:
        article = Article(
            id="a",
            text=text,
            source="x",
            url="https://example.org/a",
            published_at=datetime(2024, 8, 30, 9, 0, tzinfo=UTC),
        )
        extraction = Extraction(id="a", incidents=[incident(location=None)])
        return [key for key, _ in candidates_of(article, extraction)]

    assert keys("قتل 15 مسلحاً في عملية مشتركة للقوات العراقية والأمريكية في الصحراء") == ["IQ"]
    assert keys("قتل عنصران من قوات الحكومة السورية بهجوم في البادية") == ["SY"]
    assert keys("قتل عنصران بهجوم في البادية") == ["UNKNOWN"]
    assert keys("مقاتلون من العراق قتلوا في سوريا") == ["UNKNOWN"]


def test_index_entries_read_the_json_lists() -> None:
    assert index_entries([["inc-1", "2018-06-08"], ["inc-2", None]]) == [
        ("inc-1", "2018-06-08"),
        ("inc-2", None),
    ]
    assert index_entries([]) == []


def test_first_report_starts_an_incident() -> None:
    cand = candidate("a1")
    outcome = merge_candidate(cand, [], CFG, NOW)
    assert outcome.is_new and outcome.changed
    assert outcome.changes == []
    assert outcome.incident == new_incident(cand, NOW)
    assert outcome.decision.reasons == ["no open incident matches"]


def test_a_higher_toll_revises_the_matching_incident() -> None:
    held = new_incident(candidate("a1", killed=30), NOW)
    elsewhere = new_incident(candidate("b1", location=MAYADIN, killed=2), NOW)
    outcome = merge_candidate(candidate("a2", "Orient", killed=64), [elsewhere, held], CFG, LATER)
    assert not outcome.is_new and outcome.changed
    assert outcome.decision.incident_id == held.id
    assert outcome.incident.id == held.id
    assert outcome.incident.revision == 2
    assert outcome.incident.killed == 64
    assert outcome.incident.sources == ["SOHR", "Orient"]
    assert outcome.changes == ["killed 30→64"]
    assert outcome.incident.updated_at == LATER


def test_a_new_source_changes_without_revising() -> None:
    held = new_incident(candidate("a1", killed=30), NOW)
    outcome = merge_candidate(candidate("a2", "Orient", killed=30), [held], CFG, LATER)
    assert outcome.changed and outcome.changes == []
    assert outcome.incident.revision == 1
    assert outcome.incident.article_ids == ["a1", "a2"]


def test_a_report_already_held_changes_nothing() -> None:
    held = new_incident(candidate("a1", killed=30), NOW)
    outcome = merge_candidate(candidate("a1", killed=30), [held], CFG, LATER)
    assert not outcome.changed
    assert outcome.decision.reasons[0] == "article already merged here"
    assert outcome.incident.updated_at == held.updated_at


def test_index_update_adds_the_entry_once() -> None:
    inc = new_incident(candidate("a1"), NOW)
    up = index_update([], inc, CFG)
    assert up is not None
    assert up.entries == [(inc.id, "2018-06-08")] and up.dropped == []
    assert up.table_value() == [[inc.id, "2018-06-08"]]
    assert index_update(up.entries, inc, CFG) is None  # unchanged index: nothing to write


def test_index_update_replaces_the_entry_when_the_date_arrives() -> None:
    undated = new_incident(candidate("a1", occurred_on=None), NOW)
    other = ("inc-other", "2018-06-07")
    index = [index_entry(undated), other]
    assert index[0] == (undated.id, "2018-06-08")  # the report's day stands in for the event's
    dated = undated.model_copy(update={"occurred_on": date(2018, 6, 6)})
    up = index_update(index, dated, CFG)
    assert up is not None
    assert up.entries == [other, (undated.id, "2018-06-06")]


def test_index_update_drops_the_oldest_beyond_max_open() -> None:
    cfg = MergeConfig(max_open=2)
    index = [("old", "2018-06-01"), ("undated", None)]
    inc = new_incident(candidate("a1"), NOW)
    up = index_update(index, inc, cfg)
    assert up is not None
    assert up.dropped == ["undated"]  # no date sorts as oldest
    assert up.entries == [("old", "2018-06-01"), (inc.id, "2018-06-08")]


def test_incident_alert_ids_name_every_rule() -> None:
    assert incident_alert_ids(RULES.incident_rules, "inc-1") == ["deadly:inc-1", "any-isis:inc-1"]


def test_three_reports_through_the_step_like_the_agent() -> None:
    """The agent's reads and writes, with dicts for the tables: one incident, alerted once
    and then revised once, whatever the order of redeliveries."""
    open_incidents: dict[str, Any] = {}
    gov_index: dict[str, list[list[Any]]] = {}
    fired: dict[str, dict[str, int]] = {}
    sent: list[tuple[str, int]] = []

    def step(cand_id: str, killed: int) -> None:
        cand = candidate(cand_id, killed=killed)
        gov = governorate(cand.incident)
        index = index_entries(gov_index.get(gov, []))
        held = [open_incidents[i] for i in ids_near(index, cand, CFG) if i in open_incidents]
        outcome = merge_candidate(cand, held, CFG, NOW)
        if not outcome.changed:
            return
        inc = outcome.incident
        ids = incident_alert_ids(RULES.incident_rules, inc.id)
        was = {a: fired[a] for a in ids if a in fired}
        to_fire = incident_alerts(RULES.incident_rules, inc, was, outcome.changes, NOW)
        sent.extend((alert.id, alert.revision) for alert, _ in to_fire)
        fired.update({alert.id: state for alert, state in to_fire})
        open_incidents[inc.id] = inc
        up = index_update(index, inc, CFG)
        if up is not None:
            gov_index[gov] = up.table_value()

    step("a1", 30)
    step("a1", 30)  # redelivered
    step("a2", 64)
    step("a2", 64)  # redelivered
    assert len(open_incidents) == 1
    inc_id = next(iter(open_incidents))
    assert sent == [
        (f"deadly:{inc_id}", 1),
        (f"any-isis:{inc_id}", 1),
        (f"deadly:{inc_id}", 2),
        (f"any-isis:{inc_id}", 2),
    ]
    assert gov_index == {"SY-DY": [[inc_id, "2018-06-08"]]}


def _agent_step(
    open_incidents: dict[str, Any],
    gov_index: dict[str, list[list[Any]]],
    fired: dict[str, dict[str, Any]],
    cand: Any,
) -> list[Any]:
    """What ``merge-candidates`` does with one candidate (stream/app.py), over dicts: every
    published incident's alerts, with the living alerts of a rename; returns the alerts."""
    gov = governorate(cand.incident)
    index = index_entries(gov_index.get(gov, []))
    held = [open_incidents[i] for i in ids_near(index, cand, CFG) if i in open_incidents]
    outcome = merge_candidate(cand, held, CFG, NOW)
    if not outcome.changed:
        return []
    ids = [a for i in outcome.published for a in incident_alert_ids(RULES.incident_rules, i.id)]
    was = known_alerts(fired, ids)
    living = living_alerts(RULES.incident_rules, outcome.incident, outcome.absorbed, was)
    out = []
    for inc in outcome.published:
        changes = outcome.changes if inc is outcome.incident else []
        firing = incident_alerts(RULES.incident_rules, inc, was, changes, NOW, living)
        out += firing
    for alert, state in out:
        fired.update(fired_entries(alert, state))
    inc = outcome.incident
    open_incidents[inc.id] = inc
    gone = [twin.id for twin in outcome.absorbed]
    for old in gone:
        open_incidents.pop(old, None)
    up = index_update(index, inc, CFG, gone)
    if up is not None:
        gov_index[gov] = up.table_value()
    return [alert for alert, _ in out]


def _at(cand_id: str, hour: int, killed: int) -> Any:
    cand = candidate(cand_id, killed=killed)
    return cand.model_copy(update={"published_at": datetime(2018, 6, 8, hour, 0, tzinfo=UTC)})


def test_an_earlier_report_read_later_renames_the_event_but_its_alert_lives_on() -> None:
    """The event is named by its earliest-published report; one read after a later report
    renames it. The alert already posted continues (an update under its own id): no new
    post, no 'merged into' note, and the survivor's later revisions continue it too."""
    open_incidents: dict[str, Any] = {}
    gov_index: dict[str, list[list[Any]]] = {}
    fired: dict[str, dict[str, Any]] = {}
    first = _agent_step(open_incidents, gov_index, fired, _at("b-late", 10, 30))
    assert [(a.rule, a.revision) for a in first] == [("deadly", 1), ("any-isis", 1)]
    posted = {a.rule: a.id for a in first}

    renamed = _agent_step(open_incidents, gov_index, fired, _at("a-early", 8, 30))
    (survivor,) = open_incidents.values()
    assert survivor.article_ids[0] == "a-early"  # the event now bears the earlier report's id
    assert [(a.id, a.revision, a.merged_into) for a in renamed] == [
        (posted["deadly"], 2, None),
        (posted["any-isis"], 2, None),
    ]
    assert all(a.incident is not None and a.incident.id == survivor.id for a in renamed)
    assert renamed[0].changes == ["an earlier report joined"]  # same toll: nothing else new

    revised = _agent_step(open_incidents, gov_index, fired, _at("c-later", 11, 64))
    assert [(a.id, a.revision) for a in revised] == [
        (posted["deadly"], 3),
        (posted["any-isis"], 3),
    ]
    assert revised[0].changes == ["killed 30→64"]
    assert _agent_step(open_incidents, gov_index, fired, _at("c-later", 11, 64)) == []


def test_one_alert_per_rule_whatever_the_order_of_three_reports() -> None:
    reports = [_at("a-early", 8, 30), _at("b-late", 10, 30), _at("c-later", 11, 64)]
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]):
        open_incidents: dict[str, Any] = {}
        gov_index: dict[str, list[list[Any]]] = {}
        fired: dict[str, dict[str, Any]] = {}
        alerts = [
            a for i in order for a in _agent_step(open_incidents, gov_index, fired, reports[i])
        ]
        assert len(open_incidents) == 1, order
        for rule in ("deadly", "any-isis"):
            ids = {a.id for a in alerts if a.rule == rule}
            assert len(ids) == 1, (order, rule, ids)  # one message per rule, edited in place
            assert next(a.revision for a in alerts if a.rule == rule) == 1
        assert not any(a.merged_into for a in alerts), order
        last = [a for a in alerts if a.rule == "deadly"][-1]
        assert last.incident is not None and last.incident.killed == 64


def test_twins_that_both_alerted_still_close_one_with_merged_into() -> None:
    """Two alerts already posted for what one report shows is one event: one lives on
    (the survivor's), the other gets its last revision pointing to it."""
    twin = new_incident(candidate("t1", killed=30), NOW)
    survivor = new_incident(candidate("s1", killed=30), NOW)
    fired: dict[str, dict[str, Any]] = {}
    for inc in (twin, survivor):
        for alert, state in incident_alerts(RULES.incident_rules, inc, {}, [], NOW):
            fired.update(fired_entries(alert, state))
    gone = twin.model_copy(update={"merged_into": survivor.id, "revision": twin.revision + 1})
    living = living_alerts(RULES.incident_rules, survivor, [gone], fired)
    assert {r: lv.alert_id for r, lv in living.items()} == {
        "deadly": f"deadly:{survivor.id}",
        "any-isis": f"any-isis:{survivor.id}",
    }
    out = incident_alerts(RULES.incident_rules, gone, fired, [], NOW, living)
    assert [(a.id, a.merged_into) for a, _ in out] == [
        (f"deadly:{twin.id}", f"deadly:{survivor.id}"),
        (f"any-isis:{twin.id}", f"any-isis:{survivor.id}"),
    ]
