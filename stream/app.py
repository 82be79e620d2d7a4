"""The Faust stream processor: the one place that wires topics, tables, agents and rules.

Data flows one way through three agents. The agents only read, call plain functions that
decide, send and write tables; the decisions are in ``stream.extract`` (what an article
reports), ``stream.merge_step`` and ``stream.merge`` (which incident a report joins),
``stream.alerting`` and ``stream.rules`` (which incident alerts fire), ``stream.windows``
(window and surge alerts) and ``stream.stall`` (when a partition is stuck):

1. ``extract-articles`` reads ``articles`` (raw JSON), extracts incidents, drops
   background ones and tallies, and sends each remaining incident as a candidate to
   ``incident-candidates`` **keyed by country** (of ``admin1``, or ``UNKNOWN``). Articles
   themselves are keyed by article id, which spreads the extraction load; the re-keying is
   what puts every report that may describe the same event on the same partition, hence
   on the same worker and in the same shard of the merge table.
2. ``merge-candidates`` keeps the open incidents in the ``open-incidents`` table (by id), the
   reports each is built from (``incident-reports``) and a per-country index
   (``governorate-index``: id and event day, capped at ``merge.max_open``), merges the
   candidate (``stream.merge_step``: it may join two open incidents, the absorbed one's last
   revision carrying ``merged_into``), publishes the incident(s) to
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
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import faust

from marsad.records import Alert, Article, Extraction, RecordError, StoredIncident
from marsad.settings import Settings
from marsad.topics import Topics, dead_letter, dlq
from stream import clean_stop, commit_hold
from stream.alerting import (
    fired_entries,
    incident_alert_ids,
    incident_alerts,
    known_alerts,
    living_alerts,
)
from stream.health import PipelineMetrics, StreamHealth, merge_decision
from stream.merge import Candidate, Held, event_time, ids_near
from stream.merge_step import (
    MergeOutcome,
    candidate_key,
    candidates_of,
    index_entries,
    index_update,
    merge_candidate,
)
from stream.rules import RuleSet, SurgeRule, WindowRule
from stream.stall import STALL_CHECK_S, Stall, check_stall, partition_positions
from stream.windows import (
    WindowUpdate,
    parse_window_update,
    set_member,
    window_firing,
    window_of,
    window_updates,
    windowed_rules,
    windows_to_forget,
)

log = logging.getLogger("marsad.stream")

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


#: The ``window-updates`` topic's configuration: kept by size, never by age.
#: Why: its messages carry the incident's *event time* as their Kafka timestamp (the windows
#: are ``relative_to_stream``), and a broker's time retention counts from that timestamp. An
#: update about an event older than the retention (a week on the local broker; any report of
#: a past attack, every replay of an archive) was deleted by the broker's next retention pass,
#: often before the aggregator read it: its window counts were lost, and a consumer
#: committed below the new log start could no longer commit at all (drill 3 saw both).
WINDOW_UPDATES_CONFIG: dict[str, str] = {
    "retention.ms": "-1",
    "retention.bytes": str(256 * 1024**2),
}


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
    #: The worker's liveness (fed by the stall guard; served by ``stream.health``).
    health: StreamHealth = field(default_factory=StreamHealth)


def _faust_app(
    app_id: str, bootstrap: str, partitions: int, datadir: str | None, replication: int = 1
) -> faust.App:
    commit_hold.install()  # never commit past an unfinished message (stream.commit_hold)
    clean_stop.install()  # a stop with a fetch in flight does not hang (stream.clean_stop)
    return faust.App(
        app_id,
        broker=[f"kafka://{hp.strip()}" for hp in bootstrap.split(",") if hp.strip()],
        store="memory://",
        topic_partitions=partitions,
        topic_replication_factor=replication,  # its changelog and repartition topics
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


@dataclass
class _Outbox:
    """Every send the agents make besides re-keyed candidates: outputs, alerts, dead letters."""

    app_id: str
    counters: Counters
    incidents: Any
    window_updates: Any
    alerts: Any
    dlqs: dict[str, Any]
    metrics: PipelineMetrics

    async def publish(self, topic: Any, key: str, value: bytes, **kw: Any) -> Any:
        """Send now (not attached to the source offset's commit) and return the delivery
        future. Agents await delivery of their outputs *before* writing the table state
        that says "done": a crash in between re-sends the same ids (harmless duplicates)
        instead of losing an alert behind state that already claims it was sent."""
        return await topic.send(key=key.encode(), value=value, force=True, **kw)

    async def incident(self, inc: StoredIncident) -> Any:
        sent = await self.publish(self.incidents, inc.id, inc.to_bytes())
        self.counters.incidents += 1
        outcome = "merged_into" if inc.merged_into else "opened" if inc.revision == 1 else "revised"
        self.metrics.incidents.labels(outcome).inc()
        return sent

    async def window_update(self, update: WindowUpdate, ts: float) -> Any:
        """Keyed ``<rule>|<group>``, stamped with the incident's event time (the windowed
        tables are ``relative_to_stream``)."""
        self.counters.window_updates += 1
        return await self.publish(self.window_updates, update.key, update.to_bytes(), timestamp=ts)

    async def alert(self, alert: Alert) -> Any:
        self.counters.alerts += 1
        self.metrics.alerts.labels(alert.rule, alert.kind).inc()
        log.info(
            "alert %s rev %d (%s): %s", alert.id, alert.revision, alert.severity, alert.summary_en
        )
        header = (APP_HEADER, self.app_id.encode())
        return await self.publish(self.alerts, alert.id, alert.to_bytes(), headers=[header])

    async def to_dlq(self, topic_name: str, event: Any, error: str) -> None:
        """Send the event's value to ``<topic_name>.dlq`` with ``error``, and wait for it."""
        self.counters.dlq += 1
        self.metrics.dlq.labels(topic_name).inc()
        key, raw = event.key, event.value
        log.warning("%s: message %r to %s: %s", topic_name, key, dlq(topic_name), error)
        await (await self.dlqs[topic_name].send(key=key, value=dead_letter(raw, error), force=True))


