"""``marsad check`` against a real broker, a local Slack Web API server and a local feed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from control.check import check_cmd
from tests.support.feed_server import FeedServer
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

ROUTING = 'default_channel: "#marsad-alerts"\nroutes:\n- {channel: "#marsad-review", match: {}}\n'


def _files(tmp_path: Path, feed_url: str) -> list[str]:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump({"allowed_private_hosts": ["127.0.0.1"],
                        "feeds": [{"name": "Local", "url": feed_url}]}),
        encoding="utf-8",
    )  # fmt: skip
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    return ["--feeds", str(feeds), "--routing", str(routing)]


def test_everything_answers_then_a_missing_channel_fails(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    with FeedServer() as feeds, SlackServer() as slack:
        args = _files(tmp_path, feeds.add_feed("f", items=2))
        env = {
            "MARSAD_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "MARSAD_HOME": str(tmp_path / "home"),
            "MARSAD_TOPIC_PREFIX": "",
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_API_URL": slack.api_url,
        }
        slack._channel_id("#marsad-alerts")  # the channel exists; #marsad-review does not yet
        result = CliRunner().invoke(check_cmd, args, env=env)
        lines = result.output.splitlines()
        assert result.exit_code == 1, result.output
        assert any(line.startswith("ok   topics: ") for line in lines), result.output
        assert any(line.startswith("ok   slack: Slack bot") for line in lines), result.output
        assert any(line.startswith("ok   slack channel #marsad-alerts") for line in lines)
        assert any(line.startswith("FAIL slack channel #marsad-review") for line in lines)
        assert any(line.startswith("ok   feed Local: ") for line in lines), result.output

        slack._channel_id("#marsad-review")
        again = CliRunner().invoke(check_cmd, args, env=env)
        assert again.exit_code == 0, again.output
        assert "FAIL" not in again.output
