"""KafkaPublisher: all-or-nothing batches, and a wedged producer is replaced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ingest.errors import PublishError
from ingest.publish import RENEW_AFTER_FAILURES, KafkaPublisher
from marsad.records import Article


class _Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class FakeProducer:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.sent: list[bytes] = []
        self.closed_with: float | None = None

    def send(self, topic: str, key: bytes, value: bytes) -> _Future:
        self.sent.append(key)
        return _Future(TimeoutError("Timeout after waiting for 30.0 secs") if self.fail else None)

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        self.closed_with = timeout


ARTICLE = Article(id="a1", text="نص")


def _publish(pub: KafkaPublisher) -> Any:
    return asyncio.run(pub.publish([ARTICLE]))


def test_failed_batch_raises_publish_error() -> None:
    pub = KafkaPublisher("unused:9092", producer=FakeProducer(fail=True))
    with pytest.raises(PublishError, match="did not confirm 1 article"):
        _publish(pub)


def test_wedged_producer_is_replaced_after_repeated_failures() -> None:
    wedged, fresh = FakeProducer(fail=True), FakeProducer(fail=False)
    pub = KafkaPublisher("unused:9092", producer=wedged)
    pub._factory = lambda: fresh  # what a real (non-injected) publisher builds
    for _ in range(RENEW_AFTER_FAILURES):
        with pytest.raises(PublishError):
            _publish(pub)
    assert wedged.closed_with == 0, "the wedged producer's records are dropped, not flushed"
    _publish(pub)
    assert fresh.sent == [b"a1"]


def test_producer_kept_when_a_new_one_cannot_be_built() -> None:
    wedged = FakeProducer(fail=True)
    pub = KafkaPublisher("unused:9092", producer=wedged)

    def unreachable() -> Any:
        raise ConnectionError("NoBrokersAvailable")

    pub._factory = unreachable
    for _ in range(RENEW_AFTER_FAILURES):
        with pytest.raises(PublishError):
            _publish(pub)
    assert wedged.closed_with is None
    assert pub._producer is wedged


def test_success_resets_the_failure_count() -> None:
    flaky = FakeProducer(fail=True)
    pub = KafkaPublisher("unused:9092", producer=flaky)
    built: list[FakeProducer] = []

    def fresh() -> FakeProducer:
        built.append(FakeProducer(fail=False))
        return built[-1]

    pub._factory = fresh
    for _ in range(RENEW_AFTER_FAILURES - 1):
        with pytest.raises(PublishError):
            _publish(pub)
    flaky.fail = False
    _publish(pub)
    flaky.fail = True
    for _ in range(RENEW_AFTER_FAILURES - 1):
        with pytest.raises(PublishError):
            _publish(pub)
    assert built == [], "failures separated by a success do not renew the producer"
