"""The notifier's metrics and health, for Prometheus and an orchestrator's healthcheck.

What it answers: is Slack taking our messages (calls by API method and result, slack-sdk's
retries, rate-limit waits), what became of each alert revision (outcomes, dead letters, the
ledger's rows by state, deliveries by rule and kind, and how long an alert took from being
created by the stream to being accepted by Slack), and how far behind the ``alerts`` topic
the notifier's group is.

How it is fed, without the notifier loop knowing Prometheus:

* :meth:`NotifierHealth.instrument` wraps the sink's slack-sdk client (its one funnel,
  ``api_call``; a webhook's ``send``) and its retry handlers, so every Slack call is counted
  where it happens;
* the loop (``alerts.notifier.Notifier``) calls :meth:`NotifierHealth.polled` before each
  poll (the consumer's positions are then the next records to serve) and
  :meth:`NotifierHealth.served` for each outcome it counts;
* the ledger's rows are counted at scrape time through a read-only connection of its own
  (SQLite in WAL mode lets a reader in beside the notifier's writer; the notifier's own
  connection is never used from the HTTP thread).

Health (``/healthz``): 503 ``stalled`` when the notifier has a backlog (lag on an assigned
partition, or the record in hand failed and waits for a retry) and no record has been done
with — delivered, skipped or parked — for ``stalled_after`` seconds (default 5 minutes:
slack-sdk's own retries of one call, with their timeouts and Retry-After waits, stay well
below it); 503 ``stale`` when the loop itself has not come round for ``stale_after`` seconds
(hung in a call). A notifier with nothing to do is healthy however long it idles, and so is
one whose broker is out of reach (it has no lag it can see; the broker's own targets say
that). Why "backlog and no progress" rather than "Slack errors": a Slack error that heals
within the retries costs nothing, while alerts piling up unsent is what an operator must
hear about — and a restart does no harm, the ledger turns re-reads into skips.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from alerts.delivery import TRANSIENT_ERRORS
from marsad.health_server import Health
from marsad.health_server import HealthServer as KernelHealthServer
from marsad.kafka.clients import position_lags
from marsad.records import Alert

__all__ = ["HealthServer", "NotifierHealth", "call_result"]

#: Backlog without a record done for this long: the notifier has stopped progressing.
STALLED_AFTER_S = 300.0
#: The loop comes round every poll (0.5 s) or after one record; this long without: hung.
STALE_AFTER_S = 600.0
#: Outcomes that mean the record is done with (committed); "retried" is not one.
DONE = frozenset(
    {"posted", "updated", "duplicate", "recovered", "stale", "parked", "unreadable", "muted"}
)
#: Outcomes that mean the revision reached Slack now (a first post, an edit, or one found).
DELIVERED = frozenset({"posted", "updated", "recovered"})
#: Seconds from an alert's creation to Slack's acceptance: the stream is sub-second, a
#: backlog or a Slack outage is minutes.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


#: Every value :func:`call_result` gives.
CALL_RESULTS = ("ok", "rate_limited", "server_error", "refused", "network_error")


def call_result(exc: BaseException | None) -> str:
    """A Slack call's result as a small fixed set of label values (never the raw error code:
    Slack has hundreds): ``ok``, ``rate_limited``, ``server_error``, ``refused`` (Slack said
    no; retrying will not help) or ``network_error``."""
    if exc is None:
        return "ok"
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        code = str(exc.response.get("error", "") or "")
        if status == 429 or code in ("ratelimited", "rate_limited"):
            return "rate_limited"
        if status >= 500 or code in TRANSIENT_ERRORS:
            return "server_error"
        return "refused"
    return "network_error"


def _retry_reason(handler: RetryHandler) -> str:
    if isinstance(handler, RateLimitErrorRetryHandler):
        return "rate_limited"
    if isinstance(handler, ServerErrorRetryHandler):
        return "server_error"
    if isinstance(handler, ConnectionErrorRetryHandler):
        return "connection_error"
    return type(handler).__name__


class CountingRetryHandler(RetryHandler):
    """Delegates to one of slack-sdk's handlers and reports each retry it grants, with the
    time it waited before it (Retry-After for a rate limit)."""

    def __init__(self, inner: RetryHandler, on_retry: Callable[[str, float], None]) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner
        self.reason = _retry_reason(inner)
        self.on_retry = on_retry

    def can_retry(self, **kw: Any) -> bool:
        return bool(self.inner.can_retry(**kw))

    def _can_retry(self, **kw: Any) -> bool:
        return bool(self.inner._can_retry(**kw))

    def prepare_for_next_attempt(self, **kw: Any) -> None:
        started = time.monotonic()
        self.inner.prepare_for_next_attempt(**kw)
        self.on_retry(self.reason, time.monotonic() - started)


class _LedgerCollector(Collector):
    """``marsad_alerts_ledger_rows{state}``, counted when scraped (see the module docstring)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def describe(self) -> list[GaugeMetricFamily]:
        return [self._family()]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "marsad_alerts_ledger_rows",
            "Rows of the delivery ledger by state (pending, delivered, parked)",
            labels=["state"],
        )

    def collect(self) -> list[GaugeMetricFamily]:
        family = self._family()
        for state, n in sorted(ledger_counts(self.path).items()):
            family.add_metric([state], n)
        return [family]


