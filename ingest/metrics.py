"""Prometheus metrics of the pollers and a small HTTP endpoint serving them with a health check.

Each :class:`IngestMetrics` owns its own registry (no global state), so tests and benchmarks
can run several pollers in one process.  Served at ``/metrics``; ``/healthz`` answers 200
while the poll loop is alive (it ticked within ``stale_after`` seconds) and 503 otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from marsad.health_server import HealthServer as KernelHealthServer


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.fetches = Counter(
            "marsad_ingest_fetches",
            "Feed fetches by outcome (ok, not_modified, unchanged, http_error, timeout, "
            "blocked, dns_error, too_large, too_many_redirects, unsupported_encoding, "
            "decode_error, parse_error, throttled, network_error, internal_error)",
            ["outcome"],
            registry=r,
        )
        self.not_modified_ratio = Gauge(
            "marsad_ingest_not_modified_ratio",
            "Share of completed feed fetches answered 304 Not Modified",
            registry=r,
        )
        self.latency = Histogram(
            "marsad_ingest_fetch_seconds",
            "Feed fetch latency (request to last byte)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.items = Counter(
            "marsad_ingest_items",
            "Feed items by fate (new, duplicate_id, duplicate_text)",
            ["kind"],
            registry=r,
        )
        self.skipped = Counter(
            "marsad_ingest_items_skipped",
            "Feed items left out, by reason: no_text (neither title nor text), over_item_cap "
            "(beyond the per-document cap), duplicate_id (already published, or twice in one "
            "document), duplicate_text (the same words under another id)",
            ["reason"],
            registry=r,
        )
        self.trimmed = Counter(
            "marsad_ingest_items_trimmed",
            "Published items that lost something on the way, by what: title_truncated, "
            "text_truncated, link_too_long (published without a link), bad_date (a date the "
            "parser could not read; published without one)",
            ["what"],
            registry=r,
        )
        self.derived_ids = Counter(
            "marsad_ingest_items_derived_id",
            "Published items that had neither a link nor a guid (id derived from the feed, "
            "title, published time and text)",
            registry=r,
        )
        self.published = Counter(
            "marsad_ingest_articles_published", "Articles confirmed by the broker", registry=r
        )
        self.bytes = Counter("marsad_ingest_bytes", "Body bytes fetched", registry=r)
        self.producer_errors = Counter(
            "marsad_ingest_producer_errors", "Batches the broker did not confirm", registry=r
        )
        self.fulltext = Counter(
            "marsad_ingest_fulltext", "Full-text fetches by outcome", ["outcome"], registry=r
        )
        self.last_tick = Gauge(
            "marsad_ingest_last_tick_timestamp", "Unix time the poll loop last ran", registry=r
        )
        self._ok = 0
        self._not_modified = 0

    def fetch(self, outcome: str, elapsed: float | None = None, size: int = 0) -> None:
        self.fetches.labels(outcome).inc()
        if elapsed is not None:
            self.latency.observe(elapsed)
        if size:
            self.bytes.inc(size)
        if outcome in ("ok", "not_modified", "unchanged"):
            self._ok += 1
            if outcome == "not_modified":
                self._not_modified += 1
            self.not_modified_ratio.set(self._not_modified / self._ok)

    def items_left_out(self, skipped: Mapping[str, int], trimmed: Mapping[str, int]) -> None:
        """Count one poll's skipped items by reason and its trimmed ones by what was lost."""
        for reason, count in skipped.items():
            if count:
                self.skipped.labels(reason).inc(count)
        for what, count in trimmed.items():
            if count:
                self.trimmed.labels(what).inc(count)

    def tick(self) -> None:
        self.last_tick.set(time.time())

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def count(self, name: str, **labels: str) -> float:
        """Current value of a sample (tests and the CLI summary)."""
        value = self.registry.get_sample_value(name, labels or None)
        return float(value or 0.0)


class HealthServer(KernelHealthServer):
    """``/metrics`` and ``/healthz`` on ``host:port`` in a daemon thread (port 0 = any free);
    healthy while the poll loop ticked within ``stale_after`` seconds."""

    def __init__(
        self, metrics: IngestMetrics, port: int, host: str = "127.0.0.1", stale_after: float = 120
    ) -> None:
        self.metrics = metrics
        self.stale_after = stale_after
        super().__init__(metrics.render, self.health, port, host, name="ingest-health")

    def health(self) -> tuple[int, dict[str, object]]:
        last = self.metrics.count("marsad_ingest_last_tick_timestamp")
        age = time.time() - last if last else None
        ok = age is not None and age <= self.stale_after
        return (200 if ok else 503), {
            "status": "ok" if ok else "stale",
            "last_tick_age_s": None if age is None else round(age, 3),
            "published": self.metrics.count("marsad_ingest_articles_published_total"),
            "producer_errors": self.metrics.count("marsad_ingest_producer_errors_total"),
        }
