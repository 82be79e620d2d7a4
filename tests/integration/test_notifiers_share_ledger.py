"""Two ``marsad alerts`` processes in one consumer group, sharing one ``MARSAD_HOME`` (the
compose cluster shape: one volume, one ledger file): when one stops, the other takes its
partitions and *edits* the messages it posted — it reads their Slack ``ts`` from the shared
ledger — instead of posting each alert a second time."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from control.services import terminate
from tests.support import alert_samples as samples
from tests.support.kafka_helpers import free_ports, wait_until
from tests.support.notifier_harness import alert_id_of, fresh_group, produce_alerts
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

MARSAD = str(Path(sys.executable).with_name("marsad"))


def metric(port: int, name: str, **want: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in want.items())
    )


def start(
    home: Path, bootstrap: str, group: str, slack: SlackServer, port: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SLACK_WEBHOOK_URL": "",
        "MARSAD_HOME": str(home),
        "MARSAD_KAFKA_BOOTSTRAP": bootstrap,
        "MARSAD_ALERTS_METRICS_PORT": str(port),
    }
    routing_file = home / "routing.yaml"
    return subprocess.Popen(
        [MARSAD, "alerts", "--group", group, "--routing", str(routing_file)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def test_a_notifier_taking_over_partitions_edits_not_reposts(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"shared-{uuid.uuid4().hex[:6]}-"
    ids = [f"{prefix}{i}" for i in range(12)]
    (tmp_path / "routing.yaml").write_text('default_channel: "#marsad-alerts"\n', "utf-8")
    group = fresh_group(kafka_bootstrap)
    port_a, port_b = free_ports(2)
    with SlackServer() as slack:
        a = start(tmp_path, kafka_bootstrap, group, slack, port_a, tmp_path / "a.log")
        b = start(tmp_path, kafka_bootstrap, group, slack, port_b, tmp_path / "b.log")
        try:
            wait_until(
                lambda: all(
                    metric(p, "marsad_alerts_assigned_partitions") >= 1 for p in (port_a, port_b)
                ),
                timeout=90,
                interval=0.5,
                message="both notifiers own partitions of alerts",
            )
            produce_alerts(kafka_bootstrap, [samples.alert(i, severity="warning") for i in ids])

            def posted(port: int) -> float:
                return metric(port, "marsad_alerts_outcomes_total", outcome="posted")

            # wait on the notifiers' own counters, not on the Slack server: a counter moves
            # only after chat.postMessage has answered, so the server sees the twelfth post
            # a moment before the notifier that made it counts it
            wait_until(
                lambda: posted(port_a) + posted(port_b) >= len(ids),
                timeout=60,
                interval=0.5,
                message="first revisions",
            )
            by_a, by_b = posted(port_a), posted(port_b)
            assert by_a and by_b and by_a + by_b == len(ids)  # both served some
            assert len(slack.posts()) == len(ids)  # none posted twice
            assert terminate(a) == 0
            second = [samples.alert(i, revision=2, severity="warning") for i in ids]
            produce_alerts(kafka_bootstrap, second)
            wait_until(
                lambda: (
                    metric(port_b, "marsad_alerts_outcomes_total", outcome="updated") >= len(ids)
                ),
                timeout=90,
                interval=0.5,
                message="every second revision served by the notifier left",
            )
        finally:
            terminate(a)
            assert terminate(b) == 0, (tmp_path / "b.log").read_text(encoding="utf-8")
        roots = [alert_id_of(m) for m in slack.messages("#marsad-alerts")]
        replies = [alert_id_of(m) for m in slack.messages("#marsad-alerts", replies=True)]
        updates = slack.calls_of("chat.update", ok_only=True)
    assert sorted(str(r) for r in roots) == sorted(ids)  # one message per alert, none twice
    assert sorted(str(r) for r in replies) == sorted(ids)  # one change note each
    # every edit was made by the notifier that stayed, by_a of them to messages it had not
    # posted (their ts came from the shared ledger)
    assert len(updates) == len(ids)
