"""The Faust stream processor: the one place that wires topics, tables, agents and rules.

Data flows one way through three agents; each calls plain functions that decide
(``stream.extract``, ``stream.merge``, ``stream.rules``, ``stream.alerting``):

1. ``extract-articles`` reads ``articles`` (raw JSON), extracts incidents, drops
   background ones and tallies, and sends each remaining incident as a candidate to
   ``incident-candidates`` **keyed by governorate** (``admin1``, or ``UNKNOWN``). Articles
   themselves are keyed by article id, which spreads the extraction load; the re-keying is
   what puts every report that may describe the same event on the same partition, hence
   on the same worker and in the same shard of the merge table.
2. ``merge-candidates`` keeps the open incidents in the ``open-incidents`` table (by id) with
   a per-governorate index (``governorate-index``: id and event day, capped at
   ``merge.max_open``), merges the candidate (``stream.merge``), publishes the incident to
   ``incidents``,
   applies the per-incident rules against the ``fired-alerts`` table, and forwards every
   change to ``window-updates`` keyed by ``<rule>|<group>`` with the incident's *event time*
   as the Kafka message timestamp (a Faust-style repartition: an actor's 7-day count spans
   governorates, so it needs its own key).
3. ``aggregate-windows`` keeps one Faust windowed table per window/surge rule (hopping or
   tumbling, ``relative_to_stream`` = that event time) whose value per window is
   ``{incident id: metric}``: setting an incident's value is idempotent, so a redelivered
   update cannot count twice. It fires window and surge alerts via ``window-fired``.

State: every table has a changelog topic (``<app id>-<table>-changelog``). The store is
``memory://`` on purpose: on start-up Faust rebuilds the tables from their changelogs, which
is the recovery the issue asks for, with no RocksDB build or local files to go stale.

Delivery before state: outputs (incidents, window updates, alerts) are sent immediately
and their delivery awaited *before* the tables record "merged" or "fired". Faust is
at-least-once; after a crash the unfinished message is processed again and re-sends the
same ids (an alert re-sent with the same id and revision is a no-op for the notifier's
ledger), while the reverse order could lose an alert behind state that says it was sent.

Failure handling: a value that cannot be parsed or processed is sent to ``<topic>.dlq``
(the original JSON object plus ``error``, or ``{"raw": …, "error": …}`` when it was not
JSON) and the agent goes on with the next message.

Alerts carry the Kafka header ``marsad-app`` (the app id) so a replay can tell its own
alerts from those of a live processor writing to the same topic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from marsad.records import Alert, Article, Extraction, RecordError, StoredIncident
from marsad.settings import Settings
from marsad.topics import Topics, dead_letter, dlq
from stream.alerting import choose_window, incident_alert_id, incident_alerts, window_alert
from stream.merge import (
    Candidate,
    event_time,
    find_match,
    ids_near,
    index_entry,
    merge_into,
    new_incident,
    prune_index,
)
from stream.rules import RuleSet, SurgeRule, WindowRule, group_value, metric_value

log = logging.getLogger(__name__)

STALL_CHECK_S = 5.0
STALL_AFTER_S = 20.0
APP_HEADER = "marsad-app"

Extractor = Callable[[Article], Extraction]


def candidates_topic_name(topics: Topics, app_id: str) -> str:
    """``incident-candidates`` for the service; ``<app id>-incident-candidates`` otherwise.

    A replay runs under its own app id; giving it its own internal topics keeps its
    candidates away from a live processor on the same broker (and vice versa).
    """
    if app_id == topics.stream_app_id:
        return topics.candidates
    return f"{app_id}-{topics.candidates}"


def window_updates_topic_name(app_id: str) -> str:
    return f"{app_id}-window-updates"


@dataclass
class Counters:
    """What the worker has done, for logs, tests and the benchmark."""

    articles: int = 0
    candidates: int = 0
    incidents: int = 0
    alerts: int = 0
    window_updates: int = 0
    dlq: int = 0


@dataclass
class StreamApp:
    app: faust.App
    app_id: str
    rules: RuleSet
    counters: Counters


def _retention(rule: WindowRule | SurgeRule) -> float:
    """How far behind an update's event time a window may still matter (then it is dropped).

    Faust's own window expiry runs on wall-clock time, which would drop every window of an
    archive replay at once; this is event time, like everything else here.
    """
    if isinstance(rule, SurgeRule):
        return rule.window.size * (rule.baseline_windows + 2)
    return rule.window.size * 3


def _forget_windows_before(table: Any, key: str, ts: float) -> None:
    """Delete ``key``'s windows that contain ``ts`` (called with a time well in the past, as
    events move on, this keeps a group's windowed state to a few windows)."""
    for rng in table.window.ranges(ts):
        wkey = (key, tuple(rng))
        if wkey in table:
            del table[wkey]


