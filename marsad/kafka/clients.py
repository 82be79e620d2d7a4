"""The Kafka clients of the services that consume with manual commits (the notifier, the
store): built and closed one way, so each service keeps only what it does with a record.

Why one place: both must commit only after their side effect (Slack accepted, the database
committed), park what they cannot handle on a dead-letter topic without losing or doubling
it, and stop without kafka-python's shutdown tracebacks; a setting changed in one and not the
other is how one of them would start losing records.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


def committing_consumer(
    *topics: str,
    bootstrap: str,
    group_id: str,
    client_id: str,
    max_poll_records: int,
) -> Any:
    """A consumer of ``topics`` in ``group_id`` that commits only when told to (from the
    earliest offset for a new group). A crashed member's partitions move to the others (or
    its restart) after 10 s, not kafka-python's 45 s default."""
    from kafka import KafkaConsumer

    return KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


def dlq_producer(bootstrap: str, client_id: str) -> Any:
    """The producer a service parks records with: idempotent, ``acks=all``, sent at once
    (the caller waits for each acknowledgement before committing the offset)."""
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
    )


def close_clients(consumer: Any, producer: Any | None, timeout_s: float = 10.0) -> None:
    """Close the DLQ producer, then the consumer, quietly and in this thread.

    Why this order and the IO-thread stop: kafka-python 3's consumer runs its network loop
    on a background IO thread, and ``KafkaConsumer.close()`` closes the broker sockets from
    the *calling* thread before it stops that loop. When the loop is in ``select()`` on, or
    about to re-register, a socket being closed (a consumer always has a long-poll fetch
    and a heartbeat in flight), it logs "Unhandled exception in task" tracebacks:
    ``ValueError: Invalid file descriptor: -1`` and ``KeyError: <socket …> is not
    registered``. Stopping the IO thread first (joining it; a no-op on a client without
    one) makes the close single-threaded: the leave-group request and the socket closes
    then run on this thread, one after the other. The producer goes first: it is only used
    synchronously (a parked record waits for its acknowledgement), so nothing is lost, and it
    no longer needs the consumer's group. Neither close raises: a stop must not end in a
    traceback.
    """
    if producer is not None:
        try:
            producer.close(timeout=timeout_s)
        except Exception as exc:  # a broker gone at shutdown: say so in one line
            log.warning("closing the DLQ producer: %s", exc)
    net = getattr(consumer, "_net", None)  # private: kafka-python 3's NetworkSelector
    stop_io = getattr(net, "stop", None)
    try:
        if callable(stop_io):
            stop_io(timeout_ms=int(timeout_s * 1000))
        consumer.close(autocommit=False, timeout_ms=int(timeout_s * 1000))
    except Exception as exc:
        log.warning("closing the consumer: %s", exc)


@dataclass
class IdleWatch:
    """When a consuming loop run with ``max_idle_s`` (replay, tests, drills) has nothing left
    to do: ``max_idle_s`` without a record once partitions are assigned, or none assigned
    after ``assignment_wait_s``. Idle time counts only while partitions are assigned: after
    a crash the group first waits for the dead member's session to expire, which is not
    "nothing to do". Without ``max_idle_s`` it never says stop."""

    max_idle_s: float | None
    assignment_wait_s: float = 120.0
    #: what the log line says was missing ("no alert", "nothing new")
    nothing: str = "nothing new"
    started: float = field(default_factory=time.monotonic)
    idle_since: float = field(default_factory=time.monotonic)

    def busy(self) -> None:
        """A poll brought records."""
        self.idle_since = time.monotonic()

    def done(self, assigned: bool) -> bool:
        """After an empty poll: should the loop stop?"""
        if self.max_idle_s is None:
            return False
        now = time.monotonic()
        if not assigned:
            self.idle_since = now
            if now - self.started > self.assignment_wait_s:
                log.warning("no partition assigned after %.0f s: stopping", now - self.started)
                return True
        elif now - self.idle_since > self.max_idle_s:
            log.info("%s for %.1f s: stopping", self.nothing, self.max_idle_s)
            return True
        return False


def position_lags(consumer: Any) -> dict[Any, int]:
    """Each assigned partition's lag as ``consumer`` already knows it: the high-water mark of
    its last fetch minus its position (the next record to handle), keyed by TopicPartition.

    What the notifier's and the store's health read before every poll, so no broker round
    trip: a partition without either figure yet (just assigned) has no lag rather than a
    guess, and a lag is never negative."""
    lags: dict[Any, int] = {}
    for tp in list(consumer.assignment()):
        high = consumer.highwater(tp)
        if high is None:
            continue
        try:
            position = consumer.position(tp, timeout_ms=0)
        except Exception:  # not known yet (just assigned): no figure rather than a guess
            continue
        if position is not None:
            lags[tp] = max(0, int(high) - int(position))
    return lags
