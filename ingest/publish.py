"""Publishing articles: all or nothing per fetch, confirmed by the broker.

The Kafka producer is idempotent with ``acks="all"``: a retried send cannot duplicate a
record, and a send counts only once the broker has it.  :meth:`KafkaPublisher.publish`
returns only when EVERY article of the batch is confirmed, and raises
:class:`~ingest.errors.PublishError` otherwise — the poller then leaves the feed's state
untouched, so nothing is lost when the broker is down (it is re-fetched and re-sent later;
the stream processor is keyed by article id, so a re-send after a partial failure is
harmless).

kafka-python's ``send`` may block (metadata, full buffer), so batches run in a small thread
pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ingest.errors import PublishError
from marsad.records import Article
from marsad.topics import Topics

log = logging.getLogger(__name__)

#: Consecutive failed publishes after which the producer is rebuilt.
RENEW_AFTER_FAILURES = 3


class Publisher(Protocol):
    async def publish(self, articles: Sequence[Article]) -> None: ...

    async def aclose(self) -> None: ...


class KafkaPublisher:
    """Articles to the ``articles`` topic, keyed by article id."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic: str = Topics().articles,  # the contract's name; the CLI passes its namespace's
        timeout_s: float = 30.0,
        workers: int = 4,
        producer: Any = None,
        **config: Any,
    ) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        if producer is None:
            from kafka import KafkaProducer

            settings: dict[str, Any] = {
                "bootstrap_servers": bootstrap,
                "client_id": "marsad-ingest",
                "acks": "all",
                "enable_idempotence": True,
                "linger_ms": 5,
                "compression_type": None,
                "max_block_ms": int(timeout_s * 1000),
                "request_timeout_ms": max(1_000, min(15_000, int(timeout_s * 500))),
                "delivery_timeout_ms": int(timeout_s * 1000),
                # After an outage, find the broker again within seconds, not half a minute.
                "reconnect_backoff_max_ms": 2_000,
            }
            settings.update(config)
            self._factory: Callable[[], Any] | None = lambda: KafkaProducer(**settings)
            producer = self._factory()
        else:
            self._factory = None  # an injected producer (tests) is never replaced
        self._producer = producer
        self._failures = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-publish")

    def _publish_blocking(self, articles: Sequence[Article]) -> None:
        futures = []
        try:
            for article in articles:
                futures.append(
                    self._producer.send(
                        self.topic, key=article.id.encode("utf-8"), value=article.to_bytes()
                    )
                )
            for future in futures:
                future.get(timeout=self.timeout_s)
        except Exception as exc:
            self._failures += 1
            if self._failures >= RENEW_AFTER_FAILURES:
                self._renew_producer()
            raise PublishError(
                f"broker did not confirm {len(articles)} article(s): {type(exc).__name__}: {exc}"
            ) from exc
        self._failures = 0

    def _renew_producer(self) -> None:
        """Replace a producer that keeps failing with a fresh one.

        Seen in the disk-failure drill: after the broker lost its disk with batches in flight,
        kafka-python's producer stayed wedged (every send timed out) long after the broker
        was back. Its unconfirmed records are dropped, not flushed: their feeds' state was
        never advanced, so the poller re-fetches and re-sends them, once.
        """
        if self._factory is None:
            return
        log.warning("Kafka producer failed %d publishes in a row; replacing it", self._failures)
        try:
            fresh = self._factory()
        except Exception as exc:  # broker still unreachable: keep the old one, retry later
            log.warning("could not create a new Kafka producer yet: %s", exc)
            return
        old, self._producer, self._failures = self._producer, fresh, 0
        try:
            old.close(timeout=0)
        except Exception:  # a wedged producer may fail to close; it is dropped either way
            log.debug("closing the old producer failed", exc_info=True)

    async def publish(self, articles: Sequence[Article]) -> None:
        if not articles:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._publish_blocking, list(articles))

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._close_blocking)
        self._pool.shutdown(wait=True)

    def _close_blocking(self) -> None:
        try:
            self._producer.flush(timeout=self.timeout_s)
        finally:
            self._producer.close(timeout=self.timeout_s)


class MemoryPublisher:
    """In-memory publisher for unit tests and the offline benchmark; ``fail`` simulates an
    unreachable broker."""

    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.fail = False
        self.batches = 0

    async def publish(self, articles: Sequence[Article]) -> None:
        if not articles:
            return
        if self.fail:
            raise PublishError(f"simulated broker outage ({len(articles)} article(s) unsent)")
        self.batches += 1
        self.articles.extend(articles)

    async def aclose(self) -> None:
        return None
