"""The evaluation gate: a drop, an edited gold file or a missing one fails; it never skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stream.extract.cli import eval_cmd
from stream.extract.evaluate import Figures
from stream.extract.gate import GoldSet, check, load_baseline, pinned_line, sha256_of

REPO = Path(__file__).resolve().parents[3]
BASELINE = REPO / "tests" / "fixtures" / "eval_baseline.json"


def figures(**over: float) -> Figures:
    base = dict(
        articles=10,
        max_toll_exact=0.9,
        alert_precision=1.0,
        alert_recall=0.8,
        incident_precision=0.7,
        incident_recall=0.6,
        tally_leaks=0,
        largest_admin1=0.9,
        largest_perpetrator=0.9,
        largest_event_type=0.9,
    )
    base.update(over)
    return Figures(**base)  # type: ignore[arg-type]


PINNED = pinned_line("g.jsonl", "abc", figures())


def test_the_same_figures_pass() -> None:
    assert check("s", PINNED, "abc", figures()) == []


def test_a_drop_in_any_figure_fails_and_names_it() -> None:
    out = check("s", PINNED, "abc", figures(incident_recall=0.59))
    assert [str(b) for b in out] == ["s: incident_recall 0.5900 fell below its floor 0.6000"]


def test_a_new_tally_leak_fails() -> None:
    out = check("s", PINNED, "abc", figures(tally_leaks=1))
    assert "tally_leaks 1 rose above its ceiling 0" in str(out[0])


def test_an_edited_gold_file_fails() -> None:
    out = check("s", PINNED, "abd", figures())
    assert "changed" in str(out[0])


def test_a_missing_gold_file_fails() -> None:
    out = check("s", PINNED, None, None)
    assert str(out[0]) == "s: gold file g.jsonl is missing"


def test_the_committed_baseline_names_the_seeds_and_the_frozen_test_split() -> None:
    baseline = load_baseline(BASELINE)
    assert {"seeds", "test"} <= set(baseline.sets)
    assert all(v == 1.0 for v in baseline.sets["seeds"].floors.values())
    test = baseline.sets["test"]
    path = REPO / test.gold
    assert path.is_file(), "the frozen test split is tracked: missing fails, never skips"
    assert sha256_of(path) == test.sha256
    assert test.articles >= 100


def _one_set_baseline(tmp_path: Path, gold: Path, line: GoldSet) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    target = tmp_path / "baseline.json"
    target.write_text(json.dumps({"sets": {"x": line.model_dump()}}))
    return target


@pytest.fixture
def gold_file(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    row = {
        "id": "a",
        "text": "قتل 12 عنصراً من قوات النظام بهجوم لتنظيم داعش في بادية دير الزور.",
        "published_at": "2021-03-02T10:00:00+03:00",
        "gold": {
            "incidents": [{"killed": 12, "admin1": ["SY-DY"]}],
            "tallies": [],
            "max_incident_killed": 12,
            "notes": "",
        },
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_the_command_fails_on_a_raised_floor_and_passes_after_pin(
    tmp_path: Path, gold_file: Path
) -> None:
    line = GoldSet(
        gold="gold.jsonl", sha256=sha256_of(gold_file), articles=1, floors={"max_toll_exact": 1.01}
    )
    baseline = _one_set_baseline(tmp_path, gold_file, line)
    runner = CliRunner()
    failed = runner.invoke(eval_cmd, ["--gate", str(baseline), "--quiet"])
    assert failed.exit_code == 1
    assert "max_toll_exact" in failed.output
    pinned = runner.invoke(eval_cmd, ["--gate", str(baseline), "--pin", "--quiet"])
    assert pinned.exit_code == 0, pinned.output
    passed = runner.invoke(eval_cmd, ["--gate", str(baseline), "--quiet"])
    assert passed.exit_code == 0, passed.output
    assert load_baseline(baseline).sets["x"].floors["max_toll_exact"] == 1.0


def test_the_command_fails_when_a_gold_file_is_gone(tmp_path: Path, gold_file: Path) -> None:
    line = GoldSet(gold="gone.jsonl", sha256="x", articles=1, floors={})
    baseline = _one_set_baseline(tmp_path, gold_file, line)
    result = CliRunner().invoke(eval_cmd, ["--gate", str(baseline), "--quiet"])
    assert result.exit_code == 1
    assert "gone.jsonl is missing" in result.output