def _set_member(members: dict[str, int] | None, item: tuple[str, int]) -> dict[str, int]:
    """Window op: record an incident's latest metric (a fresh dict, so the changelog sees it)."""
    out = dict(members or {})
    out[item[0]] = item[1]
    return out


def create_app(
    settings: Settings,
    rules: RuleSet,
    *,
    bootstrap: str,
    app_id: str | None = None,
    extractor: Extractor | None = None,
    datadir: str | None = None,
) -> StreamApp:
    """Build the Faust app. Source topics must already exist with ``settings.partitions``
    partitions (``marsad.topics.ensure_topics``); Faust creates its own internal ones."""
    if extractor is None:
        from stream.extract import extract

        extractor = extract
    extract_fn: Extractor = extractor
    partitions = settings.partitions
    topics = settings.topics
    app_id = app_id or topics.stream_app_id
    app = faust.App(
        app_id,
        broker=[f"kafka://{hp.strip()}" for hp in bootstrap.split(",") if hp.strip()],
        store="memory://",
        topic_partitions=partitions,
        topic_replication_factor=1,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        datadir=datadir or tempfile.mkdtemp(prefix="marsad-faust-"),
        broker_commit_every=100,
        broker_commit_interval=1.0,
        # A crashed worker's partitions move on after 25 s instead of Faust's 60 s.
        broker_session_timeout=25.0,
        broker_heartbeat_interval=3.0,
    )
    counters = Counters()

    articles = app.topic(topics.articles, partitions=partitions)
    candidates = app.topic(
        candidates_topic_name(topics, app_id), partitions=partitions, internal=True
    )
    window_updates = app.topic(
        window_updates_topic_name(app_id), partitions=partitions, internal=True
    )
    incidents_out = app.topic(topics.incidents, partitions=partitions)
    alerts_out = app.topic(topics.alerts, partitions=partitions)
    dlqs = {
        name: app.topic(dlq(name), partitions=partitions)
        for name in (topics.articles, topics.candidates)
    }
    # Not a contract topic: Faust declares it, like the internal topic it serves.
    dlqs["window-updates"] = app.topic(
        dlq(window_updates_topic_name(app_id)), partitions=partitions, internal=True
    )

    # Table keys and values are JSON (the app's topics are raw bytes).
    json_table: dict[str, Any] = {
        "schema": faust.Schema(key_serializer="json", value_serializer="json")
    }
    # Open incidents by id, and per governorate a small index of (id, event day): a new
    # report loads only the incidents its date could match, and each change writes one
    # incident to the changelog rather than the governorate's whole list.
    open_incidents = app.Table("open-incidents", partitions=partitions, **json_table)
    gov_index = app.Table("governorate-index", default=list, partitions=partitions, **json_table)
    fired = app.Table("fired-alerts", partitions=partitions, **json_table)
    window_fired = app.Table("window-fired", default=list, partitions=partitions, **json_table)
    window_rules: dict[str, WindowRule | SurgeRule] = {r.name: r for r in rules.window_rules}
    window_rules.update({r.name: r for r in rules.surge_rules})
    window_tables: dict[str, Any] = {}
    for rule in window_rules.values():
        base = app.Table(f"window-{rule.name}", default=dict, partitions=partitions, **json_table)
        if isinstance(rule, WindowRule) and rule.window.type == "hopping":
            assert rule.window.step is not None
            wrapped = base.hopping(rule.window.size, rule.window.step)
        else:
            wrapped = base.tumbling(rule.window.size)
        window_tables[rule.name] = wrapped.relative_to_stream()

    async def to_dlq(topic_name: str, key: bytes | None, raw: bytes | None, error: str) -> None:
        counters.dlq += 1
        log.warning("%s: message %r to %s: %s", topic_name, key, dlq(topic_name), error)
        await (await dlqs[topic_name].send(key=key, value=dead_letter(raw, error), force=True))

    async def publish(topic: Any, key: str, value: bytes, **kw: Any) -> Any:
        """Send now (not attached to the source offset's commit) and return the delivery
        future. Agents await delivery of their outputs *before* writing the table state
        that says "done": a crash in between re-sends the same ids (harmless duplicates)
        instead of losing an alert behind state that already claims it was sent."""
        return await topic.send(key=key.encode(), value=value, force=True, **kw)

    async def send_alert(alert: Alert) -> Any:
        counters.alerts += 1
        log.info(
            "alert %s rev %d (%s): %s", alert.id, alert.revision, alert.severity, alert.summary_en
        )
        return await publish(
            alerts_out, alert.id, alert.to_bytes(), headers=[(APP_HEADER, app_id.encode())]
        )

    # ------------------------------------------------------------------ agent 1

    @app.agent(articles, name="extract-articles")
    async def extract_articles(stream: Any) -> None:
        async for event in stream.events():
            raw, key = event.value, event.key
            try:
                article = Article.from_json(raw)
                extraction = extract_fn(article)
            except RecordError as exc:
                await to_dlq(topics.articles, key, raw, f"bad article: {exc}")
                continue
            except Exception as exc:  # the extractor failed on this one: keep going
                log.exception("extractor failed on %r", key)
                await to_dlq(topics.articles, key, raw, f"extract failed: {exc!r}")
                continue
            counters.articles += 1
            for index, inc in enumerate(extraction.incidents):
                if inc.background:
                    continue  # an earlier event the article recalls: never a new incident
                cand = Candidate(
                    article_id=article.id,
                    index=index,
                    source=article.source,
                    url=article.url,
                    published_at=article.published_at,
                    incident=inc,
                )
                admin1 = (inc.location.admin1 if inc.location else None) or "UNKNOWN"
                counters.candidates += 1
                await candidates.send(key=admin1.encode(), value=cand.model_dump_json().encode())

    # ------------------------------------------------------------------ agent 2

    @app.agent(candidates, name="merge-candidates")
    async def merge_candidates(stream: Any) -> None:
        async for event in stream.events():
            raw, key = event.value, event.key
            try:
                cand = Candidate.model_validate_json(raw)
            except Exception as exc:
                await to_dlq(topics.candidates, key, raw, f"bad candidate: {exc}")
                continue
            try:
                await _merge_one(cand)
            except Exception as exc:
                log.exception("merging %s#%d failed", cand.article_id, cand.index)
                await to_dlq(topics.candidates, key, raw, f"merge failed: {exc!r}")

    async def _merge_one(cand: Candidate) -> None:
        now = datetime.now(UTC)
        gov = (cand.incident.location.admin1 if cand.incident.location else None) or "UNKNOWN"
        index = [(str(e[0]), e[1]) for e in gov_index[gov]]
        held = [
            StoredIncident.model_validate(open_incidents[i])
            for i in ids_near(index, cand, rules.merge)
            if i in open_incidents
        ]
        decision = find_match(held, cand, rules.merge)
        changes: list[str] = []
        if decision.incident_id is None:
            stored = new_incident(cand, now)
            log.info("new incident %s from %s#%d", stored.id, cand.article_id, cand.index)
        else:
            pos = next(i for i, h in enumerate(held) if h.id == decision.incident_id)
            result = merge_into(held[pos], cand, now)
            log.info(
                "%s#%d -> %s (%s)%s",
                cand.article_id,
                cand.index,
                decision.incident_id,
                "; ".join(decision.reasons),
                f": {', '.join(result.changes)}" if result.changes else "",
            )
            if not result.changed:
                return  # a report we already hold: nothing to publish or alert
            stored = result.incident
            changes = result.changes
        deliveries = [await publish(incidents_out, stored.id, stored.to_bytes())]
        counters.incidents += 1

        ts = event_time(stored).timestamp()
        for rule in window_rules.values():
            if not rule.where.matches(stored):
                continue
            group = group_value(rule, stored)
            update = {
                "rule": rule.name,
                "group": group,
                "incident_id": stored.id,
                "value": metric_value(rule, stored),
            }
            counters.window_updates += 1
            deliveries.append(
                await publish(
                    window_updates,
                    f"{rule.name}|{group}",
                    json.dumps(update).encode(),
                    timestamp=ts,
                )
            )

        wanted = {incident_alert_id(r.name, stored.id) for r in rules.incident_rules}
        fired_now = {aid: fired[aid] for aid in wanted if aid in fired}
        to_fire = incident_alerts(rules.incident_rules, stored, fired_now, changes, now)
        for alert, _state in to_fire:
            deliveries.append(await send_alert(alert))
        await asyncio.gather(*deliveries)
        # Only now record what was done (see ``publish``).
        for alert, state in to_fire:
            fired[alert.id] = state
        open_incidents[stored.id] = stored.model_dump(mode="json")
        entry = index_entry(stored)
        if entry not in index:
            index = [e for e in index if e[0] != stored.id] + [entry]
            kept, dropped = prune_index(index, rules.merge)
            gov_index[gov] = [list(e) for e in kept]
            for old_id in dropped:
                if old_id in open_incidents:
                    del open_incidents[old_id]

    # ------------------------------------------------------------------ agent 3

    @app.agent(window_updates, name="aggregate-windows")
    async def aggregate_windows(stream: Any) -> None:
        async for event in stream.events():
            raw, key = event.value, event.key
            try:
                update = json.loads(raw)
                rule = window_rules[update["rule"]]
                await _aggregate_one(
                    rule,
                    str(update["group"]),
                    str(update["incident_id"]),
                    int(update["value"]),
                    float(event.message.timestamp),
                )
            except Exception as exc:
                log.exception("window update %r failed", key)
                await to_dlq("window-updates", key, raw, f"window update failed: {exc!r}")

    async def _aggregate_one(
        rule: WindowRule | SurgeRule, group: str, incident_id: str, value: int, ts: float
    ) -> None:
        table = window_tables[rule.name]
        wkey = f"{rule.name}|{group}"
        windows = table[wkey]
        windows.apply(_set_member, (incident_id, value))
        ranges = [tuple(r) for r in table.table.window.ranges(ts)]
        _forget_windows_before(table.table, wkey, ts - _retention(rule))
        done: list[list[float]] = list(window_fired[wkey])
        now = datetime.now(UTC)
        if isinstance(rule, WindowRule):
            totals = [(r, sum(windows[r].values())) for r in ranges]
            rng = choose_window(totals, rule.threshold, done)
            if rng is None:
                return
            members = windows[rng]
            alert = window_alert(rule, group, rng, sum(members.values()), list(members), now)
        else:
            rng = ranges[-1]
            if any(abs(f[0] - rng[0]) < 1e-6 for f in done):
                return
            members = windows[rng]
            size = rule.window.size
            baseline = []
            for k in range(1, rule.baseline_windows + 1):
                prev = tuple(table.table.window.ranges(rng[0] - k * size + size / 2)[-1])
                baseline.append(sum(windows[prev].values()))
            total = sum(members.values())
            fires, mean = rule.fires(total, baseline)
            if not fires:
                return
            alert = window_alert(rule, group, rng, total, list(members), now, baseline_mean=mean)
        await (await send_alert(alert))
        window_fired[wkey] = [*done, list(rng)][-64:]

    # ------------------------------------------------------------------ stall guard

    stalled_since: dict[Any, tuple[int, float]] = {}
    source_topics = {
        topics.articles, candidates.get_topic_name(), window_updates.get_topic_name()
    }

    @app.timer(interval=STALL_CHECK_S)
    async def stall_guard() -> None:
        """Re-read a source partition whose commit has not moved for ``STALL_AFTER_S`` while
        messages wait behind it.

        Why: faust-streaming can lose track of a message fetched while it finishes table
        recovery after a rebalance (seen here after a worker crash-restart): the partition's
        commit then never advances past it, and that message is not processed until the
        next restart. Seeking back to the committed offset makes Faust fetch it again;
        re-processing what follows is harmless because every stage is idempotent.
        """
        consumer = app.consumer
        committed_map = getattr(consumer, "_committed_offset", {})
        now = time.monotonic()
        for tp in consumer.assignment():
            if tp.topic not in source_topics:
                continue
            try:
                high = consumer.highwater(tp)
            except Exception:
                continue
            committed = committed_map.get(tp)
            if committed is None or high is None or committed >= high:
                stalled_since.pop(tp, None)
                continue
            seen = stalled_since.get(tp)
            if seen is None or seen[0] != committed:
                stalled_since[tp] = (committed, now)
                continue
            if now - seen[1] >= STALL_AFTER_S:
                log.warning(
                    "%s[%d]: commit stuck at %d (high-water %d) for %.0f s; re-reading from %d",
                    tp.topic,
                    tp.partition,
                    committed,
                    high,
                    now - seen[1],
                    committed,
                )
                await consumer.seek(tp, committed)
                stalled_since[tp] = (committed, now)

    return StreamApp(app=app, app_id=app_id, rules=rules, counters=counters)
