"""The consumer loop with an in-memory consumer: commit after delivery, DLQ, rewind on retry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher
from alerts.ledger import Ledger
from alerts.notifier import Notifier
from marsad.topics import dead_letter
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

ROUTES = routing.parse('default_channel: "#marsad-alerts"')


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FakeConsumer:
    def __init__(self, values: dict[int, list[bytes]]) -> None:
        self.records = {
            TP("alerts", p): [
                Rec("alerts", p, i, f"k{p}-{i}".encode(), v) for i, v in enumerate(vs)
            ]
            for p, vs in values.items()
        }
        self.position = dict.fromkeys(self.records, 0)
        self.committed: dict[TP, int] = {}
        self.seeks: list[tuple[TP, int]] = []

    def poll(self, timeout_ms: int = 0) -> dict[TP, list[Rec]]:
        batch = {}
        for tp, recs in self.records.items():
            if self.position[tp] < len(recs):
                batch[tp] = recs[self.position[tp] :]
                self.position[tp] = len(recs)
        return batch

    def assignment(self) -> set[TP]:
        return set(self.records)

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.position[tp] = offset

    def commit(self, offsets: dict[TP, Any]) -> None:
        for tp, meta in offsets.items():
            assert meta.offset > self.committed.get(tp, 0), "commits only move forward"
            self.committed[tp] = meta.offset


class FakeFuture:
    def get(self, timeout: float) -> None:
        return None


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    def send(self, topic: str, key: bytes | None, value: bytes) -> FakeFuture:
        self.sent.append((topic, key, value))
        return FakeFuture()


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


def make(slack: SlackServer, tmp_path: Path, values: dict[int, list[bytes]]) -> Notifier:
    sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url, max_retries=0)
    dispatcher = Dispatcher(Ledger(tmp_path / "ledger.sqlite"), sink, ROUTES)
    return Notifier(dispatcher, FakeConsumer(values), FakeProducer(), backoff_s=(0.01, 0.02))


def raw(alert_id: str, **kw: Any) -> bytes:
    return json.dumps(samples.alert(alert_id, **kw), ensure_ascii=False).encode()


def test_delivers_in_order_and_commits_each(slack: SlackServer, tmp_path: Path) -> None:
    n = make(slack, tmp_path, {0: [raw("a"), raw("b"), raw("a", revision=2)], 1: [raw("c")]})
    stats = n.run(threading.Event(), max_idle_s=0)
    assert n.consumer.committed == {TP("alerts", 0): 3, TP("alerts", 1): 1}
    assert stats.outcomes == {"posted": 3, "updated": 1}
    texts = [m["text"] for m in slack.messages("#marsad-alerts")]
    assert [t.split("[alert ")[1] for t in texts] == ["a r2]", "b r1]", "c r1]"]


def test_unreadable_and_refused_alerts_are_parked(slack: SlackServer, tmp_path: Path) -> None:
    slack.missing_channels.add("nowhere")
    routed_nowhere = raw("x", rule="to_nowhere")
    n = make(slack, tmp_path, {0: [b"{not json", routed_nowhere, raw("ok")]})
    n.dispatcher.routing = routing.parse(
        'default_channel: "#marsad-alerts"\n'
        'routes: [{match: {rules: [to_nowhere]}, channel: "#nowhere"}]'
    )
    stats = n.run(threading.Event(), max_idle_s=0)
    assert stats.outcomes == {"unreadable": 1, "parked": 1, "posted": 1}
    assert n.consumer.committed == {TP("alerts", 0): 3}
    dlq = [(t, json.loads(v)) for t, _k, v in n.producer.sent]
    assert [t for t, _ in dlq] == ["alerts.dlq", "alerts.dlq"]
    assert dlq[0][1]["raw"] == "{not json" and "unreadable" in dlq[0][1]["error"]
    assert dlq[1][1]["id"] == "x" and dlq[1][1]["summary_ar"] == samples.SUMMARY_AR
    assert "channel_not_found" in dlq[1][1]["error"]
    assert n.dispatcher.ledger.get("x", 1).state == "parked"  # type: ignore[union-attr]
    assert len(slack.messages("#marsad-alerts")) == 1


def test_transient_failure_rewinds_and_retries(slack: SlackServer, tmp_path: Path) -> None:
    n = make(slack, tmp_path, {0: [raw("a"), raw("b")], 1: [raw("c")]})
    slack.fail_next_5xx(2)
    stats = n.run(threading.Event(), max_idle_s=0.5)
    assert stats.outcomes == {"retried": 2, "posted": 3}
    assert (TP("alerts", 0), 0) in n.consumer.seeks
    assert n.consumer.committed == {TP("alerts", 0): 2, TP("alerts", 1): 1}
    assert len(slack.messages("#marsad-alerts")) == 3


def test_stop_finishes_current_record_and_rewinds_the_rest(
    slack: SlackServer, tmp_path: Path
) -> None:
    stop = threading.Event()
    slack.on_post = lambda n, msg: stop.set()  # the stop signal arrives during the first post
    n = make(slack, tmp_path, {0: [raw("a"), raw("b"), raw("c")]})
    n.run(stop)
    assert n.consumer.committed == {TP("alerts", 0): 1}
    assert n.consumer.position[TP("alerts", 0)] == 1
    assert len(slack.messages("#marsad-alerts")) == 1


def test_dead_letter_keeps_original_fields() -> None:
    assert json.loads(dead_letter(b'{"id": "a", "schema": 1}', "boom")) == {
        "id": "a",
        "schema": 1,
        "error": "boom",
    }


def test_dlq_outage_keeps_the_record(slack: SlackServer, tmp_path: Path) -> None:
    from kafka.errors import KafkaTimeoutError

    stop = threading.Event()

    class DownProducer(FakeProducer):
        def send(self, topic: str, key: bytes | None, value: bytes) -> FakeFuture:
            self.sent.append((topic, key, value))
            if len(self.sent) == 3:
                stop.set()
            raise KafkaTimeoutError("broker unavailable")

    n = make(slack, tmp_path, {0: [b"not json"]})
    n.producer = DownProducer()
    stats = n.run(stop)
    assert stats.outcomes == {"retried": 3}
    assert n.consumer.committed == {}
    assert n.consumer.position[TP("alerts", 0)] == 0  # rewound: read again next time


class FlakyConsumer(FakeConsumer):
    """Raises like kafka-python's poll while the broker is down, then recovers."""

    def __init__(self, values: dict[int, list[bytes]], failures: int) -> None:
        super().__init__(values)
        self.failures = failures

    def poll(self, timeout_ms: int = 0) -> dict[TP, list[Rec]]:
        if self.failures:
            from kafka.errors import KafkaConnectionError

            self.failures -= 1
            raise KafkaConnectionError("111 ECONNREFUSED")
        return super().poll(timeout_ms)


def test_a_broker_outage_during_poll_is_waited_out(slack: SlackServer, tmp_path: Path) -> None:
    sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url, max_retries=0)
    dispatcher = Dispatcher(Ledger(tmp_path / "ledger.sqlite"), sink, ROUTES)
    consumer = FlakyConsumer({0: [raw("a")]}, failures=3)
    n = Notifier(dispatcher, consumer, FakeProducer(), backoff_s=(0.01, 0.02))
    stats = n.run(threading.Event(), max_idle_s=0)
    assert consumer.failures == 0
    assert consumer.committed == {TP("alerts", 0): 1}
    assert stats.outcomes == {"posted": 1}
