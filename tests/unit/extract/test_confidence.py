"""Confidence: named signals, a calibrated model shipped as data, and the rules that use it."""

from __future__ import annotations

from pathlib import Path

import yaml

from marsad.records import Article, Incident
from stream.extract import extract
from stream.extract.confidence import SIGNALS, model, score
from stream.rules import load_rules

REPO = Path(__file__).resolve().parents[3]


def _one(text: str) -> Incident:
    ex = extract(Article(id="a", text=text, published_at="2021-03-02T10:00:00+03:00"))
    (inc,) = [i for i in ex.incidents if not i.background]
    return inc


def test_the_model_file_names_only_known_signals_and_a_threshold() -> None:
    m = model()
    assert set(m.weights) <= set(SIGNALS)
    assert 0 < m.alert_threshold < 1
    assert "train" in m.fitted_on  # fitted on the train split, never on test


def test_confidence_is_the_model_applied_to_the_signals_that_fired() -> None:
    inc = _one("قتل 12 عنصراً من قوات النظام بهجوم لتنظيم داعش على حاجز في بلدة السخنة اليوم.")
    assert {"specific_place", "known_perpetrator", "dated"} <= set(inc.confidence_signals)
    found = {s: int(s in inc.confidence_signals) for s in SIGNALS}
    assert abs(inc.confidence - score(found)) < 1e-3


def test_a_competing_figure_is_a_signal() -> None:
    inc = _one(
        "قتل 11 شخصاً وفق الحصيلة الرسمية بهجوم لتنظيم داعش على قرية في قضاء المقدادية "
        "مساء الثلاثاء، في حين أفاد مصدر طبي بأن الهجوم أودى بحياة 15 شخصاً."
    )
    assert inc.killed == 11
    assert "competing_figures" in inc.confidence_signals


def test_the_alert_rules_use_the_calibrated_threshold() -> None:
    threshold = model().alert_threshold
    rules = {r.name: r for r in load_rules(REPO / "config" / "rules.yaml").incident_rules}
    assert rules["deadly-incident"].when.min_confidence == threshold
    assert rules["deadly-incident-review"].when.confidence_below == threshold
    routing = yaml.safe_load((REPO / "config" / "routing.yaml").read_text(encoding="utf-8"))
    first = routing["routes"][0]
    assert first["match"]["rules"] == ["deadly-incident-review"]
    assert first["channel"] != routing["default_channel"]
