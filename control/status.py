"""``marsad status``: is the broker up, are the consumers keeping up, is anything dead-lettered?

A running group with lag whose committed offsets do not move between two probes
(``--stall-probe`` seconds apart) is shown as STALLED: its members are in the group but not
working (a stalled Faust worker looks exactly like that).

Read-only: it never joins a consumer group or commits anything, so running it next to the
pipeline changes nothing. Collection (Kafka I/O) is kept apart from rendering (pure), so the
JSON and the text views always describe the same numbers.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from marsad.kafka.errors import NoBrokerError
from marsad.settings import Settings
from marsad.topics import Topics, dlq

#: Exit status when no broker can be reached.
EXIT_NO_BROKER = 2


class _Unreachable(click.ClickException):
    exit_code = EXIT_NO_BROKER


@dataclass(frozen=True)
class Watched:
    """What ``status`` looks at in one topic namespace."""

    #: Consumer groups of the pipeline and the topics each is expected to read. Lag is shown
    #: for these topics even before the group has committed anything, plus any other topic
    #: the group has committed offsets on (e.g. Faust's repartition topics).
    groups: dict[str, tuple[str, ...]]
    #: Which service each consumer group belongs to (ingest only produces; its last article
    #: time is its sign of life).
    services: dict[str, str]
    timestamp_topics: tuple[str, ...]
    dlq_topics: tuple[str, ...]

    @classmethod
    def of(cls, topics: Topics) -> Watched:
        return cls(
            groups={
                topics.stream_app_id: (topics.articles, topics.candidates),  # Faust: app id
                topics.alerts_group: (topics.alerts,),
            },
            services={topics.stream_app_id: "stream", topics.alerts_group: "alerts"},
            timestamp_topics=topics.contract,
            dlq_topics=tuple(dlq(t) for t in topics.all),
        )


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed on this partition
    end: int
    lag: int


@dataclass(frozen=True)
class GroupLag:
    group: str
    partitions: list[PartitionLag] = field(default_factory=list)
    #: The service behind the group ("stream", "alerts"), its group state and live members:
    #: a group with no member means the service is not running.
    service: str = ""
    state: str = ""
    members: int | None = None
    #: ``topic[partition]`` with lag whose commit did not move between the two probes
    #: (empty when it moved, or when only one probe was made).
    stalled: list[str] = field(default_factory=list)
    #: Seconds between the two probes (0: one probe, no stall check).
    probe_s: float = 0.0

    @property
    def health(self) -> str:
        if self.members is None:
            return "unknown"
        if not self.members:
            return "NOT RUNNING"
        if self.stalled:
            return (
                f"STALLED ({self.members} member(s), {self.state}; no commit in "
                f"{self.probe_s:g} s on {len(self.stalled)} partition(s) with lag: "
                f"{', '.join(self.stalled)})"
            )
        return f"running ({self.members} member(s), {self.state})"

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)


@dataclass(frozen=True)
class StatusReport:
    bootstrap: str
    reachable: bool
    source: str  # "MARSAD_KAFKA_BOOTSTRAP" or "local broker (pid N)"
    groups: list[GroupLag] = field(default_factory=list)
    #: topic -> newest record timestamp (ms since epoch), None if the topic is empty/missing.
    last_message_ms: dict[str, int | None] = field(default_factory=dict)
    #: dlq topic -> retained messages, None if the topic does not exist.
    dlq_counts: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for group, raw in zip(self.groups, out["groups"], strict=True):
            raw["total_lag"] = group.total
        out["last_message"] = {
            t: (_iso(ms) if ms is not None else None) for t, ms in self.last_message_ms.items()
        }
        return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


# -- collection (I/O) ----------------------------------------------------------------------------


def resolve_bootstrap(settings: Settings) -> tuple[str, str]:
    """(bootstrap, where it came from): the configured broker, else the running local one."""
    from marsad.kafka.broker import locate_kafka

    return locate_kafka(settings, start=False)


def stalled_partitions(
    first: Mapping[tuple[str, int], int],
    second: Mapping[tuple[str, int], int],
    lags: Mapping[tuple[str, int], int],
) -> list[str]:
    """``topic[partition]`` of each partition with lag (in ``lags``, as of ``second``) whose
    committed offset is the same in both probes (never committed in both counts too). Pure."""
    return [
        f"{topic}[{part}]"
        for (topic, part), lag in sorted(lags.items())
        if lag > 0 and first.get((topic, part)) == second.get((topic, part))
    ]


def _committed_offsets(admin: Any, group: str) -> dict[tuple[str, int], int]:
    """Committed offsets of ``group`` on every partition (kafka-python 3.x and 2.x APIs)."""
    if hasattr(admin, "list_group_offsets"):
        raw = admin.list_group_offsets(group).get(group, {})
    else:  # kafka-python 2.x
        raw = admin.list_consumer_group_offsets(group)
    return {(tp.topic, tp.partition): meta.offset for tp, meta in raw.items() if meta.offset >= 0}


def _last_timestamp(
    consumer: Any,
    tps: Sequence[Any],
    ends: Mapping[Any, int],
    starts: Mapping[Any, int],
    timeout_s: float,
) -> int | None:
    """Newest record timestamp over ``tps``: read the last few offsets of each partition.

    A few, not one: the last offset may be a transaction marker, which holds no record.
    """
    live = [tp for tp in tps if ends[tp] > starts[tp]]
    if not live:
        return None
    consumer.assign(live)
    for tp in live:
        consumer.seek(tp, max(starts[tp], ends[tp] - 5))
    newest: int | None = None
    pending = set(live)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=200).items():
            for record in records:
                newest = record.timestamp if newest is None else max(newest, record.timestamp)
            if consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        for tp in list(pending):  # nothing left to read (only markers after the seek)
            if consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
    return newest


def _membership(admin: Any, group: str) -> tuple[str, int | None]:
    """The group's state and number of live members (None when the broker cannot say)."""
    try:
        info = admin.describe_groups([group]).get(group) or {}
    except Exception:  # older clients or a coordinator still loading: health unknown
        return "", None
    state = str(info.get("group_state") or info.get("state") or "")
    return state, len(info.get("members") or [])


