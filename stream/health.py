"""The stream worker's liveness, as Prometheus metrics and an HTTP health check.

A stalled faust-streaming worker (its consumer fetches nothing more, its commit stays put
with messages waiting) looks alive from the outside: the process runs and stays in the
group. :class:`StreamHealth` is fed by the stall guard's timer (``stream.app``) with each
assigned partition's committed offset and high-water mark, decides with ``stream.stall``
whether the worker still makes progress, and exports it:

* ``marsad_stream_partition_lag{topic,partition}``: messages behind the commit;
* ``marsad_stream_committed_offset{topic,partition}``;
* ``marsad_stream_last_progress_timestamp_seconds{topic,partition}``: Unix time the
  partition's commit last moved (or it was caught up);
* ``marsad_stream_stalled``: 1 when a partition with lag has not progressed for
  ``stalled_after`` seconds, or the guard itself has stopped looking;
* ``marsad_stream_assigned_partitions``, ``marsad_stream_last_check_timestamp_seconds``,
  ``marsad_stream_rereads_total`` (the guard's seeks back to a stuck commit).

What the worker did (:class:`PipelineMetrics`, on the same registry, counted by the agents in
``stream.app``): articles extracted and the extraction's latency, the incidents an extraction
found (current or background), each candidate's merge decision, the incident revisions
published, alerts fired by rule and kind, and dead letters by source topic.

:class:`HealthServer` serves ``/metrics`` and ``/healthz`` (200 live, 503 stalled, with a
JSON body naming the idle partitions) from a daemon thread, like ``ingest.metrics``. Each
:class:`StreamHealth` owns its registry: no global state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from marsad.health_server import HealthServer as KernelHealthServer
from stream.stall import LIVENESS_AFTER_S, STALL_CHECK_S, Progress, check_progress, is_stalled

__all__ = ["HealthServer", "PipelineMetrics", "StreamHealth", "merge_decision"]

#: The guard looks every ``STALL_CHECK_S``; no look for this long means its timer is dead.
STALE_AFTER_S = max(24 * STALL_CHECK_S, 120.0)


def _key(tp: Any) -> tuple[str, int]:
    return str(tp.topic), int(tp.partition)


#: One article's extraction: the lexicon matcher is milliseconds; a pathological text is not.
EXTRACTION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


def merge_decision(is_new: bool, changed: bool, absorbed: int) -> str:
    """A candidate's merge decision as a label: ``new`` (no open incident matches),
    ``joined`` (it revises one), ``twins`` (it showed two or more open incidents to be one),
    ``held`` (a report the incident already holds: nothing published)."""
    if is_new:
        return "new"
    if not changed:
        return "held"
    return "twins" if absorbed else "joined"


class PipelineMetrics:
    """What one worker's agents did, for throughput, merge and alert panels (labels are
    small fixed sets: rule names come from rules.yaml, topics from the contract)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.articles = Counter(
            "marsad_stream_articles_extracted",
            "Articles read from the articles topic and extracted (bad ones go to the DLQ)",
            registry=r,
        )
        self.extraction = Histogram(
            "marsad_stream_extraction_seconds",
            "Time to extract the incidents of one article",
            buckets=EXTRACTION_BUCKETS,
            registry=r,
        )
        self.extracted = Counter(
            "marsad_stream_extracted_incidents",
            "Incidents found by extraction, by kind: current (a merge candidate) or "
            "background (an earlier event the article recalls; skipped)",
            ["kind"],
            registry=r,
        )
        self.decisions = Counter(
            "marsad_stream_merge_decisions",
            "Merge decisions per candidate: new, joined, twins (joined open incidents into "
            "one), held (a report already held)",
            ["decision"],
            registry=r,
        )
        self.incidents = Counter(
            "marsad_stream_incidents_published",
            "Incident revisions sent to the incidents topic, by outcome: opened, revised, "
            "merged_into (an absorbed twin's last revision)",
            ["outcome"],
            registry=r,
        )
        self.alerts = Counter(
            "marsad_stream_alerts_fired",
            "Alert revisions sent to the alerts topic, by rule and kind",
            ["rule", "kind"],
            registry=r,
        )
        self.dlq = Counter(
            "marsad_stream_dlq_messages",
            "Messages sent to a dead-letter topic, by the topic they came from",
            ["topic"],
            registry=r,
        )


