"""An alert's summaries are built from the incident's fields when the alert is made.

Issue #12 item 5: after a merge filled in the perpetrator or the place, the header still read
"Unidentified attackers attack…" (the summary stored at extraction) while the fields said
ISIS / Al-Mayadin.
"""

from __future__ import annotations

from marsad.records import StoredIncident
from stream.alerting import incident_alerts
from stream.extract.summary import summarize
from stream.merge import merge_into, new_incident
from stream.rules import parse_rules
from stream.summary import incident_summary_ar, incident_summary_en
from tests.unit.stream.helpers import MAYADIN, NOW, candidate

RULES = parse_rules("rules:\n  - {name: deadly, kind: incident, when: {killed_gte: 10}}\n")


def _unidentified() -> StoredIncident:
    """A first report that names neither the attackers nor the place."""
    inc = new_incident(candidate("a1", perpetrator="UNKNOWN", location=None, killed=30), NOW)
    inc.summary_en = summarize(inc)  # what the extractor stored at extraction
    assert inc.summary_en.startswith("Unidentified attackers")
    return inc


def test_stored_incident_filled_by_a_later_report_is_summarised_from_its_fields() -> None:
    held = _unidentified()
    stale = held.summary_en
    assert stale is not None and "ISIS" not in stale and "Al-Mayadin" not in stale
    filled = held.model_copy(update={"perpetrator": "ISIS", "location": MAYADIN, "revision": 2})
    assert filled.summary_en == stale  # the stored line is still the old one
    en, ar = incident_summary_en(filled), incident_summary_ar(filled)
    assert en.startswith("ISIS attack") and "Al-Mayadin" in en and "30 killed" in en
    assert "Unidentified" not in en
    assert "الميادين" in ar and "تنظيم الدولة الإسلامية" in ar


def test_alert_after_a_merge_names_what_the_merge_filled_in() -> None:
    held = _unidentified()
    first = incident_alerts(RULES.incident_rules, held, {}, [], NOW)
    assert len(first) == 1 and "ISIS" not in first[0][0].summary_en
    fired = {a.id: state for a, state in first}
    later = candidate("a2", "Deir Ezzor 24", perpetrator="ISIS", location=MAYADIN, killed=30)
    result = merge_into(held, later, NOW)
    assert result.incident.perpetrator == "ISIS" and result.incident.location == MAYADIN
    out = incident_alerts(RULES.incident_rules, result.incident, fired, result.changes, NOW)
    ((alert, _),) = out
    assert alert.revision == 2
    assert alert.incident is not None and alert.incident.perpetrator == "ISIS"
    assert alert.summary_en.startswith("ISIS attack") and "Al-Mayadin" in alert.summary_en
    assert alert.summary_en == summarize(alert.incident)
    assert "الميادين" in alert.summary_ar
    assert alert.summary_ar == incident_summary_ar(alert.incident)


def test_arabic_summary_names_a_few_sources_and_counts_the_rest() -> None:
    inc = new_incident(candidate("a1", killed=30), NOW)
    inc.sources = [f"مصدر {i}" for i in range(200)]
    ar = incident_summary_ar(inc)
    assert "مصدر 4" in ar and "مصدر 5" not in ar and "و195 مصادر أخرى" in ar
    assert len(ar) < 300
