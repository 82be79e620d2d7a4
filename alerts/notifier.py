"""The Kafka side of the notifier: consume ``alerts`` in order, deliver, then commit.

Why commit per message, manually: an offset is committed only once the alert is safely in
Slack (and in the ledger) or parked on ``alerts.dlq``.  Whatever dies — the notifier, Slack,
the broker — an uncommitted alert is read again, and the ledger turns a re-read into a skip.

Failures:

* transient (rate limit beyond slack-sdk's retries, 5xx, network): the consumer seeks back to
  the failed record and retries it after an increasing pause, keeping order per partition;
* permanent (``channel_not_found``, ``invalid_auth``…) or unreadable records: the original
  value plus ``error`` goes to ``alerts.dlq`` (acknowledged by the broker), the ledger marks
  the revision parked, the offset is committed, and the next alert is served.

Stopping: SIGTERM/SIGINT only set the stop event (``marsad.commands.stop_on_signals``); the
loop finishes the alert in hand, and the thread that ran it closes the clients
(:func:`marsad.kafka.clients.close_clients`): nothing is closed from a signal handler or
while a poll runs.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from alerts.delivery import PermanentDeliveryError, TransientDeliveryError
from alerts.dispatch import Dispatcher
from marsad.kafka.clients import IdleWatch
from marsad.records import Alert, RecordError
from marsad.topics import Topics, dead_letter, dlq

log = logging.getLogger(__name__)


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Stats:
    outcomes: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing"


class Gate(Protocol):
    """What may hold an alert back before delivery (``alerts.interactive.gate.DeskGate``: a
    desk's mute). True: the alert was recorded as held and is not delivered; it is committed
    and counted ``muted``."""

    def hold(self, alert: Alert) -> bool: ...


class Observer(Protocol):
    """What watches the loop (``alerts.health.NotifierHealth``): the consumer before each
    poll, and each outcome counted in :class:`Stats`."""

    def polled(self, consumer: Any) -> None: ...

    def served(self, outcome: str, alert: Alert | None = None) -> None: ...


class Notifier:
    """Consumer loop around a :class:`Dispatcher`; owns neither the consumer nor the producer."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        consumer: Any,
        producer: Any,
        *,
        dlq_topic: str = dlq(Topics().alerts),  # the contract's alerts.dlq
        backoff_s: tuple[float, float] = (1.0, 60.0),
        observer: Observer | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.observer = observer
        self.gate = gate
        self.consumer = consumer
        self.producer = producer
        self.dlq_topic = dlq_topic
        self.backoff_min, self.backoff_max = backoff_s
        self.stats = Stats()
        self._backoff = 0.0

    def run(
        self,
        stop: threading.Event,
        max_idle_s: float | None = None,
        assignment_wait_s: float = 120.0,
    ) -> Stats:
        """Serve until ``stop`` is set (or ``max_idle_s`` passes without a record).

        Idle time counts only once partitions are assigned: after a crash the group first
        waits for the dead member's session to expire, which is not "no alerts".
        """
        idle = IdleWatch(max_idle_s, assignment_wait_s, nothing="no alert")
        while not stop.is_set():
            if self.observer is not None:
                self.observer.polled(self.consumer)
            batch = self._poll(stop)
            if batch is None:
                continue  # the broker is out of reach: waited, try again
            if not batch:
                if idle.done(bool(self.consumer.assignment())):
                    break
                continue
            idle.busy()
            if not self._serve_batch(batch, stop):
                pause = self._next_backoff()
                log.info("retrying in %.1f s", pause)
                stop.wait(pause)
        log.info("notifier stopped: %s", self.stats)
        return self.stats

    def _poll(self, stop: threading.Event) -> dict[Any, list[Record]] | None:
        """One poll; None when the broker cannot be reached (kafka-python raises from poll
        while a metadata refresh finds it down). The loop must outlive a broker outage: it
        waits with back-off and polls again from its position, so nothing is skipped."""
        from kafka.errors import KafkaError

        try:
            batch: dict[Any, list[Record]] = self.consumer.poll(timeout_ms=500)
        except KafkaError as exc:
            pause = self._next_backoff()
            log.warning("broker unreachable (%s): polling again in %.1f s", exc, pause)
            stop.wait(pause)
            return None
        return batch

    def _count(self, outcome: str, alert: Alert | None = None) -> None:
        self.stats.outcomes[outcome] += 1
        if self.observer is not None:
            self.observer.served(outcome, alert)

    def _next_backoff(self) -> float:
        self._backoff = min(self.backoff_max, max(self.backoff_min, self._backoff * 2))
        return self._backoff

    def _serve_batch(self, batch: dict[Any, list[Record]], stop: threading.Event) -> bool:
        """Process records partition by partition; on a transient failure or stop, rewind.

        Returns False when a transient failure asks for a pause.  Unprocessed records of
        every partition in the batch are sought back, so none is skipped.
        """
        pending = {tp: list(records) for tp, records in batch.items() if records}
        healthy = True
        for tp, records in pending.items():
            while records and healthy and not stop.is_set():
                if self._serve(tp, records[0]):
                    records.pop(0)
                    self._backoff = 0.0
                else:
                    healthy = False
        for tp, records in pending.items():
            if records:
                self.consumer.seek(tp, records[0].offset)
        return healthy

    def _serve(self, tp: Any, record: Record) -> bool:
        """One record: True when it is done with (delivered, skipped or parked) and committed."""
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        try:
            alert: Alert = Alert.from_json(record.value or b"")
        except RecordError as exc:
            log.error("%s: unreadable alert (%s): parked on %s", where, exc, self.dlq_topic)
            if not self._park(record, f"unreadable alert: {exc}"):
                return False
            self._commit(tp, record)
            self._count("unreadable")
            return True
        if self.gate is not None and self.gate.hold(alert):
            self._commit(tp, record)
            self._count("muted", alert)
            return True
        try:
            result = self.dispatcher.deliver(alert)
        except TransientDeliveryError as exc:
            log.warning("%s alert %s r%d: %s (will retry)", where, alert.id, alert.revision, exc)
            self._count("retried", alert)
            return False
        except PermanentDeliveryError as exc:
            log.error(
                "%s alert %s r%d NOT delivered: %s. Parked on %s; serving the next alert.",
                where,
                alert.id,
                alert.revision,
                exc,
                self.dlq_topic,
            )
            if not self._park(record, str(exc)):
                return False
            self.dispatcher.ledger.mark_parked(
                alert.id, alert.revision, self.dispatcher.sink.name, str(exc)
            )
            self._commit(tp, record)
            self._count("parked", alert)
            return True
        self._commit(tp, record)
        self._count(result.outcome.value, alert)
        return True

    def _park(self, record: Record, error: str) -> bool:
        """Send to the DLQ and wait for the broker's acknowledgement before committing.

        False when the broker did not take it: the record is then retried, not dropped.
        """
        from kafka.errors import KafkaError

        try:
            future = self.producer.send(
                self.dlq_topic, key=record.key, value=dead_letter(record.value, error)
            )
            future.get(timeout=30)
        except KafkaError as exc:
            log.warning("could not park on %s (%s); will retry", self.dlq_topic, exc)
            self._count("retried")
            return False
        return True

    def _commit(self, tp: Any, record: Record) -> None:
        from kafka.errors import KafkaError
        from kafka.structs import OffsetAndMetadata

        try:
            self.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
        except KafkaError as exc:
            # Not fatal: the record is read again and the ledger makes that a skip.
            log.warning("offset commit for %s failed (%s); the ledger will dedupe", tp, exc)