def ledger_counts(path: Path | None) -> dict[str, int]:
    """Rows by state of the ledger file at ``path`` (every state, zero when absent)."""
    counts = dict.fromkeys(("pending", "delivered", "parked"), 0)
    if path is None or not path.exists():
        return counts
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        for state, n in db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state"):
            counts[str(state)] = int(n)
    except sqlite3.OperationalError:  # not created yet
        pass
    finally:
        db.close()
    return counts


class NotifierHealth:
    """The notifier's metrics (one registry per instance: no global state) and its verdict."""

    def __init__(
        self,
        ledger_path: Path | None = None,
        stalled_after: float = STALLED_AFTER_S,
        stale_after: float = STALE_AFTER_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stalled_after = stalled_after
        self.stale_after = stale_after
        self.clock = clock
        self._lock = threading.Lock()
        self.started = self.last_tick = self.last_progress = clock()
        self.failing = False
        self._lags: dict[int, int] = {}
        self.registry = r = CollectorRegistry()
        self.slack_calls = Counter(
            "marsad_alerts_slack_calls",
            "Slack Web API calls (after slack-sdk's retries) by method and result: ok, "
            "rate_limited, server_error, refused, network_error",
            ["method", "result"],
            registry=r,
        )
        self.slack_call_seconds = Histogram(
            "marsad_alerts_slack_call_seconds",
            "Duration of one Slack call, retries and waits included",
            ["method"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.slack_retries = Counter(
            "marsad_alerts_slack_retries",
            "Retries slack-sdk made inside one call, by reason (rate_limited, server_error, "
            "connection_error)",
            ["reason"],
            registry=r,
        )
        self.rate_limit_waits = Counter(
            "marsad_alerts_slack_rate_limit_waits",
            "Times a call waited out Slack's Retry-After",
            registry=r,
        )
        self.rate_limit_wait_seconds = Counter(
            "marsad_alerts_slack_rate_limit_wait_seconds",
            "Seconds spent waiting out Slack's Retry-After",
            registry=r,
        )
        self.outcomes = Counter(
            "marsad_alerts_outcomes",
            "Alert records by outcome: posted, updated, duplicate, recovered, stale, parked, "
            "unreadable, retried (a transient failure; the record is tried again)",
            ["outcome"],
            registry=r,
        )
        self.dlq = Counter(
            "marsad_alerts_dlq_messages",
            "Alert records parked on the dead-letter topic, by reason (permanent, unreadable)",
            ["reason"],
            registry=r,
        )
        self.delivered = Counter(
            "marsad_alerts_delivered",
            "Alert revisions that reached Slack, by rule and kind (incident, window, surge)",
            ["rule", "kind"],
            registry=r,
        )
        self.latency = Histogram(
            "marsad_alerts_delivery_latency_seconds",
            "From the alert revision's creation by the stream to Slack accepting it",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "marsad_alerts_consumer_lag",
            "Alerts behind the notifier's position, per assigned partition of the alerts topic",
            ["partition"],
            registry=r,
        )
        self.assigned = Gauge(
            "marsad_alerts_assigned_partitions",
            "Partitions of the alerts topic assigned",
            registry=r,
        )
        self.progress_ts = Gauge(
            "marsad_alerts_last_progress_timestamp_seconds",
            "Unix time a record was last done with (or the notifier had no backlog)",
            registry=r,
        )
        self.tick_ts = Gauge(
            "marsad_alerts_last_poll_timestamp_seconds",
            "Unix time the notifier loop last polled the broker",
            registry=r,
        )
        self.stalled = Gauge(
            "marsad_alerts_stalled",
            "1 when the notifier has a backlog and has done no record for the stall threshold, "
            "or its loop has stopped coming round",
            registry=r,
        )
        r.register(_LedgerCollector(ledger_path))
        # Series exist at 0 from the start, so increase() and rate() see the first event.
        for outcome in (*sorted(DONE), "retried"):
            self.outcomes.labels(outcome)
        for reason in ("permanent", "unreadable"):
            self.dlq.labels(reason)
        for method in ("chat.postMessage", "chat.update"):
            for result in CALL_RESULTS:
                self.slack_calls.labels(method, result)
        self.progress_ts.set(self.last_progress)
        self.tick_ts.set(self.last_tick)

    # -- the sink's clients ------------------------------------------------------------------
    def instrument(self, sink: Any) -> Any:
        """Count ``sink``'s Slack calls and retries (a bot's WebClient or a webhook's client;
        a console sink has none). Returns the sink."""
        client = getattr(sink, "client", None)
        if client is None:
            return sink
        handlers = getattr(client, "retry_handlers", None) or []
        client.retry_handlers = [
            h if isinstance(h, CountingRetryHandler) else CountingRetryHandler(h, self.retried)
            for h in handlers
        ]
        if hasattr(client, "api_call"):
            self._wrap(client, "api_call", lambda args, kw: str(kw.get("api_method", args[0])))
        elif hasattr(client, "send"):
            self._wrap(client, "send", lambda args, kw: "incoming_webhook")
        return sink

    def _wrap(self, client: Any, name: str, method_of: Callable[[Any, Any], str]) -> None:
        call = getattr(client, name)
        if getattr(call, "_marsad_metered", False):
            return

        def metered(*args: Any, **kw: Any) -> Any:
            method = method_of(args, kw)
            started = time.monotonic()
            try:
                response = call(*args, **kw)
            except BaseException as exc:
                self.slack_call(method, call_result(exc), time.monotonic() - started)
                raise
            status = getattr(response, "status_code", 200)
            result = "ok" if status < 400 else ("rate_limited" if status == 429 else "refused")
            if status >= 500:
                result = "server_error"
            self.slack_call(method, result, time.monotonic() - started)
            return response

        metered._marsad_metered = True  # type: ignore[attr-defined]
        setattr(client, name, metered)

    def slack_call(self, method: str, result: str, seconds: float) -> None:
        self.slack_calls.labels(method, result).inc()
        self.slack_call_seconds.labels(method).observe(seconds)

    def retried(self, reason: str, waited_s: float) -> None:
        self.slack_retries.labels(reason).inc()
        if reason == "rate_limited":
            self.rate_limit_waits.inc()
            self.rate_limit_wait_seconds.inc(waited_s)

    # -- fed by the notifier loop ------------------------------------------------------------
    def polled(self, consumer: Any) -> None:
        """Before a poll: each assigned partition's lag (high-water mark of the last fetch
        minus the position, i.e. the next record to serve: ``position_lags``)."""
        lags = {int(tp.partition): n for tp, n in position_lags(consumer).items()}
        self.observe_lag(lags, assigned=len(consumer.assignment()))

    def observe_lag(self, lags: dict[int, int], assigned: int) -> None:
        now = self.clock()
        with self._lock:
            for part in set(self._lags) - set(lags):
                self.lag.remove(str(part))
            self._lags = dict(lags)
            self.last_tick = now
            if not self.failing and not any(lags.values()):
                self.last_progress = now  # nothing waits: caught up counts as progress
        for part, lag in lags.items():
            self.lag.labels(str(part)).set(lag)
        self.assigned.set(assigned)
        self.tick_ts.set(now)
        self.progress_ts.set(self.last_progress)

    def served(self, outcome: str, alert: Alert | None = None) -> None:
        """One outcome of the loop (see :data:`DONE`); ``alert`` when it could be read."""
        now = self.clock()
        self.outcomes.labels(outcome).inc()
        with self._lock:
            self.failing = outcome not in DONE
            if outcome in DONE:
                self.last_progress = now
        self.progress_ts.set(self.last_progress)
        if outcome == "parked":
            self.dlq.labels("permanent").inc()
        elif outcome == "unreadable":
            self.dlq.labels("unreadable").inc()
        if alert is not None and outcome in DELIVERED:
            self.delivered.labels(alert.rule, alert.kind).inc()
            self.latency.observe(max(0.0, now - _unix(alert.created_at)))

    # -- read by the HTTP thread -------------------------------------------------------------
    def verdict(self, now: float) -> tuple[str, dict[str, Any]]:
        """``("ok" | "stalled" | "stale", details)``."""
        with self._lock:
            lag = sum(self._lags.values())
            backlog = lag > 0 or self.failing
            details: dict[str, Any] = {
                "lag": lag,
                "failing": self.failing,
                "last_progress_age_s": round(now - self.last_progress, 1),
                "last_poll_age_s": round(now - self.last_tick, 1),
            }
            if backlog and now - self.last_progress > self.stalled_after:
                return "stalled", details
            if now - self.last_tick > self.stale_after:
                return "stale", details
        return "ok", details

    def health(self) -> Health:
        status, details = self.verdict(self.clock())
        self.stalled.set(0 if status == "ok" else 1)
        return (200 if status == "ok" else 503), {"status": status, **details}

    def render(self) -> bytes:
        self.health()  # the verdict shows in marsad_alerts_stalled too
        return generate_latest(self.registry)


def _unix(moment: datetime) -> float:
    return moment.timestamp()  # a naive time is taken as local, as Python does


class HealthServer(KernelHealthServer):
    """``/metrics`` and ``/healthz`` on ``host:port`` in a daemon thread (port 0 = any free)."""

    def __init__(self, health: NotifierHealth, port: int, host: str = "127.0.0.1") -> None:
        self.notifier_health = health
        super().__init__(health.render, health.health, port, host, name="alerts-health")
