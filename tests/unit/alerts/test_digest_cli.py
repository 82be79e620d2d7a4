"""``marsad digest``: ``--dry-run`` shows the message and writes nothing; a post is the day's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.digest.cli import digest_cmd
from marsad.settings import get_settings
from tests.support.digest_samples import MORNING, incident, place

ROUTING = """
default_channel: "#marsad-alerts"
digest:
  channels:
    - {channel: "#marsad-alerts"}
    - {channel: "#marsad-east", time: "07:00", tz: UTC}
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings for this test only: its home, no Slack credentials (the console sink)."""
    monkeypatch.setenv("MARSAD_HOME", str(tmp_path / "home"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "MARSAD_KAFKA_BOOTSTRAP"):
        monkeypatch.setenv(name, "")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def files(tmp_path: Path) -> list[str]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    incidents = tmp_path / "incidents.jsonl"
    at = MORNING - timedelta(hours=2)
    rows = [
        incident("a", 11, at, location=place("SY-DY", "Al-Mayadin")).to_json(),
        incident("b", 4, at, location=place("SY-HL", "Afrin")).to_json(),
    ]
    incidents.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ["--routing", str(routing), "--incidents", str(incidents)]


def test_dry_run_prints_text_and_blocks_and_writes_nothing(home: Path) -> None:
    args = [*files(home), "--dry-run", "--at", "2026-12-02T08:00", "--channel", "#marsad-alerts"]
    result = CliRunner().invoke(digest_cmd, args)
    assert result.exit_code == 0, result.output
    head, text, *payload = result.output.splitlines()
    assert head == "── #marsad-alerts · 2026-12-02 (dry run: not posted) ──"
    assert text.startswith("Marsad daily digest, Wed 2 Dec 2026: 2 incidents, 15 killed")
    message = json.loads("\n".join(payload))
    assert message["metadata"]["event_payload"]["alert_id"] == "digest:#marsad-alerts:2026-12-02"
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert "Deir ez-Zor (SY-DY): 1 incident, 11 killed" in shown
    assert not (home / "home").exists()  # no ledger, no action store, no JSONL


def test_every_digest_channel_in_its_own_zone_by_default(home: Path) -> None:
    # 08:00 in Damascus is 05:00 UTC: the east channel's digest is dated by UTC
    result = CliRunner().invoke(
        digest_cmd, [*files(home), "--dry-run", "--at", MORNING.isoformat()]
    )
    assert result.exit_code == 0, result.output
    heads = [line for line in result.output.splitlines() if line.startswith("── ")]
    assert heads == [
        "── #marsad-alerts · 2026-12-02 (dry run: not posted) ──",
        "── #marsad-east · 2026-12-02 (dry run: not posted) ──",
    ]


def test_a_post_by_hand_is_the_days_digest(home: Path) -> None:
    args = [*files(home), "--at", "2026-12-02T09:00", "--channel", "#marsad-alerts"]
    first = CliRunner().invoke(digest_cmd, args)
    assert first.exit_code == 0, first.output
    assert "#marsad-alerts: digest:#marsad-alerts:2026-12-02 posted" in first.output
    again = CliRunner().invoke(digest_cmd, args)
    assert "#marsad-alerts: digest:#marsad-alerts:2026-12-02 duplicate" in again.output
    posted = (home / "home" / "alerts.jsonl").read_text("utf-8").splitlines()
    assert len(posted) == 1 and json.loads(posted[0])["channel"] == "#marsad-alerts"


def test_bad_options_end_as_one_line(home: Path) -> None:
    bad_at = CliRunner().invoke(digest_cmd, [*files(home), "--dry-run", "--at", "tomorrow"])
    assert bad_at.exit_code == 2 and "is not an ISO time" in bad_at.output
    bad_channel = CliRunner().invoke(digest_cmd, [*files(home), "--dry-run", "--channel", "x y"])
    assert bad_channel.exit_code == 2 and "is not a channel" in bad_channel.output
    missing = home / "nowhere.jsonl"
    args = ["--routing", str(home / "routing.yaml"), "--incidents", str(missing), "--dry-run"]
    gone = CliRunner().invoke(digest_cmd, args)
    assert gone.exit_code == 1 and "marsad digest: error:" in gone.output
