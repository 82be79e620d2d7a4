"""Corrections become evaluation cases (``marsad feedback export``); the gate holds muted
alerts back and counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alerts.interactive.actions import ACTIONS_FILE, ActionStore, Correction
from alerts.interactive.cli import feedback_group
from alerts.interactive.export import PARTIAL_NOTE, gold_lines, merge_lines
from alerts.interactive.gate import DeskGate
from marsad.records import GOLD_INCIDENT_FIELDS, Alert
from marsad.settings import get_settings
from tests.support import alert_samples as samples

T0 = datetime(2024, 3, 15, 6, 0, tzinfo=UTC)
GOLD_INCIDENT_KEYS = {*GOLD_INCIDENT_FIELDS, "background"}


def _alert(alert_id: str = "alert-0001", **incident: Any) -> Alert:
    return Alert.from_json(samples.alert(alert_id, incident=samples.incident(**incident)))


def _correction(kind: Any, alert: Alert, **kw: Any) -> Correction:
    inc = alert.incident
    assert inc is not None
    fields: dict[str, Any] = {
        "killed": None,
        "injured": None,
        "duplicate_of": None,
        "user": "U1",
        "at": T0,
        "note": "",
    }
    fields.update(kw)
    return Correction(alert.id, inc.id, tuple(inc.article_ids), kind, **fields)


def test_a_wrong_toll_is_a_gold_line_per_article_with_the_corrected_figures() -> None:
    alert = _alert(article_ids=["art-1", "art-2"], sources=["SOHR", "Deir Ezzor 24"])
    c = _correction("wrong_toll", alert, killed=25, injured=None, note="agency figure")
    lines = list(gold_lines([c], {alert.id: alert}.get))
    assert [line["id"] for line in lines] == ["art-1", "art-2"]
    line = lines[0]
    assert (line["title"], line["text"], line["published_at"]) == (None, None, None)
    (incident,) = line["gold"]["incidents"]
    assert set(incident) == GOLD_INCIDENT_KEYS
    assert (incident["killed"], incident["injured"], incident["admin1"]) == (25, None, "SY-DY")
    assert incident["occurred_on"] == "2024-03-14" and incident["targets"] == [
        "SYRIAN_GOV",
        "IRAN_BACKED",
    ]
    assert line["gold"]["max_incident_killed"] == 25 and line["gold"]["tallies"] is None
    assert line["gold"]["notes"] == f"{PARTIAL_NOTE} agency figure"
    assert line["correction"]["evidence"] == samples.EVIDENCE_AR
    assert line["correction"]["alert_id"] == "alert-0001" and line["source"] is None


def test_not_an_incident_has_no_incidents_and_the_newest_correction_wins() -> None:
    alert = _alert()
    toll = _correction("wrong_toll", alert, killed=3)
    later = _correction("not_incident", alert, at=T0 + timedelta(hours=1))
    (line,) = gold_lines([toll, later], {alert.id: alert}.get)
    assert line["gold"]["incidents"] == [] and line["gold"]["max_incident_killed"] is None
    assert line["source"] == "SOHR" and line["url"] == "https://www.syriahr.com/en/000001/"


def test_duplicates_are_merge_cases_of_both_alerts_articles() -> None:
    one = _alert("alert-0001", id="inc-1", article_ids=["art-1"])
    two = _alert("alert-0002", id="inc-2", article_ids=["art-2", "art-3"])
    dup = _correction("duplicate", two, duplicate_of="alert-0001")
    known = {a.id: a for a in (one, two)}.get
    assert list(gold_lines([dup], known)) == []
    lines = list(merge_lines([dup], known))
    assert sorted(line["id"] for line in lines) == ["art-1", "art-2", "art-3"]
    assert {line["gold"]["event"] for line in lines} == {"desk:alert-0001"}


def test_a_forgotten_alert_exports_nothing() -> None:
    alert = _alert()
    assert list(gold_lines([_correction("wrong_toll", alert, killed=1)], lambda _id: None)) == []


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MARSAD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_feedback_export_writes_json_lines(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(feedback_group, ["export"])
    assert empty.exit_code == 0 and empty.stdout == ""
    with ActionStore(home / ACTIONS_FILE) as store:
        alert = _alert()
        store.remember(alert, T0)
        store.add_correction(_correction("wrong_toll", alert, killed=25))
        store.add_correction(_correction("not_incident", alert, at=T0 - timedelta(days=2)))
    out = tmp_path / "cases.jsonl"
    result = runner.invoke(feedback_group, ["export", "--since", "2024-03-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(raw) for raw in out.read_text("utf-8").splitlines()]
    assert line["id"] == "art-1" and line["gold"]["incidents"][0]["killed"] == 25
    merges = runner.invoke(feedback_group, ["export", "--merges"])
    assert merges.exit_code == 0 and merges.stdout == ""
    bad = runner.invoke(feedback_group, ["export", "--since", "yesterday"])
    assert bad.exit_code == 2 and "ISO" in bad.output


def test_the_gate_remembers_every_alert_and_holds_back_muted_ones(tmp_path: Path) -> None:
    with ActionStore(tmp_path / "a.sqlite") as store:
        gate = DeskGate(store, clock=lambda: T0)
        assert not gate.hold(_alert())
        assert store.alert("alert-0001") is not None
        store.mute("incident_toll", "actor", "ISIS", T0 + timedelta(hours=6), "U1", T0)
        assert gate.hold(_alert("alert-0002"))
        assert store.alert("alert-0002") is not None
        assert store.muted_count(T0, T0 + timedelta(seconds=1)) == 1
        assert not gate.hold(_alert("alert-0003", perpetrator="SDF", targets=["CIVILIANS"]))
        desk = gate.desk(_alert("alert-0002"))
        assert desk.buttons and any("muted for ISIS" in line for line in desk.lines)
