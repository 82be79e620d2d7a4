"""The notifier through the real broker and slack-sdk against the local Slack server."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher
from alerts.ledger import Ledger
from alerts.notifier import Stats
from alerts.service import run_notifier
from marsad.topics import Topics, dlq
from tests.support import alert_samples as samples
from tests.support.kafka_helpers import consume_all, wait_until
from tests.support.notifier_harness import (
    alert_id_of,
    committed,
    end_offsets,
    fresh_group,
    produce_alerts,
)
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

ROUTES = """
default_channel: "#marsad-alerts"
routes:
  - {match: {severities: [critical]}, channel: "#marsad-critical"}
  - {match: {rules: [to_nowhere]}, channel: "#archived-room"}
"""


@dataclass
class Running:
    slack: SlackServer
    dispatcher: Dispatcher
    group: str
    stop: threading.Event
    thread: threading.Thread
    stats: list[Stats]

    def halt(self) -> Stats:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "notifier did not stop within 30 s"
        return self.stats[0]


@pytest.fixture
def notifier(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Any]:
    """Factory: start an in-process notifier (fresh group) against a given Slack server."""
    started: list[Running] = []

    def start(slack: SlackServer, max_retries: int = 5) -> Running:
        sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url, max_retries=max_retries)
        ledger = Ledger(tmp_path / f"ledger-{len(started)}.sqlite")
        dispatcher = Dispatcher(ledger, sink, routing.parse(ROUTES))
        group = fresh_group(kafka_bootstrap)
        stop = threading.Event()
        stats: list[Stats] = []
        thread = threading.Thread(
            target=lambda: stats.append(
                run_notifier(dispatcher, kafka_bootstrap, stop, topics=Topics(), group_id=group)
            ),
            daemon=True,
        )
        thread.start()
        running = Running(slack, dispatcher, group, stop, thread, stats)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop.set()
        running.thread.join(timeout=30)
        running.dispatcher.ledger.close()


def _mine(slack: SlackServer, prefix: str, channel: str) -> list[str]:
    return [a for m in slack.messages(channel) if (a := alert_id_of(m)) and a.startswith(prefix)]


def test_burst_of_50_under_429_every_third_call(kafka_bootstrap: str, notifier: Any) -> None:
    prefix = f"burst-{uuid.uuid4().hex[:6]}-"
    alerts = [
        samples.alert(f"{prefix}{i:02d}", severity="critical" if i % 3 == 0 else "warning")
        for i in range(50)
    ]
    with SlackServer(rate_limit_every=3, retry_after=0) as slack:
        running = notifier(slack)
        partitions = produce_alerts(kafka_bootstrap, alerts)
        wait_until(
            lambda: (
                len(_mine(slack, prefix, "#marsad-critical"))
                + len(_mine(slack, prefix, "#marsad-alerts"))
                >= 50
            ),
            timeout=120,
            message="50 alerts posted",
        )
        ends = end_offsets(kafka_bootstrap)
        wait_until(
            lambda: committed(kafka_bootstrap, running.group) == ends,
            timeout=30,
            message="every offset committed after delivery",
        )
        stats = running.halt()
    critical = _mine(slack, prefix, "#marsad-critical")
    warning = _mine(slack, prefix, "#marsad-alerts")
    assert sorted(critical + warning) == sorted(a["id"] for a in alerts)  # each exactly once
    assert len(set(critical + warning)) == 50
    assert all(int(a[-2:]) % 3 == 0 for a in critical)
    assert all(int(a[-2:]) % 3 != 0 for a in warning)
    # Kafka orders per partition: within a channel, alerts of one partition keep their order.
    part_of = {a["id"]: p for a, p in zip(alerts, partitions, strict=True)}
    for channel_ids in (critical, warning):
        for p in set(partitions):
            seen = [a for a in channel_ids if part_of[a] == p]
            assert seen == sorted(seen), (p, seen)
    limited = [c for c in slack.calls if c.status == 429]
    assert len(limited) >= 20  # the fault really fired, and was absorbed by retries
    assert stats.outcomes["posted"] == 50 and stats.outcomes["parked"] == 0


def test_revision_updates_original_and_replies_once(kafka_bootstrap: str, notifier: Any) -> None:
    alert_id = f"rev-{uuid.uuid4().hex[:6]}"
    with SlackServer() as slack:
        notifier(slack)
        produce_alerts(kafka_bootstrap, [samples.alert(alert_id, severity="warning")])
        first = wait_until(
            lambda: slack.messages("#marsad-alerts"), timeout=60, message="first post"
        )[0]
        later = samples.alert(
            alert_id,
            revision=2,
            severity="warning",
            incident=samples.incident(killed=64, sources=["SOHR", "Deir Ezzor 24", "Enab"]),
        )
        produce_alerts(kafka_bootstrap, [later])
        replies = wait_until(
            lambda: slack.messages("#marsad-alerts", replies=True), timeout=60, message="reply"
        )
    assert len(slack.calls_of("chat.update", ok_only=True)) == 1
    assert len(replies) == 1 and replies[0]["thread_ts"] == first["ts"]
    assert "toll 30 → 64, 2 new sources" in replies[0]["text"]
    top = slack.messages("#marsad-alerts")
    assert len(top) == 1 and top[0]["ts"] == first["ts"]
    assert "*Killed:* 64" in str(top[0]["blocks"]) and f"{alert_id} r2" in top[0]["text"]


def test_mention_injection_reaches_slack_escaped(kafka_bootstrap: str, notifier: Any) -> None:
    alert_id = f"inject-{uuid.uuid4().hex[:6]}"
    with SlackServer() as slack:
        notifier(slack)
        produce_alerts(kafka_bootstrap, [samples.injection_alert(alert_id)])
        wait_until(lambda: slack.messages("#marsad-critical"), timeout=60, message="post")
    body = slack.calls_of("chat.postMessage", ok_only=True)[0].body
    mrkdwn = [body["text"]] + [
        t["text"]
        for b in body["blocks"]
        for t in ([b["text"]] if "text" in b else []) + b.get("fields", []) + b.get("elements", [])
        if t.get("type") == "mrkdwn"
    ]
    for text in mrkdwn:
        assert "<!" not in text and "<@" not in text, text
        assert all(
            re.fullmatch(r"<https?://[^|<>\s]+\|[a-z0-9.\-]+>", x)
            for x in re.findall(r"<[^>]*>", text)
        ), text
    joined = "\n".join(mrkdwn)
    assert "&lt;!channel&gt;" in joined and "&lt;@U123ABC&gt;" in joined


def test_channel_not_found_parks_and_keeps_serving(kafka_bootstrap: str, notifier: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    lost = samples.alert(f"nowhere-{tag}", rule="to_nowhere", severity="warning")
    fine = samples.alert(f"fine-{tag}", severity="warning")
    with SlackServer(missing_channels=["archived-room"]) as slack:
        running = notifier(slack)
        produce_alerts(kafka_bootstrap, [lost, fine])
        wait_until(
            lambda: any(alert_id_of(m) == fine["id"] for m in slack.messages("#marsad-alerts")),
            timeout=60,
            message="the next alert is served",
        )
        parked = consume_all(
            kafka_bootstrap,
            dlq(Topics().alerts),
            lambda vs: any(v.get("id") == lost["id"] for v in vs),
            timeout=30,
        )
        stats = running.halt()
    entry = next(v for v in parked if v.get("id") == lost["id"])
    assert "channel_not_found" in entry["error"] and entry["summary_ar"] == lost["summary_ar"]
    assert running.dispatcher.ledger.get(lost["id"], 1).state == "parked"
    assert stats.outcomes["parked"] == 1 and stats.outcomes["posted"] == 1


def test_offset_is_committed_only_after_slack_accepts(kafka_bootstrap: str, notifier: Any) -> None:
    alert_id = f"outage-{uuid.uuid4().hex[:6]}"
    with SlackServer() as slack:
        slack.fail_next_5xx(10_000)  # Slack is down
        running = notifier(slack, max_retries=1)
        before = committed(kafka_bootstrap, running.group)
        produce_alerts(kafka_bootstrap, [samples.alert(alert_id, severity="warning")])
        # Beyond slack-sdk's own retry (2 calls per attempt), the notifier tries again.
        wait_until(lambda: len(slack.calls) >= 6, timeout=60, message="notifier retries")
        assert committed(kafka_bootstrap, running.group) == before
        slack.fail_next_5xx(0)  # Slack is back
        wait_until(lambda: slack.messages("#marsad-alerts"), timeout=60, message="delivered")
        ends = end_offsets(kafka_bootstrap)
        wait_until(
            lambda: committed(kafka_bootstrap, running.group) == ends,
            timeout=30,
            message="committed after delivery",
        )
        running.halt()
    assert [alert_id_of(m) for m in slack.messages("#marsad-alerts")] == [alert_id]
