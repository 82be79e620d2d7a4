"""Feed pollers: fetch Arabic news feeds politely and safely, publish new articles to Kafka.

Rooms, one job each (data flows top to bottom):

- :mod:`ingest.feeds_config` — ``config/feeds.yaml``, validated at start-up.
- :mod:`ingest.guard`        — which URLs and addresses may be fetched (SSRF policy).
- :mod:`ingest.fetch`        — async HTTP with conditional GET, caps and manual redirects.
- :mod:`ingest.parse`        — fetched bytes -> feed items (defused, capped).
- :mod:`ingest.canonical`    — canonical URLs, stable article ids, text fingerprints.
- :mod:`ingest.language`     — a dependency-free script-ratio language guess.
- :mod:`ingest.fulltext`     — full text of summary-only items (trafilatura, bounded pool).
- :mod:`ingest.schedule`     — adaptive intervals, jitter, backoff, Retry-After / max-age.
- :mod:`ingest.state`        — sqlite state that survives restarts.
- :mod:`ingest.publish`      — Kafka producer (acks=all, idempotent) and an in-memory twin.
- :mod:`ingest.metrics`      — Prometheus metrics and the health endpoint.
- :mod:`ingest.poller`       — the composition root: the asyncio loop wiring the above.
- :mod:`ingest.cli`          — ``marsad ingest``.
"""
