"""The thread reply's words: what moved between two revisions."""

from __future__ import annotations

from typing import Any

from alerts import changes
from marsad.records import Alert
from tests.support import alert_samples as samples


def alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def test_toll_and_new_sources_are_described() -> None:
    before = changes.facts(alert())
    later = alert(
        revision=2,
        incident=samples.incident(
            killed=64,
            sources=["SOHR", "Enab Baladi"],
            urls=["https://www.syriahr.com/en/000001/", "https://english.enabbaladi.net/1"],
        ),
    )
    assert changes.describe(before, changes.facts(later)) == ["toll 30 → 64", "2 new sources"]
    assert changes.summary(later, before) == "Updated to revision 2: toll 30 → 64, 2 new sources"


def test_upstream_changes_take_precedence() -> None:
    later = alert(revision=3, changes=["perpetrator identified"])
    assert changes.summary(later, changes.facts(alert())) == (
        "Updated to revision 3: perpetrator identified"
    )


def test_nothing_visible_changed() -> None:
    facts = changes.facts(alert())
    assert changes.describe(facts, facts) == []
    assert changes.describe(None, facts) == []
    assert changes.summary(alert(revision=2), facts).endswith("details revised")


def test_unknown_values_and_severity() -> None:
    before = changes.facts(alert(severity="warning", incident=samples.incident(killed=None)))
    after = changes.facts(alert(severity="critical", incident=samples.incident(injured=20)))
    assert changes.describe(before, after) == [
        "toll ? → 30",
        "injured 12 → 20",
        "severity warning → critical",
    ]
