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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ingest.errors import PublishError
from marsad.records import Article
from marsad.topics import ARTICLES

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, articles: Sequence[Article]) -> None: ...

    async def aclose(self) -> None: ...


class KafkaPublisher:
    """Articles to the ``articles`` topic, keyed by article id."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic: str = ARTICLES,
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
            producer = KafkaProducer(**settings)
        self._producer = producer
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
            raise PublishError(
                f"broker did not confirm {len(articles)} article(s): {type(exc).__name__}: {exc}"
            ) from exc

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
