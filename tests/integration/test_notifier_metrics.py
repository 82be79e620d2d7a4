"""``marsad alerts --metrics-port``: the notifier's /metrics and /healthz, scraped while it
delivers through the real broker to the local Slack server (rate limits and a refused channel
included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from control.services import terminate
from tests.support import alert_samples as samples
from tests.support.kafka_helpers import free_ports, wait_until
from tests.support.metrics import scrape, total
from tests.support.notifier_harness import fresh_group, produce_alerts
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

MARSAD = str(Path(sys.executable).with_name("marsad"))

ROUTES = """
default_channel: "#marsad-alerts"
routes:
  - {match: {rules: [to_nowhere]}, channel: "#archived-room"}
"""


def test_metrics_and_health_while_delivering(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"metrics-{uuid.uuid4().hex[:6]}-"
    now = datetime.now(UTC).isoformat()
    alerts = [samples.alert(f"{prefix}{i}", severity="warning", created_at=now) for i in range(5)]
    alerts.append(samples.alert(f"{prefix}0", revision=2, severity="warning", created_at=now))
    alerts.append(samples.alert(f"{prefix}gone", rule="to_nowhere", created_at=now))
    group = fresh_group(kafka_bootstrap)
    (port,) = free_ports(1)
    routing_file = tmp_path / "routing.yaml"
    routing_file.write_text(ROUTES, encoding="utf-8")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_WEBHOOK_URL": "",
        "MARSAD_HOME": str(tmp_path),
        "MARSAD_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MARSAD_ALERTS_METRICS_PORT": str(port),
    }
    with SlackServer(
        rate_limit_every=4, retry_after=0, missing_channels=["archived-room"]
    ) as slack:
        env["SLACK_API_URL"] = slack.api_url
        log = (tmp_path / "notifier.log").open("ab")
        proc = subprocess.Popen(
            [MARSAD, "alerts", "--group", group, "--routing", str(routing_file)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: scrape(port), timeout=60, message="/metrics answers")
            produce_alerts(kafka_bootstrap, alerts)
            done = wait_until(
                lambda: (
                    m
                    if total(m := scrape(port), "marsad_alerts_outcomes_total") >= len(alerts)
                    and total(m, "marsad_alerts_consumer_lag") == 0
                    else None
                ),
                timeout=90,
                message="every alert served and no lag",
            )
            assert done is not None
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
                health = json.loads(resp.read())
                assert resp.status == 200
        finally:
            terminate(proc)
    notes = (tmp_path / "notifier.log").read_text(encoding="utf-8")
    assert proc.returncode == 0, notes
    assert health["status"] == "ok" and health["lag"] == 0
    outcome = "marsad_alerts_outcomes_total"
    assert total(done, outcome, outcome="posted") == 5
    assert total(done, outcome, outcome="updated") == 1
    assert total(done, outcome, outcome="parked") == 1
    assert total(done, "marsad_alerts_dlq_messages_total", reason="permanent") == 1
    assert total(done, "marsad_alerts_delivered_total", rule="incident_toll") == 6
    assert total(done, "marsad_alerts_delivery_latency_seconds_count") == 6
    assert total(done, "marsad_alerts_ledger_rows", state="delivered") == 6
    assert total(done, "marsad_alerts_ledger_rows", state="parked") == 1
    assert total(done, "marsad_alerts_ledger_rows", state="pending") == 0
    # Slack's own counts agree with ours: every successful call, and the 429s slack-sdk retried
    ok_posts = total(
        done, "marsad_alerts_slack_calls_total", method="chat.postMessage", result="ok"
    )
    assert ok_posts == len(slack.calls_of("chat.postMessage", ok_only=True))
    limited = len([c for c in slack.calls if c.status == 429])
    assert limited >= 1
    assert total(done, "marsad_alerts_slack_retries_total", reason="rate_limited") == limited
    assert total(done, "marsad_alerts_slack_rate_limit_waits_total") == limited
    assert total(done, "marsad_alerts_assigned_partitions") >= 1
    assert total(done, "marsad_alerts_stalled") == 0