def _default_extractor() -> Extractor:
    from stream.extract import extract  # loads the lexicons: only when no extractor is given

    return extract


def _log_merge(cand: Candidate, outcome: MergeOutcome) -> None:
    decision = outcome.decision
    if outcome.is_new:
        log.info("new incident %s from %s#%d", outcome.incident.id, cand.article_id, cand.index)
        return
    log.info(
        "%s#%d -> %s (%s)%s",
        cand.article_id,
        cand.index,
        decision.incident_id,
        "; ".join(decision.reasons),
        f": {', '.join(outcome.changes)}" if outcome.changes else "",
    )


def _count_in_windows(
    table: Any, rule: WindowRule | SurgeRule, update: WindowUpdate, ts: float
) -> Any:
    """Set the update's member in every window of ``table`` (a ``relative_to_stream``
    windowed table) containing the current event's time, drop the group's windows older
    than ``windows.retention``, and return the group's ``WindowSet``."""
    windows = table[update.key]
    windows.apply(set_member, (update.incident_id, update.value))
    for rng in windows_to_forget(rule, ts):
        if (update.key, rng) in table.table:
            del table.table[update.key, rng]
    return windows


def _stall_guard(
    app: faust.App, sources: set[str], health: StreamHealth | None = None
) -> Callable[[], Awaitable[None]]:
    """The timer that re-reads a source partition whose commit is stuck behind waiting
    messages (why, and the decision: ``stream.stall``), and feeds the worker's liveness
    (``health``, see ``stream.health``) with the same looks."""
    watched: dict[Any, Stall] = {}

    async def stall_guard() -> None:
        now, wall = time.monotonic(), time.time()
        for tp, committed, high in partition_positions(app.consumer, sources):
            if health is not None:
                health.observe(tp, committed, high, wall)
            check = check_stall(watched.pop(tp, None), committed, high, now)
            if check.watch is None:
                continue
            watched[tp] = check.watch
            if check.reread:
                log.warning(
                    "%s[%d]: commit stuck at %d (high-water %d) for %.0f s; re-reading from %d",
                    tp.topic,
                    tp.partition,
                    committed,
                    high,
                    check.stuck_for,
                    committed,
                )
                if health is not None:
                    health.reread()
                await app.consumer.seek(tp, check.watch.committed)
        if health is not None:
            health.looked(wall)

    return stall_guard


