"""How far a stream app (a Kafka consumer group) has got: start it "now", measure its lag.

Used by ``marsad replay`` (start a fresh app id at the current end of ``articles``, then
wait until it has consumed everything it was given), by the benchmark and by the
integration tests (wait on a condition, never on a sleep).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec

__all__ = ["GroupProbe", "lag_by_topic", "partition_lag", "read_topic"]

# kafka-python warns, once per call, that it cannot decode Faust's own assignor metadata
# (it can still read the assignment, which is all we use).
logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)

P = TypeVar("P", bound=Hashable)


def partition_lag(
    ends: Mapping[P, int], beginnings: Mapping[P, int], committed: Mapping[P, int]
) -> dict[P, int]:
    """Messages a consumer group has not committed yet, per partition of ``ends``.

    The one place this arithmetic lives (``GroupProbe.lag``, ``marsad status``, the drills):
    lag is the end offset minus the committed offset; a partition the group never committed
    on counts from its beginning offset (what is still retained there; 0 when not given),
    and a lag is never negative (a committed offset past a truncated end counts as caught
    up). Pure: the offsets come from whichever client asked the broker.
    """
    return {tp: max(end - committed.get(tp, beginnings.get(tp, 0)), 0) for tp, end in ends.items()}


def lag_by_topic(lags: Mapping[TopicPartition, int]) -> dict[str, int]:
    """Per-partition lags summed per topic."""
    out: dict[str, int] = {}
    for tp, behind in lags.items():
        out[tp.topic] = out.get(tp.topic, 0) + behind
    return out


class GroupProbe:
    """A small admin client bound to one bootstrap; close it (or use ``with``)."""

    def __init__(self, bootstrap: str, timeout_s: float = 15.0) -> None:
        self.admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="marsad-progress",
            request_timeout_ms=int(timeout_s * 1000),
        )

    def __enter__(self) -> GroupProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.admin.close()

    def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        out = []
        for info in self.admin.describe_topics(list(topics)):
            name = info.get("name") or info.get("topic")
            for p in info.get("partitions", []):
                index = p.get("partition_index", p.get("partition"))
                out.append(TopicPartition(name, index))
        return sorted(out)

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        res = self.admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps})
        return {tp: int(v.offset) for tp, v in res.items()}

    def start_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        res = self.admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps})
        return {tp: int(v.offset) for tp, v in res.items()}

    def committed(self, group: str) -> dict[TopicPartition, int]:
        res: dict[str, dict[TopicPartition, Any]] = self.admin.list_group_offsets({group: None})
        return {tp: int(om.offset) for tp, om in res.get(group, {}).items() if om.offset >= 0}

    def start_group_at_end(self, group: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """Commit the current end offsets for ``group`` (which must have no live members),
        so an app with a new id processes only what is published from now on."""
        import time

        from kafka.errors import KafkaError

        tps = self.partitions(topics)
        ends = self.end_offsets(tps)
        deadline = time.monotonic() + 60.0
        while True:
            try:
                self.admin.reset_group_offsets(group, dict(ends))
                return ends
            except KafkaError as exc:
                # A fresh broker creates __consumer_offsets on first use: the coordinator
                # is "not available" for a few seconds. Anything else, or too long: raise.
                if not getattr(exc, "retriable", False) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def lag(self, group: str, topics: Iterable[str]) -> dict[str, int]:
        """Messages not yet committed by ``group``, per topic (uncommitted partitions count
        from their earliest offset)."""
        tps = self.partitions(topics)
        lags = partition_lag(self.end_offsets(tps), self.start_offsets(tps), self.committed(group))
        return lag_by_topic(lags)

    def members(self, group: str) -> list[dict[str, Any]]:
        """The group's members, each with its ``assignment`` as a list of ``(topic, p)``."""
        info = self.admin.describe_groups([group]).get(group) or {}
        out = []
        for m in info.get("members", []):
            assigned: list[tuple[str, int]] = []
            assignment = m.get("member_assignment") or {}
            if isinstance(assignment, dict):
                for item in assignment.get("assigned_partitions", []) or []:
                    assigned.extend((item["topic"], p) for p in item["partitions"])
            out.append({"member_id": m.get("member_id"), "assignment": assigned})
        return out

    def state(self, group: str) -> str:
        info = self.admin.describe_groups([group]).get(group) or {}
        return str(info.get("group_state") or info.get("state") or "")


def read_topic(
    bootstrap: str,
    topic: str,
    start: dict[TopicPartition, int] | None = None,
    header: tuple[str, str] | None = None,
    timeout_s: float = 30.0,
) -> list[tuple[bytes | None, Any]]:
    """Read ``topic`` from ``start`` (default: the beginning) up to its current end.

    Returns ``(key, JSON value)`` pairs (a value that is not JSON comes back as ``None``);
    with ``header=(name, value)`` only messages carrying that header are kept (how a replay
    picks its own alerts out of a shared ``alerts`` topic). No consumer group is used.
    """
    import json
    import time

    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    out: list[tuple[bytes | None, Any]] = []
    try:
        with GroupProbe(bootstrap) as probe:
            tps = probe.partitions([topic])
            ends = probe.end_offsets(tps)
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, (start or {}).get(tp, 0))
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout_s:.0f} s")
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    if r.offset >= ends[TopicPartition(r.topic, r.partition)]:
                        continue
                    if header is not None and (
                        dict(r.headers or []).get(header[0]) != header[1].encode()
                    ):
                        continue
                    try:
                        value = json.loads(r.value) if r.value is not None else None
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        value = None
                    out.append((r.key, value))
        return out
    finally:
        consumer.close()
