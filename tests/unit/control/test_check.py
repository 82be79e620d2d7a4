"""``marsad check`` without a broker: each failure names what to fix, and the exit code says it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from control.check import Result, check_cmd, check_rules_file, topic_problems
from tests.support.kafka_helpers import free_port


def test_a_bad_rules_file_fails_at_its_line_with_a_hint(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n- name: x\n  kind: incident\n  when: {killed_gte: -1}\n", "utf-8")
    result = check_rules_file(bad)
    assert not result.ok
    assert f"{bad}:" in result.detail and "killed_gte" in result.detail
    assert result.line().startswith("FAIL rules file: ")
    assert "fix: correct" in result.line()


def test_wrong_and_missing_topics_are_named() -> None:
    missing, wrong = topic_problems(["a", "b", "c"], {"a": 4, "b": 2}, 4)
    assert missing == ["c"]
    assert wrong == ["b has 2"]


def test_a_passing_check_prints_no_hint() -> None:
    assert Result("x", True, "fine", "never shown").line() == "ok   x: fine"


def test_the_command_exits_1_when_the_broker_is_down(tmp_path: Path) -> None:
    env = {
        "MARSAD_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "MARSAD_HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": "",
        "SLACK_WEBHOOK_URL": "",
    }
    result = CliRunner().invoke(check_cmd, ["--no-feeds"], env=env)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok   rules file: ") for line in lines)
    assert any(line.startswith("FAIL broker: no answer at 127.0.0.1:") for line in lines)
    assert not any(line.startswith("ok   topics") for line in lines)  # skipped, not guessed
