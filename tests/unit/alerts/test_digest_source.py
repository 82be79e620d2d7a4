"""How the incidents topic is read for the digest, against a fake consumer (the broker's own
answers, including a wrong "nothing since then", are played back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import TopicPartition
from kafka.structs import OffsetAndTimestamp

from alerts.digest.source import KafkaIncidentSource
from tests.support.digest_samples import MORNING, incident

TOPIC = "incidents"
DAY = timedelta(days=1)


@dataclass
class Rec:
    offset: int
    timestamp: int
    value: bytes


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class FakeConsumer:
    """One partition's log from ``first`` on; ``by_time`` is what the broker answers."""

    def __init__(self, log: list[tuple[datetime, bytes]], first: int, by_time: int | None):
        self.tp = TopicPartition(TOPIC, 0)
        self.log = [Rec(i, ms(at), value) for i, (at, value) in enumerate(log)]
        self.first, self.by_time = first, by_time
        self.pos = 0

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def assign(self, tps: list[Any]) -> None:
        assert tps == [self.tp]

    def end_offsets(self, tps: list[Any]) -> dict[Any, int]:
        return {self.tp: len(self.log)}

    def beginning_offsets(self, tps: list[Any]) -> dict[Any, int]:
        return {self.tp: self.first}

    def offsets_for_times(self, times: dict[Any, int]) -> dict[Any, Any]:
        if self.by_time is None:
            return {self.tp: None}
        return {self.tp: OffsetAndTimestamp(self.by_time, self.log[self.by_time].timestamp, 0)}

    def seek(self, tp: Any, offset: int) -> None:
        self.pos = offset

    def position(self, tp: Any) -> int:
        return self.pos

    def poll(self, timeout_ms: int) -> dict[Any, list[Rec]]:
        batch = self.log[self.pos : self.pos + 2]
        self.pos += len(batch)
        return {self.tp: batch} if batch else {}


def log() -> list[tuple[datetime, bytes]]:
    return [
        (MORNING - 20 * DAY, incident("old", 1, MORNING - 20 * DAY).to_bytes()),
        (MORNING - 10 * DAY, incident("kept", 2, MORNING - 10 * DAY).to_bytes()),
        (MORNING - 2 * DAY, incident("recent", 3, MORNING - 2 * DAY).to_bytes()),
        (MORNING - DAY / 2, b"not json"),
        (MORNING + DAY / 2, incident("recent", 30, MORNING - 2 * DAY, revision=2).to_bytes()),
    ]


def read(consumer: FakeConsumer) -> tuple[list[str], datetime | None]:
    source = KafkaIncidentSource("127.0.0.1:9", TOPIC)
    got = source._read(consumer, MORNING - 15 * DAY, MORNING)
    return [f"{i.id}@{i.killed}" for i in got], source.held_from


def test_from_the_first_record_since_to_the_digest_time() -> None:
    ids, held = read(FakeConsumer(log(), first=0, by_time=1))
    assert ids == ["kept@2", "recent@3"]  # not JSON: left out; after the digest time: too
    assert held is None


def test_a_topic_whose_older_records_were_deleted_says_from_when_it_holds() -> None:
    ids, held = read(FakeConsumer(log(), first=1, by_time=1))
    assert ids == ["kept@2", "recent@3"]
    assert held == (MORNING - 10 * DAY).astimezone(UTC)


def test_a_wrong_nothing_since_then_is_caught_by_the_newest_record() -> None:
    """The broker answered -1 although records since then are held: read from the start."""
    ids, held = read(FakeConsumer(log(), first=1, by_time=None))
    assert ids == ["kept@2", "recent@3"]
    assert held == (MORNING - 10 * DAY).astimezone(UTC)


def test_a_partition_quiet_since_then_is_not_read() -> None:
    quiet = log()[:1]
    consumer = FakeConsumer(quiet, first=0, by_time=None)
    assert read(consumer) == ([], None)
    assert consumer.pos == 1