class StreamHealth:
    """Per-partition progress of one worker (fed by the stall guard; read by any thread)."""

    def __init__(
        self,
        stalled_after: float = LIVENESS_AFTER_S,
        stale_after: float = STALE_AFTER_S,
        clock: Any = time.time,
    ) -> None:
        self.stalled_after = stalled_after
        self.stale_after = stale_after
        self.clock = clock
        self.started = clock()
        self.last_check: float | None = None
        self._lock = threading.Lock()
        self._progress: dict[tuple[str, int], Progress] = {}
        self._look: dict[tuple[str, int], Progress] = {}
        self._seen: set[tuple[str, int]] = set()
        self.registry = CollectorRegistry()
        r, labels = self.registry, ["topic", "partition"]
        self.lag = Gauge(
            "marsad_stream_partition_lag",
            "Messages behind the worker's committed offset, per assigned partition",
            labels,
            registry=r,
        )
        self.committed = Gauge(
            "marsad_stream_committed_offset",
            "The worker's committed offset, per assigned partition",
            labels,
            registry=r,
        )
        self.last_progress = Gauge(
            "marsad_stream_last_progress_timestamp_seconds",
            "Unix time the partition's commit last moved (or it had no lag)",
            labels,
            registry=r,
        )
        self.stalled = Gauge(
            "marsad_stream_stalled",
            "1 when a partition with lag made no progress for the liveness threshold",
            registry=r,
        )
        self.assigned = Gauge(
            "marsad_stream_assigned_partitions", "Source partitions assigned", registry=r
        )
        self.checked = Gauge(
            "marsad_stream_last_check_timestamp_seconds",
            "Unix time the stall guard last looked at the partitions",
            registry=r,
        )
        self.rereads = Counter(
            "marsad_stream_rereads",
            "Times the stall guard re-read a partition from its stuck commit",
            registry=r,
        )
        self.pipeline = PipelineMetrics(r)

    # -- fed by the stall guard (the worker's event loop) -------------------------------------
    def observe(self, tp: Any, committed: int | None, high: int | None, now: float) -> None:
        """One partition of the current look (``now``: Unix time)."""
        key = _key(tp)
        with self._lock:
            self._seen.add(key)
            progress = check_progress(self._progress.get(key), committed, high, now)
            if progress is not None:
                self._look[key] = progress

    def reread(self) -> None:
        self.rereads.inc()

    def looked(self, now: float) -> None:
        """The look is complete: partitions not seen in it are no longer assigned."""
        with self._lock:
            for key in set(self._progress) - set(self._look):
                self.lag.remove(*map(str, key))
                self.committed.remove(*map(str, key))
                self.last_progress.remove(*map(str, key))
            self._progress, self._look = self._look, {}
            for (topic, part), p in self._progress.items():
                self.lag.labels(topic, str(part)).set(p.lag)
                self.committed.labels(topic, str(part)).set(p.committed)
                self.last_progress.labels(topic, str(part)).set(p.since)
            self.assigned.set(len(self._seen))
            self._seen = set()
            self.last_check = now
        self.checked.set(now)
        self.stalled.set(1 if self.verdict(now)[0] != "ok" else 0)

    # -- read by the HTTP thread -------------------------------------------------------------
    def idle(self, now: float) -> dict[str, float]:
        """``topic[partition]`` -> seconds without progress, for stalled partitions."""
        with self._lock:
            return {
                f"{t}[{p}]": round(now - pr.since, 1)
                for (t, p), pr in sorted(self._progress.items())
                if is_stalled(pr, now, self.stalled_after)
            }

    def verdict(self, now: float) -> tuple[str, dict[str, Any]]:
        """``("ok" | "stalled" | "stale", details)``."""
        idle = self.idle(now)
        since = self.last_check if self.last_check is not None else self.started
        details: dict[str, Any] = {
            "last_check_age_s": None if self.last_check is None else round(now - since, 1),
            "tracked": len(self._progress),
            "lag": sum(p.lag for p in self._progress.values()),
        }
        if idle:
            return "stalled", {**details, "idle_partitions": idle}
        if now - since > self.stale_after:
            return "stale", details
        return "ok", details

    def health(self) -> tuple[int, dict[str, Any]]:
        now = self.clock()
        status, details = self.verdict(now)
        self.stalled.set(0 if status == "ok" else 1)
        return (200 if status == "ok" else 503), {"status": status, **details}

    def render(self) -> bytes:
        self.health()  # a stale guard shows in marsad_stream_stalled too
        return generate_latest(self.registry)


class HealthServer(KernelHealthServer):
    """``/metrics`` and ``/healthz`` on ``host:port`` in a daemon thread (port 0 = any free)."""

    def __init__(self, health: StreamHealth, port: int, host: str = "127.0.0.1") -> None:
        self.stream_health = health
        super().__init__(health.render, health.health, port, host, name="stream-health")


def feed(health: StreamHealth, positions: Iterable[tuple[Any, int | None, int | None]]) -> None:
    """Observe a whole look at once (tests; the guard observes as it iterates)."""
    now = health.clock()
    for tp, committed, high in positions:
        health.observe(tp, committed, high, now)
    health.looked(now)
