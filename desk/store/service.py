"""The store service: consume ``incidents``, ``alerts`` and ``articles`` into the database.

Why offsets are committed only after the database transaction: a crash between the two
re-reads records already stored, and the writer's conflict rule makes that a no-op; the
other order could lose a batch. So one poll's records are written in one transaction, then
what could not be read is parked on its topic's dead-letter topic (acknowledged by the
broker), then the batch's offsets are committed.

Failures:

* an unreadable record (not JSON, not the topic's record) goes to ``<topic>.dlq`` with the
  reason, as the other services do, and the store moves on;
* a record the database refuses (an id longer than the schema allows, say) is found by
  writing the batch again one record per transaction, and parked the same way;
* the database or the broker out of reach: the batch is read again from its first offset
  after a pause that grows to a minute, so nothing is skipped and nothing is lost.

Stopping: SIGTERM/SIGINT set the stop event; the loop finishes the batch in hand (write,
park, commit), then closes its clients in this thread.

Watching: an observer (``desk.store.health.StoreHealth`` behind ``/metrics`` and ``/healthz``)
is told before each poll and after each batch; the loop knows nothing more of Prometheus.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from desk.store.writer import store_alert, store_article, store_incident
from marsad.kafka.clients import IdleWatch, close_clients, committing_consumer, dlq_producer
from marsad.records import Alert, Article, RecordError, StoredIncident
from marsad.topics import Topics, dead_letter, dlq

log = logging.getLogger(__name__)

#: The record type each topic carries, and how it is stored.
Parsed = StoredIncident | Alert | Article


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Observer(Protocol):
    """What the loop tells whoever watches it (``desk.store.health.StoreHealth``)."""

    def polled(self, consumer: Any) -> None:
        """Before each poll (the consumer's positions are the next records to write)."""

    def served(
        self,
        outcomes: Mapping[tuple[str, str], int],
        dead_letters: Mapping[str, int] | None = None,
    ) -> None:
        """A batch done with: records by ``(kind, written | duplicate | parked)``, and the
        parked ones by reason (``unreadable``, ``refused``)."""


def store_group(topics: Topics) -> str:
    """The store's consumer group in ``topics``' namespace."""
    return f"{topics.prefix}marsad-store"


@dataclass
class Stats:
    """What the service did, by outcome (``incident stored``, ``alert duplicate``, …)."""

    outcomes: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing"


@dataclass(frozen=True)
class Kinds:
    """Which topic carries which record (from the namespace's :class:`Topics`)."""

    topics: Topics

    def parse(self, record: Record) -> Parsed:
        """The record ``record`` carries; :class:`RecordError` when it is not one."""
        raw = record.value or b""
        if record.topic == self.topics.incidents:
            return StoredIncident.from_json(raw)
        if record.topic == self.topics.alerts:
            return Alert.from_json(raw)
        if record.topic == self.topics.articles:
            return Article.from_json(raw)
        raise RecordError(f"the store does not read {record.topic}")


def kind_of(item: Parsed) -> str:
    if isinstance(item, StoredIncident):
        return "incident"
    if isinstance(item, Alert):
        return "alert"
    return "article"


def write(conn: Connection, item: Parsed) -> bool:
    """Store one record; False when it was already stored."""
    if isinstance(item, StoredIncident):
        return store_incident(conn, item)
    if isinstance(item, Alert):
        return store_alert(conn, item)
    return store_article(conn, item)


class TransientError(Exception):
    """The database or the broker could not be reached: read the batch again later."""


class StoreConsumer:
    """Consumer loop: poll, write the batch in one transaction, park the bad, commit."""

    def __init__(
        self,
        engine: Engine,
        consumer: Any,
        producer: Any,
        *,
        topics: Topics,
        backoff_s: tuple[float, float] = (1.0, 60.0),
        observer: Observer | None = None,
    ) -> None:
        self.engine = engine
        self.observer = observer
        self.consumer = consumer
        self.producer = producer
        self.kinds = Kinds(topics)
        self.backoff_min, self.backoff_max = backoff_s
        self.stats = Stats()
        self._backoff = 0.0

    def run(
        self,
        stop: threading.Event,
        max_idle_s: float | None = None,
        assignment_wait_s: float = 120.0,
    ) -> Stats:
        """Serve until ``stop`` is set (or ``max_idle_s`` passes without a record once
        partitions are assigned; with ``max_idle_s``, also when none is assigned after
        ``assignment_wait_s``)."""
        idle = IdleWatch(max_idle_s, assignment_wait_s)
        while not stop.is_set():
            if self.observer is not None:
                self.observer.polled(self.consumer)
            batch = self._poll(stop)
            if batch is None:
                continue
            records = [r for part in batch.values() for r in part]
            if not records:
                if idle.done(bool(self.consumer.assignment())):
                    break
                continue
            idle.busy()
            try:
                self.serve(records)
                self._backoff = 0.0
            except TransientError as exc:
                self._rewind(batch)
                pause = self._next_backoff()
                log.warning("%s: reading the batch again in %.1f s", exc, pause)
                stop.wait(pause)
        log.info("store stopped: %s", self.stats)
        return self.stats

    def serve(self, records: Sequence[Record]) -> None:
        """One batch: write, park what failed, commit offsets. Raises :class:`TransientError`
        (nothing committed) when the database or the broker is out of reach."""
        good: list[tuple[Record, Parsed]] = []
        bad: list[tuple[Record, str, str]] = []  # record, reason, error
        for record in records:
            try:
                good.append((record, self.kinds.parse(record)))
            except RecordError as exc:
                error = f"unreadable {_what(record, self.kinds.topics)}: {exc}"
                bad.append((record, "unreadable", error))
        written, refused = self._write(good)
        bad += [(record, "refused", error) for record, error in refused]
        for record, _reason, error in bad:
            log.error("%s: %s: parked on %s", _where(record), error, dlq(record.topic))
            self._park(record, error)
        self._commit(records)
        outcomes = Counter({f"{kind} {_LOGGED[how]}": n for (kind, how), n in written.items()})
        outcomes.update("unreadable" for _ in bad)
        self.stats.outcomes.update(outcomes)
        log.info("batch of %d: %s", len(records), Stats(outcomes))
        if self.observer is not None:
            written.update((_what(record, self.kinds.topics), "parked") for record, _, _ in bad)
            self.observer.served(written, Counter(reason for _, reason, _ in bad))

    def _write(
        self, good: list[tuple[Record, Parsed]]
    ) -> tuple[Counter[tuple[str, str]], list[tuple[Record, str]]]:
        """All in one transaction; if the database refuses one, one transaction each."""
        if not good:
            return Counter(), []
        try:
            return self._transaction(good), []
        except OperationalError as exc:
            raise TransientError(f"database: {_first_line(exc)}") from exc
        except DBAPIError as exc:
            log.warning("batch refused (%s): writing its records one by one", _first_line(exc))
        outcomes: Counter[tuple[str, str]] = Counter()
        refused: list[tuple[Record, str]] = []
        for record, item in good:
            try:
                outcomes += self._transaction([(record, item)])
            except OperationalError as exc:
                raise TransientError(f"database: {_first_line(exc)}") from exc
            except DBAPIError as exc:
                refused.append((record, f"refused by the store: {_first_line(exc)}"))
        return outcomes, refused

    def _transaction(self, items: Iterable[tuple[Record, Parsed]]) -> Counter[tuple[str, str]]:
        """``(kind, "written" | "duplicate")`` of each record, in one transaction."""
        outcomes: Counter[tuple[str, str]] = Counter()
        with self.engine.begin() as conn:
            for _record, item in items:
                new = write(conn, item)
                outcomes[(kind_of(item), "written" if new else "duplicate")] += 1
        return outcomes

    def _park(self, record: Record, error: str) -> None:
        from kafka.errors import KafkaError

        try:
            future = self.producer.send(
                dlq(record.topic), key=record.key, value=dead_letter(record.value, error)
            )
            future.get(timeout=30)
        except KafkaError as exc:
            raise TransientError(f"could not park on {dlq(record.topic)}: {exc}") from exc

    def _commit(self, records: Sequence[Record]) -> None:
        from kafka.errors import KafkaError
        from kafka.structs import OffsetAndMetadata, TopicPartition

        last: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            last[tp] = max(last.get(tp, -1), r.offset)
        try:
            self.consumer.commit(
                {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()}
            )
        except KafkaError as exc:
            # Stored already: read again after a rebalance, the writer makes it a no-op.
            log.warning("offset commit failed (%s); a re-read will be a no-op", exc)

    def _rewind(self, batch: dict[Any, list[Record]]) -> None:
        for tp, records in batch.items():
            if records:
                self.consumer.seek(tp, min(r.offset for r in records))

    def _poll(self, stop: threading.Event) -> dict[Any, list[Record]] | None:
        from kafka.errors import KafkaError

        try:
            batch: dict[Any, list[Record]] = self.consumer.poll(timeout_ms=500)
        except KafkaError as exc:
            pause = self._next_backoff()
            log.warning("broker unreachable (%s): polling again in %.1f s", exc, pause)
            stop.wait(pause)
            return None
        return batch

    def _next_backoff(self) -> float:
        self._backoff = min(self.backoff_max, max(self.backoff_min, self._backoff * 2))
        return self._backoff


#: How the log line and :class:`Stats` name an outcome ("incident stored").
_LOGGED = {"written": "stored", "duplicate": "duplicate"}


def _what(record: Record, topics: Topics) -> str:
    return {topics.incidents: "incident", topics.alerts: "alert", topics.articles: "article"}.get(
        record.topic, "record"
    )


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def run_store(
    engine: Engine,
    bootstrap: str,
    stop: threading.Event,
    *,
    topics: Topics,
    group_id: str | None = None,
    max_idle_s: float | None = None,
    observer: Observer | None = None,
) -> Stats:
    """Consume the namespace's incidents, alerts and articles into ``engine`` until ``stop``
    (or idle), telling ``observer`` (metrics, health) as it goes; close the clients in this
    thread afterwards."""
    consumer = committing_consumer(
        topics.incidents,
        topics.alerts,
        topics.articles,
        bootstrap=bootstrap,
        group_id=group_id or store_group(topics),
        client_id="marsad-store",
        max_poll_records=500,
    )
    producer = None
    try:
        producer = dlq_producer(bootstrap, "marsad-store-dlq")
        return StoreConsumer(engine, consumer, producer, topics=topics, observer=observer).run(
            stop, max_idle_s=max_idle_s
        )
    finally:
        close_clients(consumer, producer)