def collect_status(
    bootstrap: str,
    source: str = "",
    watched: Watched | None = None,
    timeout_s: float = 10.0,
    stall_probe_s: float = 0.0,
) -> StatusReport:
    """Query the broker for lag, newest timestamps and DLQ sizes (read-only).

    ``watched`` defaults to the contract's namespace (no topic prefix). With
    ``stall_probe_s`` > 0 the committed offsets are read twice, that many seconds apart, and
    each group's partitions with lag whose commit did not move are its ``stalled``."""
    watched = watched or Watched.of(Topics())
    groups: Mapping[str, Iterable[str]] = watched.groups
    timestamp_topics: Iterable[str] = watched.timestamp_topics
    dlq_topics: Iterable[str] = watched.dlq_topics
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    from marsad.kafka.broker import metadata_ok
    from marsad.kafka.probes import partition_lag

    if not metadata_ok(bootstrap, timeout_s=min(timeout_s, 5.0)):
        return StatusReport(bootstrap=bootstrap, reachable=False, source=source)
    ms = int(timeout_s * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="marsad-status", request_timeout_ms=ms
    )
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id="marsad-status",
        enable_auto_commit=False,
    )
    try:
        existing = set(consumer.topics())

        def parts(topic: str) -> list[TopicPartition]:
            ids = consumer.partitions_for_topic(topic) or set()
            return [TopicPartition(topic, p) for p in sorted(ids)]

        group_lags = []
        earlier: dict[str, dict[tuple[str, int], int]] = {}
        if stall_probe_s > 0:
            earlier = {group: _committed_offsets(admin, group) for group in groups}
            time.sleep(stall_probe_s)
        for group, expected in groups.items():
            committed = _committed_offsets(admin, group)
            topics = sorted(
                {
                    *(t for t in expected if t in existing),
                    *(t for t, _ in committed if t in existing),
                }
            )
            tps = [tp for t in topics for tp in parts(t)]
            ends = consumer.end_offsets(tps) if tps else {}
            starts = consumer.beginning_offsets(tps) if tps else {}
            done = {
                tp: committed[key] for tp in tps if (key := (tp.topic, tp.partition)) in committed
            }
            lags = partition_lag(ends, starts, done)
            rows = [
                PartitionLag(tp.topic, tp.partition, done.get(tp), ends[tp], lags[tp]) for tp in tps
            ]
            state, members = _membership(admin, group)
            stalled = []
            if group in earlier:
                by_key = {(tp.topic, tp.partition): lag for tp, lag in lags.items()}
                stalled = stalled_partitions(earlier[group], committed, by_key)
            group_lags.append(
                GroupLag(
                    group,
                    rows,
                    watched.services.get(group, ""),
                    state,
                    members,
                    stalled,
                    stall_probe_s,
                )
            )

        last: dict[str, int | None] = {}
        for topic in timestamp_topics:
            tps = parts(topic) if topic in existing else []
            if not tps:
                last[topic] = None
                continue
            ends, starts = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
            last[topic] = _last_timestamp(consumer, tps, ends, starts, timeout_s)

        counts: dict[str, int | None] = {}
        for topic in dlq_topics:
            tps = parts(topic) if topic in existing else []
            if topic not in existing:
                counts[topic] = None
                continue
            ends, starts = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
            counts[topic] = sum(ends[tp] - starts[tp] for tp in tps)
    finally:
        consumer.close(autocommit=False)
        admin.close()
    return StatusReport(bootstrap, True, source, group_lags, last, counts)


