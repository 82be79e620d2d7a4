"""The notifier's metrics and health: Slack calls counted where they happen, outcomes from the
loop, the ledger counted on its own connection, and the stall verdict on a fake clock."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from alerts import routing
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher
from alerts.health import HealthServer, NotifierHealth, call_result, ledger_counts
from alerts.ledger import Ledger
from alerts.notifier import Notifier
from marsad.records import Alert
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer
from tests.unit.alerts.test_alerts_notifier import TP, FakeConsumer, FakeProducer, raw

ROUTES = routing.parse('default_channel: "#marsad-alerts"')


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def samples_of(health: NotifierHealth) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the registry, keyed by name and sorted labels."""
    text = health.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(health: NotifierHealth, name: str, **labels: str) -> float:
    return samples_of(health).get((name, tuple(sorted(labels.items()))), 0.0)


class Consumer(FakeConsumer):
    """The loop's fake consumer; no fetch has reported a high-water mark (lag: no figure)."""

    def highwater(self, tp: TP) -> int | None:
        return None


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


def notifier(
    slack: SlackServer, tmp_path: Path, values: dict[int, list[bytes]], retries: int = 0
) -> tuple[Notifier, NotifierHealth]:
    sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url, max_retries=retries)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    health = NotifierHealth(ledger.path)
    health.instrument(sink)
    dispatcher = Dispatcher(ledger, sink, ROUTES)
    consumer = Consumer(values)
    n = Notifier(dispatcher, consumer, FakeProducer(), backoff_s=(0.01, 0.02), observer=health)
    return n, health


def test_outcomes_deliveries_latency_and_ledger(slack: SlackServer, tmp_path: Path) -> None:
    created = datetime.now(UTC).isoformat()
    values = {
        0: [raw("a", created_at=created), raw("a", revision=2, created_at=created), b"{bad"],
        1: [raw("w", rule="surge_x", kind="window", created_at=created)],
    }
    n, health = notifier(slack, tmp_path, values)
    n.run(threading.Event(), max_idle_s=0)
    assert value(health, "marsad_alerts_outcomes_total", outcome="posted") == 2
    assert value(health, "marsad_alerts_outcomes_total", outcome="updated") == 1
    assert value(health, "marsad_alerts_outcomes_total", outcome="unreadable") == 1
    assert value(health, "marsad_alerts_dlq_messages_total", reason="unreadable") == 1
    assert (
        value(health, "marsad_alerts_delivered_total", rule="incident_toll", kind="incident") == 2
    )
    assert value(health, "marsad_alerts_delivered_total", rule="surge_x", kind="window") == 1
    assert value(health, "marsad_alerts_delivery_latency_seconds_count") == 3
    # created just now: every delivery under a minute
    assert value(health, "marsad_alerts_delivery_latency_seconds_bucket", le="60.0") == 3
    assert value(health, "marsad_alerts_ledger_rows", state="delivered") == 3
    assert value(health, "marsad_alerts_ledger_rows", state="pending") == 0
    posts = value(health, "marsad_alerts_slack_calls_total", method="chat.postMessage", result="ok")
    assert posts == 3  # two roots and the revision's thread reply
    assert value(health, "marsad_alerts_slack_calls_total", method="chat.update", result="ok") == 1


def test_a_refused_call_is_counted_and_parked(slack: SlackServer, tmp_path: Path) -> None:
    slack.missing_channels.add("marsad-alerts")
    n, health = notifier(slack, tmp_path, {0: [raw("x")]})
    n.run(threading.Event(), max_idle_s=0)
    assert value(health, "marsad_alerts_dlq_messages_total", reason="permanent") == 1
    assert value(health, "marsad_alerts_ledger_rows", state="parked") == 1
    refused = value(
        health, "marsad_alerts_slack_calls_total", method="chat.postMessage", result="refused"
    )
    assert refused == 1


def test_slack_sdk_retries_and_rate_limit_waits_are_counted(tmp_path: Path) -> None:
    with SlackServer(rate_limit_every=2, retry_after=0) as slack:
        n, health = notifier(slack, tmp_path, {0: [raw("a"), raw("b")]}, retries=3)
        n.run(threading.Event(), max_idle_s=0)
        assert len(slack.messages("#marsad-alerts")) == 2
    assert value(health, "marsad_alerts_slack_retries_total", reason="rate_limited") >= 1
    assert value(health, "marsad_alerts_slack_rate_limit_waits_total") >= 1
    # slack-sdk retried inside the call: the call itself ended well
    assert value(health, "marsad_alerts_slack_calls_total", method="chat.postMessage", result="ok")
    assert not value(
        health, "marsad_alerts_slack_calls_total", method="chat.postMessage", result="rate_limited"
    )


def test_transient_failures_count_as_retries(slack: SlackServer, tmp_path: Path) -> None:
    n, health = notifier(slack, tmp_path, {0: [raw("a")]})
    n.dispatcher.sink.check()  # auth.test first, as ``marsad alerts`` does at start-up
    slack.fail_next_5xx(2)
    n.run(threading.Event(), max_idle_s=0.5)
    assert value(health, "marsad_alerts_outcomes_total", outcome="retried") == 2
    assert value(health, "marsad_alerts_outcomes_total", outcome="posted") == 1
    # the post failed, then the check whether it had arrived (a pending row) failed too
    server_errors = {
        dict(labels)["method"]: v
        for (name, labels), v in samples_of(health).items()
        if name == "marsad_alerts_slack_calls_total" and ("result", "server_error") in labels
        if v
    }
    assert server_errors == {"chat.postMessage": 1, "conversations.list": 1}


