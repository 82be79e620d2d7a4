"""``marsad alerts`` with ``SLACK_APP_TOKEN``: the tokens are checked at start-up, and a run
delivers alerts with their buttons while its Socket Mode connection is open, then closes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.cli import alerts_cmd
from alerts.interactive import ids
from marsad.settings import get_settings
from tests.support import alert_samples as samples
from tests.support.kafka_helpers import wait_until
from tests.support.notifier_harness import alert_id_of, fresh_group, produce_alerts
from tests.support.slack_server import APP_TOKEN, DEFAULT_TOKEN, SlackServer, SocketModeStub

pytestmark = pytest.mark.integration


@pytest.fixture
def servers() -> Iterator[tuple[SlackServer, SocketModeStub]]:
    get_settings.cache_clear()
    with SlackServer(valid_tokens=(DEFAULT_TOKEN, APP_TOKEN)) as slack, SocketModeStub() as sm:
        slack.socket_mode = sm
        yield slack, sm
    get_settings.cache_clear()


def _env(tmp_path: Path, slack: SlackServer, **over: str) -> dict[str, str]:
    env = {
        "MARSAD_HOME": str(tmp_path / "home"),
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SLACK_WEBHOOK_URL": "",
    }
    env.update(over)
    return env


def _invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    get_settings.cache_clear()
    result = CliRunner().invoke(alerts_cmd, args, env=env)
    return result.exit_code, result.output


def test_tokens_are_checked_at_start_up(
    servers: tuple[SlackServer, SocketModeStub], tmp_path: Path
) -> None:
    slack, sm = servers
    code, out = _invoke(["--check"], _env(tmp_path, slack))
    assert code == 0 and "configuration OK" in out, out
    assert any(c.auth == f"Bearer {APP_TOKEN}" for c in slack.calls_of("auth.test"))
    assert sm.connections == 0  # --check connects nothing

    code, out = _invoke(["--check"], _env(tmp_path, slack, SLACK_APP_TOKEN="xapp-wrong"))
    assert code == 1 and "Slack refuses the app-level token (invalid_auth)" in out, out
    code, out = _invoke(["--check"], _env(tmp_path, slack, SLACK_BOT_TOKEN=""))
    assert code == 1 and "SLACK_BOT_TOKEN is not" in out, out
    code, out = _invoke(["--check"], _env(tmp_path, slack, SLACK_APP_TOKEN=DEFAULT_TOKEN))
    assert code == 1 and "must be an app-level token" in out, out


def test_a_run_posts_buttons_with_socket_mode_open_and_closes_it(
    servers: tuple[SlackServer, SocketModeStub], tmp_path: Path, kafka_bootstrap: str
) -> None:
    slack, sm = servers
    alert_id = f"cli-{uuid.uuid4().hex[:8]}"
    group = fresh_group(kafka_bootstrap)
    produce_alerts(kafka_bootstrap, [samples.alert(alert_id)])
    args = ["--bootstrap", kafka_bootstrap, "--group", group, "--once", "--max-idle", "2"]
    code, out = _invoke(args, _env(tmp_path, slack, MARSAD_TOPIC_PREFIX=""))
    assert code == 0, out
    (posted,) = [
        m for ms in slack.all_messages().values() for m in ms if alert_id_of(m) == alert_id
    ]
    (actions,) = [b for b in posted["blocks"] if b["type"] == "actions"]
    assert ids.AlertRef.from_block_id(actions["block_id"]) == ids.AlertRef(alert_id, 1)
    assert sm.connections == 1 and slack.calls_of("apps.connections.open", ok_only=True)
    wait_until(lambda: not sm.connected(), 10, "the Socket Mode connection stayed open")
    assert (tmp_path / "home" / "alerts-actions.sqlite").exists()