# -- rendering (pure) ----------------------------------------------------------------------------


def _age(ms: int, now_ms: int) -> str:
    seconds = max(now_ms - ms, 0) // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def render_text(report: StatusReport, now_ms: int | None = None) -> str:
    """The human view of a report, one section per question an operator asks."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    where = f" via {report.source}" if report.source else ""
    if not report.reachable:
        return f"broker: UNREACHABLE at {report.bootstrap}{where}"
    lines = [f"broker: reachable at {report.bootstrap}{where}", "", "services and consumer lag:"]
    for group in report.groups:
        label = f"{group.service} [{group.group}]" if group.service else group.group
        lines.append(f"  {label}: {group.health}, total lag {group.total}")
        if not group.partitions:
            lines.append("    (no topics)")
        for p in group.partitions:
            done = "never committed" if p.committed is None else f"committed {p.committed}"
            lines.append(f"    {p.topic}[{p.partition}]  {done}, end {p.end}, lag {p.lag}")
    lines += ["", "last message:"]
    for topic, ms in report.last_message_ms.items():
        when = "(empty)" if ms is None else f"{_iso(ms)} ({_age(ms, now)})"
        lines.append(f"  {topic}: {when}")
    lines += ["", "dead letters:"]
    for topic, count in report.dlq_counts.items():
        lines.append(f"  {topic}: {'(missing)' if count is None else count}")
    return "\n".join(lines)


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for each broker query.",
)
@click.option(
    "--stall-probe",
    type=float,
    default=3.0,
    show_default=True,
    help="Seconds between the two reads of committed offsets that tell STALLED (0 = one read).",
)
def status_cmd(as_json: bool, timeout: float, stall_probe: float) -> None:
    """Broker reachability, consumer lag per partition, newest messages and DLQ counts.

    Exits 0 when the broker answers, 2 when no broker can be reached.
    """
    settings = Settings()
    try:
        bootstrap, source = resolve_bootstrap(settings)
    except NoBrokerError as exc:
        raise _Unreachable(str(exc)) from exc
    report = collect_status(
        bootstrap, source, Watched.of(settings.topics), timeout_s=timeout, stall_probe_s=stall_probe
    )
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False) if as_json else render_text(report))
    if not report.reachable:
        click.echo(f"error: no Kafka broker answers at {bootstrap}", err=True)
        sys.exit(EXIT_NO_BROKER)
