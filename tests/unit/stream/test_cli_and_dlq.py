from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from marsad.records import Article
from marsad.topics import Topics, dead_letter
from stream.app import candidates_topic_name, window_updates_topic_name
from stream.cli import stream_cmd
from tests.unit.stream.fake_extract import extract


def test_dead_letter_keeps_the_original_object_and_adds_error() -> None:
    out = json.loads(dead_letter(b'{"id": "a1", "text": 3}', "bad article: text"))
    assert out == {"id": "a1", "text": 3, "error": "bad article: text", "schema": 1}


def test_dead_letter_wraps_what_is_not_a_json_object() -> None:
    assert json.loads(dead_letter(b"\xff{oops", "not JSON"))["raw"] == "\ufffd{oops"
    assert json.loads(dead_letter(b"[1, 2]", "not an object"))["raw"] == [1, 2]
    assert json.loads(dead_letter(None, "empty"))["raw"] is None


def test_internal_topics_are_per_app_except_the_service() -> None:
    assert candidates_topic_name(Topics(), "marsad-stream") == "incident-candidates"
    replay = candidates_topic_name(Topics(), "marsad-replay-x")
    assert replay == "marsad-replay-x-incident-candidates"
    assert window_updates_topic_name("a") == "a-window-updates"


def test_check_validates_rules(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("rules:\n- {name: x, kind: incident, when: {killed_gte: 5}}\n", "utf-8")
    result = CliRunner().invoke(stream_cmd, ["--rules", str(good), "--check"])
    assert result.exit_code == 0 and "1 rule(s) OK" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n- name: x\n  kind: incident\n  when: {killed_gte: -1}\n", "utf-8")
    result = CliRunner().invoke(stream_cmd, ["--rules", str(bad), "--check"])
    assert result.exit_code != 0
    assert "bad.yaml:4" in result.output and "rule #0 (x)" in result.output


def test_bad_extractor_spec_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(stream_cmd, ["--extractor", "nope", "--bootstrap", "x:1"])
    assert result.exit_code == 2 and "MODULE:FUNCTION" in result.output


def test_fake_extractor_reads_the_test_extraction() -> None:
    art = Article.model_validate(
        {"id": "a", "text": "t", "test_extraction": {"incidents": [{"killed": 3}]}}
    )
    assert extract(art).incidents[0].killed == 3