def changelog_topics(app: Any) -> dict[str, dict[str, str]]:
    """Each table's changelog topic and the configuration Faust would give it (compacted;
    windowed tables also deleting, with their retention).

    Why they are created before the worker starts: under load Faust was seen to assign
    partitions before its own changelog topics existed ("Ignoring missing topic"), and every
    write to such a table then failed with ``PartitionsMismatch`` (window and surge alerts
    went to the dead-letter topic instead of firing).
    """
    out: dict[str, dict[str, str]] = {}
    for table in app.tables.values():
        topic = table.changelog_topic
        policy = ",".join(
            flag for flag, on in (("compact", topic.compacting), ("delete", topic.deleting)) if on
        )
        config = {"cleanup.policy": policy} if policy else {}
        if topic.retention:
            config["retention.ms"] = str(int(float(topic.retention) * 1000))
        out[topic.get_topic_name()] = config
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
    extract_fn = extractor or _default_extractor()
    topics, partitions = settings.topics, settings.partitions
    app_id = app_id or topics.stream_app_id
    app = _faust_app(app_id, bootstrap, partitions, datadir, settings.replication_factor)
    counters = Counters()

    def topic(name: str, internal: bool = False) -> Any:
        return app.topic(name, partitions=partitions, internal=internal)

    articles = topic(topics.articles)
    candidates = topic(candidates_topic_name(topics, app_id), internal=True)
    updates = topic(window_updates_topic_name(app_id), internal=True)
    dlqs = {name: topic(dlq(name)) for name in (topics.articles, topics.candidates)}
    # Not a contract topic: Faust declares it, like the internal topic it serves.
    dlqs["window-updates"] = topic(dlq(window_updates_topic_name(app_id)), internal=True)
    health = StreamHealth()
    metrics = health.pipeline
    out = _Outbox(
        app_id, counters, topic(topics.incidents), updates, topic(topics.alerts), dlqs, metrics
    )
    for name in dlqs:  # at 0 from the start: increase() sees the first dead letter
        metrics.dlq.labels(name)

    def table(name: str, default: Any = None) -> Any:
        # Table keys and values are JSON (the app's topics are raw bytes).
        schema: Any = faust.Schema(key_serializer="json", value_serializer="json")
        return app.Table(name, default=default, partitions=partitions, schema=schema)

    # Open incidents by id with the reports each is built from, and per partition key (the
    # country, ``merge_step.partition_key``) a small index of (id, event day): a new report
    # loads only the incidents its date could match, and each change writes one incident to
    # the changelog rather than the whole list.
    open_incidents = table("open-incidents")
    incident_reports = table("incident-reports", default=list)
    gov_index = table("governorate-index", default=list)
    fired = table("fired-alerts")
    window_fired = table("window-fired", default=list)
    window_rules = windowed_rules(rules)
    window_tables = {
        name: table(f"window-{name}", default=dict).using_window(window_of(r)).relative_to_stream()
        for name, r in window_rules.items()
    }

    @app.agent(articles, name="extract-articles")
    async def extract_articles(stream: Any) -> None:
        async for event in stream.events():
            try:
                article = Article.from_json(event.value)
                started = time.perf_counter()
                extraction = extract_fn(article)
                metrics.extraction.observe(time.perf_counter() - started)
            except RecordError as exc:
                await out.to_dlq(topics.articles, event, f"bad article: {exc}")
                continue
            except Exception as exc:  # the extractor failed on this one: keep going
                log.exception("extractor failed on %r", event.key)
                await out.to_dlq(topics.articles, event, f"extract failed: {exc!r}")
                continue
            counters.articles += 1
            metrics.articles.inc()
            background = sum(1 for inc in extraction.incidents if inc.background)
            metrics.extracted.labels("background").inc(background)
            metrics.extracted.labels("current").inc(len(extraction.incidents) - background)
            for key, cand in candidates_of(article, extraction):
                counters.candidates += 1
                await candidates.send(key=key.encode(), value=cand.model_dump_json().encode())

    @app.agent(candidates, name="merge-candidates")
    async def merge_candidates(stream: Any) -> None:
        async for event in stream.events():
            try:
                cand = Candidate.model_validate_json(event.value)
            except Exception as exc:
                await out.to_dlq(topics.candidates, event, f"bad candidate: {exc}")
                continue
            try:
                await merge(cand)
            except Exception as exc:
                log.exception("merging %s#%d failed", cand.article_id, cand.index)
                await out.to_dlq(topics.candidates, event, f"merge failed: {exc!r}")

    async def merge(cand: Candidate) -> None:
        now = datetime.now(UTC)
        key = candidate_key(cand)
        index = index_entries(gov_index[key])
        near = [i for i in ids_near(index, cand, rules.merge) if i in open_incidents]
        held = [
            Held(
                StoredIncident.model_validate(open_incidents[i]),
                [Candidate.model_validate(r) for r in incident_reports[i]],
            )
            for i in near
        ]
        outcome = merge_candidate(cand, held, rules.merge, now)
        _log_merge(cand, outcome)
        decision = merge_decision(outcome.is_new, outcome.changed, len(outcome.absorbed))
        metrics.decisions.labels(decision).inc()
        if not outcome.changed:
            return  # a report we already hold: nothing to publish or alert
        sent: list[Any] = []
        to_fire = []
        # Which alert speaks for the survivor under each rule: its own, or a twin's that it
        # continues (a renamed event keeps its one Slack message; stream/alerting.py).
        was = known_alerts(
            fired,
            [a for i in outcome.published for a in incident_alert_ids(rules.incident_rules, i.id)],
        )
        living = living_alerts(rules.incident_rules, outcome.incident, outcome.absorbed, was)
        # The surviving incident, then each absorbed twin's last revision (``merged_into``):
        # its alerts get their last revision and its window counts go to nought.
        for inc in outcome.published:
            ts = event_time(inc).timestamp()
            sent.append(await out.incident(inc))
            updates_ = window_updates(window_rules.values(), inc)
            if inc.merged_into:
                updates_ = [replace(u, value=0) for u in updates_]
            sent += [await out.window_update(u, ts) for u in updates_]
            changes = outcome.changes if inc is outcome.incident else []
            firing = incident_alerts(rules.incident_rules, inc, was, changes, now, living)
            sent += [await out.alert(alert) for alert, _state in firing]
            to_fire += firing
        await asyncio.gather(*sent)
        # Only now record what was done (see ``_Outbox.publish``).
        for alert, state in to_fire:
            for fired_id, entry in fired_entries(alert, state).items():
                fired[fired_id] = entry
        inc = outcome.incident
        open_incidents[inc.id] = inc.model_dump(mode="json")
        incident_reports[inc.id] = [r.model_dump(mode="json") for r in outcome.reports]
        gone = [twin.id for twin in outcome.absorbed]
        new_index = index_update(index, inc, rules.merge, gone)
        if new_index is not None:
            gov_index[key] = new_index.table_value()
        for old_id in [*gone, *(new_index.dropped if new_index else [])]:
            if old_id in open_incidents:
                del open_incidents[old_id]
            if old_id in incident_reports:
                del incident_reports[old_id]

    @app.agent(updates, name="aggregate-windows")
    async def aggregate_windows(stream: Any) -> None:
        async for event in stream.events():
            try:
                rule, update = parse_window_update(event.value, window_rules)
                ts = float(event.message.timestamp)
                windows = _count_in_windows(window_tables[rule.name], rule, update, ts)
                done = list(window_fired[update.key])
                now = datetime.now(UTC)
                firing = window_firing(rule, update.group, ts, windows.__getitem__, done, now)
                if firing is not None:
                    await (await out.alert(firing.alert))
                    window_fired[update.key] = firing.fired
            except Exception as exc:
                log.exception("window update %r failed", event.key)
                await out.to_dlq("window-updates", event, f"window update failed: {exc!r}")

    sources = {topics.articles, candidates.get_topic_name(), updates.get_topic_name()}
    app.timer(interval=STALL_CHECK_S)(_stall_guard(app, sources, health))
    return StreamApp(app=app, app_id=app_id, rules=rules, counters=counters, health=health)
