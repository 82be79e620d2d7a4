"""`marsad extract` and `marsad eval` through click."""

import json
from pathlib import Path

from click.testing import CliRunner

from stream.extract.cli import eval_cmd, extract_cmd

ARTICLE = {
    "id": "a1",
    "text": "قتل 4 عناصر من قسد بهجوم لخلايا داعش على حاجز في بلدة الشحيل بريف دير الزور.",
    "published_at": "2020-03-02T10:00:00+03:00",
}


def test_extract_one_line_per_input_and_errors_at_the_end() -> None:
    lines = [json.dumps(ARTICLE, ensure_ascii=False), "{not json", json.dumps({"id": "a2"}), ""]
    result = CliRunner().invoke(extract_cmd, ["-"], input="\n".join(lines[:3]) + "\n")
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == 3
    assert out[0]["id"] == "a1" and out[0]["incidents"][0]["killed"] == 4
    assert out[0]["schema"] == 1
    assert "error" in out[1] and out[1]["id"] is None
    assert out[2] == {"id": "a2", "error": "no text"}
    assert result.exit_code == 1


def test_extract_clean_run_exits_zero(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(extract_cmd, [str(src)])
    assert result.exit_code == 0
    assert json.loads(result.output)["tallies"] == []


def test_eval_prints_figures_and_json(tmp_path: Path) -> None:
    gold = dict(
        ARTICLE,
        gold={
            "incidents": [
                {"killed": 4, "admin1": ["SY-DY"], "perpetrator": "ISIS", "event_type": "Battles"}
            ],
            "tallies": [],
            "max_incident_killed": 4,
        },
    )
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(gold, ensure_ascii=False) + "\n", encoding="utf-8")
    text = CliRunner().invoke(eval_cmd, [str(path)])
    assert text.exit_code == 0 and "tally leaks" in text.output
    data = json.loads(CliRunner().invoke(eval_cmd, [str(path), "--json"]).output)
    assert data["max_toll_exact"] == 1.0 and data["incident_recall"] == 1.0


def test_eval_rejects_a_bad_gold_file(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "x", "text": "t"}\n', encoding="utf-8")
    result = CliRunner().invoke(eval_cmd, [str(path)])
    assert result.exit_code != 0 and "gold" in result.output