def error(status: int, code: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="x",
        req_args={},
        data={"ok": False, "error": code},
        headers={},
        status_code=status,
    )
    return SlackApiError(code, response)  # type: ignore[no-untyped-call]


def test_call_results_are_a_small_fixed_set() -> None:
    assert call_result(None) == "ok"
    assert call_result(error(429, "ratelimited")) == "rate_limited"
    assert call_result(error(200, "ratelimited")) == "rate_limited"
    assert call_result(error(503, "")) == "server_error"
    assert call_result(error(200, "internal_error")) == "server_error"
    assert call_result(error(200, "channel_not_found")) == "refused"
    assert call_result(ConnectionRefusedError()) == "network_error"


@dataclass
class LagConsumer:
    """What :meth:`NotifierHealth.polled` reads: assignment, high-water marks, positions."""

    highs: dict[TP, int | None]
    positions: dict[TP, int]

    def assignment(self) -> set[TP]:
        return set(self.highs)

    def highwater(self, tp: TP) -> int | None:
        return self.highs[tp]

    def position(self, tp: TP, timeout_ms: int | None = None) -> int:
        return self.positions[tp]


def test_lag_per_assigned_partition_and_revoked_ones_dropped() -> None:
    health = NotifierHealth(clock=Clock())
    a, b, c = TP("alerts", 0), TP("alerts", 1), TP("alerts", 2)
    health.polled(LagConsumer({a: 10, b: 5, c: None}, {a: 7, b: 5, c: 0}))
    assert value(health, "marsad_alerts_consumer_lag", partition="0") == 3
    assert value(health, "marsad_alerts_consumer_lag", partition="1") == 0
    assert ("marsad_alerts_consumer_lag", (("partition", "2"),)) not in samples_of(health)
    assert value(health, "marsad_alerts_assigned_partitions") == 3
    health.polled(LagConsumer({b: 6}, {b: 6}))
    assert ("marsad_alerts_consumer_lag", (("partition", "0"),)) not in samples_of(health)


def alert() -> Alert:
    return Alert.model_validate(samples.alert("a"))


def test_healthy_while_idle_however_long() -> None:
    clock = Clock()
    health = NotifierHealth(clock=clock, stalled_after=300, stale_after=600)
    for _ in range(10):
        clock.now += 100
        health.observe_lag({0: 0}, assigned=1)
    assert health.health()[0] == 200


def test_stalled_when_a_backlog_sees_no_progress() -> None:
    clock = Clock()
    health = NotifierHealth(clock=clock, stalled_after=300, stale_after=600)
    health.observe_lag({0: 4}, assigned=1)
    health.served("retried", alert())
    clock.now += 299
    health.observe_lag({0: 4}, assigned=1)
    assert health.health()[0] == 200
    clock.now += 2
    health.observe_lag({0: 4}, assigned=1)
    status, body = health.health()
    assert (status, body["status"], body["failing"], body["lag"]) == (503, "stalled", True, 4)
    assert value(health, "marsad_alerts_stalled") == 1
    health.served("posted", alert())  # Slack is back: one record done is progress
    assert health.health()[0] == 200
    assert value(health, "marsad_alerts_stalled") == 0


def test_a_failing_record_is_a_backlog_even_without_visible_lag() -> None:
    clock = Clock()
    health = NotifierHealth(clock=clock, stalled_after=300, stale_after=600)
    health.served("retried", alert())
    clock.now += 301
    health.observe_lag({}, assigned=0)
    assert health.verdict(clock.now)[0] == "stalled"


def test_stale_when_the_loop_stops_coming_round() -> None:
    clock = Clock()
    health = NotifierHealth(clock=clock, stalled_after=300, stale_after=600)
    health.observe_lag({0: 0}, assigned=1)
    clock.now += 601
    assert health.health() == (503, health.health()[1])
    assert health.health()[1]["status"] == "stale"


def test_ledger_counts_on_its_own_connection(tmp_path: Path) -> None:
    assert ledger_counts(tmp_path / "absent.sqlite") == {"pending": 0, "delivered": 0, "parked": 0}
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.mark_pending("a", 1, "slack", "#c")
        ledger.mark_delivered("b", 1, sink="slack", channel="#c", ts="1.0")
        ledger.mark_parked("c", 1, "slack", "no")
        assert ledger_counts(ledger.path) == {"pending": 1, "delivered": 1, "parked": 1}


def test_server_serves_metrics_and_health() -> None:
    clock = Clock()
    health = NotifierHealth(clock=clock, stalled_after=300, stale_after=600)
    server = HealthServer(health, 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
            assert b"marsad_alerts_stalled 0.0" in resp.read()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "ok"
        health.observe_lag({0: 2}, assigned=1)
        clock.now += 400
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}/healthz", timeout=10)
        assert caught.value.code == 503
        assert json.loads(caught.value.read())["status"] == "stalled"
    finally:
        server.stop()


def test_instrumenting_twice_counts_once(slack: SlackServer) -> None:
    sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url, max_retries=0)
    health = NotifierHealth()
    health.instrument(health.instrument(sink))
    sink.check()
    assert value(health, "marsad_alerts_slack_calls_total", method="auth.test", result="ok") == 1


def test_webhook_posts_are_counted(slack: SlackServer, tmp_path: Path) -> None:
    from alerts.delivery import WebhookSink

    sink = WebhookSink(slack.webhook_url)
    health = NotifierHealth()
    health.instrument(sink)
    d = Dispatcher(Ledger(tmp_path / "l.sqlite"), sink, ROUTES)
    d.deliver(alert())
    assert len(slack.webhook_posts) == 1
    calls = "marsad_alerts_slack_calls_total"
    assert value(health, calls, method="incoming_webhook", result="ok") == 1
