"""The store's metrics and verdict with a fake consumer and an injected clock; and the loop
feeding them (a fake consumer and producer, a real SQLite store)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from desk.store import service
from desk.store.engine import open_engine
from desk.store.health import StoreHealth
from desk.store.migrate import upgrade
from desk.store.service import StoreConsumer
from tests.unit.desk.store_samples import alert, article, incident
from tests.unit.desk.test_store_service import TOPICS, FakeConsumer, FakeProducer, batch, rec

INCIDENTS_0 = TopicPartition(TOPICS.incidents, 0)
ALERTS_1 = TopicPartition(TOPICS.alerts, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Positions:
    """A consumer as ``polled`` sees it: assignment, high-water marks, positions."""

    def __init__(self, **parts: tuple[int | None, int | None]) -> None:
        self.parts: dict[TopicPartition, tuple[int | None, int | None]] = {
            {"incidents": INCIDENTS_0, "alerts": ALERTS_1}[name]: hp for name, hp in parts.items()
        }

    def assignment(self) -> set[TopicPartition]:
        return set(self.parts)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.parts[tp][0]

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int | None:
        position = self.parts[tp][1]
        if position is None:
            raise RuntimeError("no position yet")
        return position


def samples(health: StoreHealth) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = health.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_idle_without_lag_is_healthy_however_long(clock: Clock) -> None:
    health = StoreHealth(stalled_after=300, stale_after=600, clock=clock)
    for _ in range(10):
        clock.now += 250
        health.polled(Positions(incidents=(7, 7), alerts=(3, 3)))
    status, body = health.health()
    assert status == 200 and body["status"] == "ok"
    assert body["lag"] == 0 and body["assigned"] == 2
    assert body["last_write_age_s"] is None  # nothing written, and that is fine


def test_lag_without_a_batch_done_for_the_threshold_is_stalled(clock: Clock) -> None:
    health = StoreHealth(stalled_after=300, stale_after=600, clock=clock)
    lagging = Positions(incidents=(10, 4), alerts=(3, 3))
    health.polled(lagging)
    clock.now += 299
    health.polled(lagging)
    assert health.health()[0] == 200  # not yet
    clock.now += 2
    health.polled(lagging)
    status, body = health.health()
    assert status == 503 and body["status"] == "stalled"
    assert body["lag"] == 6 and body["lagging_partitions"] == [f"{TOPICS.incidents}[0]"]
    assert samples(health)[("marsad_store_stalled", ())] == 1
    # a batch written is progress: healthy again, and the counters say what it was
    health.served({("incident", "written"): 6})
    status, body = health.health()
    assert status == 200 and body["status"] == "ok" and body["last_write_age_s"] == 0
    assert samples(health)[("marsad_store_stalled", ())] == 0


def test_lag_that_was_just_caught_up_to_is_not_stalled(clock: Clock) -> None:
    """Idle for an hour, then records arrive: the wait is counted from the last moment
    without lag, not from the last write an hour ago."""
    health = StoreHealth(stalled_after=300, clock=clock)
    clock.now += 3600
    health.polled(Positions(incidents=(5, 5)))
    clock.now += 1
    health.polled(Positions(incidents=(9, 5)))
    assert health.health()[0] == 200


def test_a_loop_that_stops_coming_round_is_stale(clock: Clock) -> None:
    health = StoreHealth(stalled_after=300, stale_after=600, clock=clock)
    health.polled(Positions(incidents=(5, 5)))
    clock.now += 601
    status, body = health.health()
    assert status == 503 and body["status"] == "stale"
    assert body["last_poll_age_s"] == 601


def test_a_partition_without_a_position_or_highwater_has_no_figure(clock: Clock) -> None:
    health = StoreHealth(clock=clock)
    health.polled(Positions(incidents=(None, 3), alerts=(8, None)))
    metrics = samples(health)
    assert not [k for k in metrics if k[0] == "marsad_store_consumer_lag"]
    assert metrics[("marsad_store_assigned_partitions", ())] == 2


def test_lag_per_topic_partition_and_a_revoked_partition_disappears(clock: Clock) -> None:
    health = StoreHealth(clock=clock)
    health.polled(Positions(incidents=(10, 4), alerts=(3, 1)))
    metrics = samples(health)
    lag = "marsad_store_consumer_lag"
    assert metrics[(lag, (("partition", "0"), ("topic", TOPICS.incidents)))] == 6
    assert metrics[(lag, (("partition", "1"), ("topic", TOPICS.alerts)))] == 2
    health.polled(Positions(alerts=(3, 3)))
    metrics = samples(health)
    assert (lag, (("partition", "0"), ("topic", TOPICS.incidents))) not in metrics
    assert metrics[(lag, (("partition", "1"), ("topic", TOPICS.alerts)))] == 0


def test_metrics_text_names_every_series_with_zeroes_from_the_start(clock: Clock) -> None:
    health = StoreHealth(clock=clock)
    metrics = samples(health)
    names = {name for name, _labels in metrics}
    assert {
        "marsad_store_records_total",
        "marsad_store_dlq_messages_total",
        "marsad_store_assigned_partitions",
        "marsad_store_last_write_timestamp_seconds",
        "marsad_store_last_progress_timestamp_seconds",
        "marsad_store_last_poll_timestamp_seconds",
        "marsad_store_stalled",
    } <= names
    records = {labels: v for (n, labels), v in metrics.items() if n == "marsad_store_records_total"}
    assert len(records) == 9 and set(records.values()) == {0.0}  # 3 kinds x 3 outcomes
    assert metrics[("marsad_store_last_write_timestamp_seconds", ())] == 0
    clock.now += 5
    health.served(
        {("alert", "written"): 2, ("alert", "duplicate"): 1, ("article", "parked"): 1},
        {"refused": 1},
    )
    metrics = samples(health)
    total = "marsad_store_records_total"
    assert metrics[(total, (("kind", "alert"), ("outcome", "written")))] == 2
    assert metrics[(total, (("kind", "alert"), ("outcome", "duplicate")))] == 1
    assert metrics[(total, (("kind", "article"), ("outcome", "parked")))] == 1
    assert metrics[("marsad_store_dlq_messages_total", (("reason", "refused"),))] == 1
    assert metrics[("marsad_store_dlq_messages_total", (("reason", "unreadable"),))] == 0
    assert metrics[("marsad_store_last_write_timestamp_seconds", ())] == clock.now


class Recording(StoreHealth):
    def __init__(self) -> None:
        super().__init__()
        self.polls = 0
        self.batches: list[tuple[dict[tuple[str, str], int], dict[str, int]]] = []

    def polled(self, consumer: Any) -> None:
        self.polls += 1

    def served(self, outcomes: Any, dead_letters: Any = None) -> None:
        self.batches.append((dict(outcomes), dict(dead_letters or {})))
        super().served(outcomes, dead_letters)


def test_the_loop_tells_its_observer_each_poll_and_each_batch(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    consumer = FakeConsumer(
        [
            batch(
                rec(TOPICS.incidents, 0, incident("inc-1", 1)),
                rec(TOPICS.incidents, 1, incident("inc-1", 1)),  # redelivered
                rec(TOPICS.incidents, 2, b"not json"),
                rec(TOPICS.alerts, 0, alert("alert-1", 1)),
                rec(TOPICS.articles, 0, article("art-1")),
            )
        ]
    )
    observer = Recording()
    loop = StoreConsumer(engine, consumer, FakeProducer(), topics=TOPICS, observer=observer)
    loop.run(threading.Event(), max_idle_s=0.0)
    engine.dispose()
    assert observer.polls >= 2
    assert observer.batches == [
        (
            {
                ("incident", "written"): 1,
                ("incident", "duplicate"): 1,
                ("incident", "parked"): 1,
                ("alert", "written"): 1,
                ("article", "written"): 1,
            },
            {"unreadable": 1},
        )
    ]
    metrics = samples(observer)
    total = "marsad_store_records_total"
    assert metrics[(total, (("kind", "incident"), ("outcome", "written")))] == 1
    assert metrics[("marsad_store_dlq_messages_total", (("reason", "unreadable"),))] == 1


def test_a_refused_record_is_parked_with_its_reason_and_a_failed_batch_is_no_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    real = service.write
    down = {"now": True}

    def flaky(conn: Connection, item: Any) -> bool:
        if down["now"]:
            down["now"] = False  # the database is back for the next reading
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        if getattr(item, "id", "") == "bad":
            raise IntegrityError("INSERT", {}, Exception("value too long"))
        return real(conn, item)

    monkeypatch.setattr(service, "write", flaky)
    records = [rec(TOPICS.alerts, 0, alert("good", 1)), rec(TOPICS.alerts, 1, alert("bad", 1))]
    consumer = FakeConsumer([batch(*records), batch(*records)])  # read again after the rewind
    observer = Recording()
    loop = StoreConsumer(
        engine, consumer, FakeProducer(), topics=TOPICS, backoff_s=(0.0, 0.0), observer=observer
    )
    loop.run(threading.Event(), max_idle_s=0.0)
    engine.dispose()
    assert consumer.seeks == [(TopicPartition(TOPICS.alerts, 0), 0)]
    assert observer.batches == [({("alert", "written"): 1, ("alert", "parked"): 1}, {"refused": 1})]
