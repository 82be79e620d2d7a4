"""The store's metrics and health, for Prometheus and an orchestrator's healthcheck.

Why the store needs its own: it is the desk's only writer, and when it stops the desk does
not break, it goes quietly out of date. The stream keeps publishing, the notifier keeps
posting, every other target looks healthy, and the analyst's pages simply stop showing new
incidents. So it answers the two questions that matter: is it keeping up with the three
topics (consumer lag per partition, records written by kind and outcome, what it parked on a
dead-letter topic), and when did it last get a batch into the database. It is fed without the
loop knowing Prometheus: ``desk.store.service.StoreConsumer`` calls :meth:`StoreHealth.polled`
before each poll (the consumer's positions are then the next records to write; lag is the
high-water mark of the last fetch minus the position, both known to the client, so no broker
round trip per poll) and :meth:`StoreHealth.served` once a batch is written, parked and
committed. Health (``/healthz``): 503 ``stalled`` when an assigned partition has lag and no
batch has been done with for ``stalled_after`` seconds (default 5 minutes; the database out
of reach is the usual cause, and the loop's back-off tops out at a minute, so it has tried
five times); 503 ``stale`` when the loop has not come round for ``stale_after`` seconds (hung
in a call). An idle store is healthy however long it idles: with no lag, waiting counts as
progress. A restart does no harm: offsets are committed after the database transaction and a
re-read is a no-op.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from marsad.health_server import Health
from marsad.kafka.clients import position_lags

__all__ = ["KINDS", "OUTCOMES", "REASONS", "StoreHealth"]

#: Lag and no batch done with for this long: the store has stopped progressing.
STALLED_AFTER_S = 300.0
#: The loop comes round every poll (0.5 s), batch, or back-off (1 min at most).
STALE_AFTER_S = 600.0
#: What ``desk.store.service.kind_of`` returns (one per topic).
KINDS = ("incident", "alert", "article")
#: What became of one record: a new row, one already stored, or parked on the dead-letter topic.
OUTCOMES = ("written", "duplicate", "parked")
#: Why a record was parked: not the topic's record, or the database refused it.
REASONS = ("unreadable", "refused")

TopicPartitionKey = tuple[str, int]


class StoreHealth:
    """The store's metrics (one registry per instance: no global state) and its verdict."""

    def __init__(
        self,
        stalled_after: float = STALLED_AFTER_S,
        stale_after: float = STALE_AFTER_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stalled_after = stalled_after
        self.stale_after = stale_after
        self.clock = clock
        self._lock = threading.Lock()
        self.last_tick = self.last_progress = clock()
        self.last_write: float | None = None
        self._lags: dict[TopicPartitionKey, int] = {}
        self._assigned = 0
        self.registry = r = CollectorRegistry()
        self.records = Counter(
            "marsad_store_records",
            "Records the store consumed, by kind (incident, alert, article revisions) and "
            "outcome (written: a new row; duplicate: already stored; parked: on the DLQ)",
            ["kind", "outcome"],
            registry=r,
        )
        self.dlq = Counter(
            "marsad_store_dlq_messages",
            "Records parked on their topic's dead-letter topic, by reason (unreadable: not the "
            "topic's record; refused: the database would not take it)",
            ["reason"],
            registry=r,
        )
        self.lag = Gauge(
            "marsad_store_consumer_lag",
            "Records behind the store's position, per assigned partition of its topics",
            ["topic", "partition"],
            registry=r,
        )
        self.assigned = Gauge(
            "marsad_store_assigned_partitions",
            "Partitions of the incidents, alerts and articles topics assigned",
            registry=r,
        )
        self.write_ts = Gauge(
            "marsad_store_last_write_timestamp_seconds",
            "Unix time a batch was last written and its offsets committed (0: none yet)",
            registry=r,
        )
        self.progress_ts = Gauge(
            "marsad_store_last_progress_timestamp_seconds",
            "Unix time a batch was last done with (or the store had no lag)",
            registry=r,
        )
        self.tick_ts = Gauge(
            "marsad_store_last_poll_timestamp_seconds",
            "Unix time the store loop last polled the broker",
            registry=r,
        )
        self.stalled = Gauge(
            "marsad_store_stalled",
            "1 when the store has lag and has written nothing for the stall threshold, or "
            "its loop has stopped coming round",
            registry=r,
        )
        # Series exist at 0 from the start, so increase() and rate() see the first event.
        for kind in KINDS:
            for outcome in OUTCOMES:
                self.records.labels(kind, outcome)
        for reason in REASONS:
            self.dlq.labels(reason)
        self.progress_ts.set(self.last_progress)
        self.tick_ts.set(self.last_tick)

    # -- fed by the store loop ---------------------------------------------------------------
    def polled(self, consumer: Any) -> None:
        """Before a poll: each assigned partition's lag (high-water mark of the last fetch
        minus the position, i.e. the next record to write). No broker round trip: both are
        what the client already knows (``position_lags``); a partition without either yet
        has no figure."""
        lags: dict[TopicPartitionKey, int] = {
            (str(tp.topic), int(tp.partition)): n for tp, n in position_lags(consumer).items()
        }
        self.observe_lag(lags, assigned=len(consumer.assignment()))

    def observe_lag(self, lags: Mapping[TopicPartitionKey, int], assigned: int) -> None:
        now = self.clock()
        with self._lock:
            gone = set(self._lags) - set(lags)
            self._lags = dict(lags)
            self._assigned = assigned
            self.last_tick = now
            if not any(lags.values()):
                self.last_progress = now  # nothing waits: caught up counts as progress
            progress = self.last_progress
        for topic, part in gone:
            self.lag.remove(topic, str(part))
        for (topic, part), lag in lags.items():
            self.lag.labels(topic, str(part)).set(lag)
        self.assigned.set(assigned)
        self.tick_ts.set(now)
        self.progress_ts.set(progress)

    def served(
        self,
        outcomes: Mapping[tuple[str, str], int],
        dead_letters: Mapping[str, int] | None = None,
    ) -> None:
        """One batch done with (written, parked, offsets committed): its records by
        ``(kind, outcome)`` (see :data:`KINDS`, :data:`OUTCOMES`), and what was parked by
        reason (:data:`REASONS`)."""
        now = self.clock()
        for (kind, outcome), n in outcomes.items():
            if n:
                self.records.labels(kind, outcome).inc(n)
        for reason, n in (dead_letters or {}).items():
            if n:
                self.dlq.labels(reason).inc(n)
        with self._lock:
            self.last_write = self.last_progress = now
        self.write_ts.set(now)
        self.progress_ts.set(now)

    # -- read by the HTTP thread -------------------------------------------------------------
    def verdict(self, now: float) -> tuple[str, dict[str, Any]]:
        """``("ok" | "stalled" | "stale", details)``."""
        with self._lock:
            lag = sum(self._lags.values())
            details: dict[str, Any] = {
                "lag": lag,
                "lagging_partitions": sorted(f"{t}[{p}]" for (t, p), n in self._lags.items() if n),
                "assigned": self._assigned,
                "last_write_age_s": (
                    None if self.last_write is None else round(now - self.last_write, 1)
                ),
                "last_progress_age_s": round(now - self.last_progress, 1),
                "last_poll_age_s": round(now - self.last_tick, 1),
            }
            if lag > 0 and now - self.last_progress > self.stalled_after:
                return "stalled", details
            if now - self.last_tick > self.stale_after:
                return "stale", details
        return "ok", details

    def health(self) -> Health:
        status, details = self.verdict(self.clock())
        self.stalled.set(0 if status == "ok" else 1)
        return (200 if status == "ok" else 503), {"status": status, **details}

    def render(self) -> bytes:
        self.health()  # the verdict shows in marsad_store_stalled too
        return generate_latest(self.registry)
