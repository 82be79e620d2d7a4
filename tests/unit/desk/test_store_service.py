"""The store's consumer loop with a fake consumer and producer, on a real SQLite store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from desk.store import queries, service
from desk.store.engine import open_engine
from desk.store.migrate import upgrade
from desk.store.records import IncidentFilter
from desk.store.service import StoreConsumer, TransientError, store_group
from marsad.topics import Topics
from tests.unit.desk.store_samples import alert, article, incident

TOPICS = Topics("t-")


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FakeFuture:
    def get(self, timeout: float | None = None) -> None:
        return None


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    def send(self, topic: str, key: bytes | None = None, value: bytes = b"") -> FakeFuture:
        self.sent.append((topic, key, value))
        return FakeFuture()


class FakeConsumer:
    def __init__(self, batches: list[dict[TopicPartition, list[FakeRecord]]]) -> None:
        self.batches = batches
        self.commits: list[dict[TopicPartition, OffsetAndMetadata]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[FakeRecord]]:
        return self.batches.pop(0) if self.batches else {}

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPICS.incidents, 0)}

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.commits.append(offsets)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


def rec(topic: str, offset: int, value: Any, partition: int = 0) -> FakeRecord:
    raw = value if isinstance(value, bytes) else value.to_bytes()
    return FakeRecord(topic, partition, offset, b"k", raw)


def batch(*records: FakeRecord) -> dict[TopicPartition, list[FakeRecord]]:
    out: dict[TopicPartition, list[FakeRecord]] = {}
    for r in records:
        out.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
    return out


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def run(engine: Engine, consumer: FakeConsumer, producer: FakeProducer) -> service.Stats:
    loop = StoreConsumer(engine, consumer, producer, topics=TOPICS, backoff_s=(0.0, 0.0))
    return loop.run(threading.Event(), max_idle_s=0.0)


def test_a_batch_is_stored_then_committed_and_the_unreadable_parked(engine: Engine) -> None:
    consumer = FakeConsumer(
        [
            batch(
                rec(TOPICS.incidents, 0, incident()),
                rec(TOPICS.incidents, 1, incident()),  # redelivered
                rec(TOPICS.incidents, 2, b"not json"),
                rec(TOPICS.alerts, 5, alert(), partition=1),
                rec(TOPICS.articles, 9, article()),
            )
        ]
    )
    producer = FakeProducer()
    stats = run(engine, consumer, producer)
    assert stats.outcomes == {
        "incident stored": 1,
        "incident duplicate": 1,
        "alert stored": 1,
        "article stored": 1,
        "unreadable": 1,
    }
    [(topic, key, value)] = producer.sent
    assert (topic, key) == ("t-incidents.dlq", b"k")
    parked = json.loads(value)
    assert parked["raw"] == "not json" and parked["error"].startswith("unreadable incident")
    [commit] = consumer.commits
    assert {tp: o.offset for tp, o in commit.items()} == {
        TopicPartition(TOPICS.incidents, 0): 3,
        TopicPartition(TOPICS.alerts, 1): 6,
        TopicPartition(TOPICS.articles, 0): 10,
    }
    with engine.connect() as conn:
        assert [r.id for r in queries.incidents(conn, IncidentFilter(since=None))] == ["inc-1"]


def test_a_database_out_of_reach_rewinds_and_commits_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(conn: Connection, item: Any) -> bool:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "write", down)
    consumer = FakeConsumer(
        [batch(rec(TOPICS.incidents, 4, incident()), rec(TOPICS.incidents, 5, incident("b")))]
    )
    loop = StoreConsumer(engine, consumer, FakeProducer(), topics=TOPICS)
    with pytest.raises(TransientError, match="database is locked"):
        loop.serve(consumer.batches[0][TopicPartition(TOPICS.incidents, 0)])
    assert consumer.commits == []
    run(engine, consumer, FakeProducer())
    assert consumer.seeks == [(TopicPartition(TOPICS.incidents, 0), 4)]
    assert consumer.commits == []


def test_a_record_the_database_refuses_is_parked_and_the_rest_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.write

    def picky(conn: Connection, item: Any) -> bool:
        if getattr(item, "id", "") == "bad":
            raise IntegrityError("INSERT", {}, Exception("value too long"))
        return real(conn, item)

    monkeypatch.setattr(service, "write", picky)
    consumer = FakeConsumer(
        [
            batch(
                rec(TOPICS.incidents, 0, incident("good")),
                rec(TOPICS.incidents, 1, incident("bad")),
            )
        ]
    )
    producer = FakeProducer()
    stats = run(engine, consumer, producer)
    assert stats.outcomes == {"incident stored": 1, "unreadable": 1}
    [(topic, _key, value)] = producer.sent
    assert topic == "t-incidents.dlq"
    assert json.loads(value)["id"] == "bad"
    assert "refused by the store" in json.loads(value)["error"]
    assert {o.offset for o in consumer.commits[0].values()} == {2}
    with engine.connect() as conn:
        assert [r.id for r in queries.incidents(conn, IncidentFilter(since=None))] == ["good"]


def test_the_group_is_in_the_namespace() -> None:
    assert store_group(Topics("demo-")) == "demo-marsad-store"
    assert store_group(Topics()) == "marsad-store"


def test_with_max_idle_it_stops_when_no_partition_is_ever_assigned(engine: Engine) -> None:
    class Unassigned(FakeConsumer):
        def assignment(self) -> set[TopicPartition]:
            return set()

    loop = StoreConsumer(engine, Unassigned([]), FakeProducer(), topics=TOPICS)
    stats = loop.run(threading.Event(), max_idle_s=0.0, assignment_wait_s=0.0)
    assert stats.outcomes == {}
