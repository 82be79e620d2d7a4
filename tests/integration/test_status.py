"""``marsad status`` against the real broker: lag per partition, newest timestamps, DLQ counts."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from click.testing import CliRunner

from control.status import Watched, collect_status, render_text, status_cmd
from marsad.topics import Topics, dlq
from tests.conftest import TEST_PARTITIONS
from tests.support.kafka_helpers import produce_json, wait_until

pytestmark = pytest.mark.integration


def _create(bootstrap: str, *topics: str) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(t, TEST_PARTITIONS, 1) for t in topics])
    finally:
        admin.close()


def _consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> None:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        seen: list[object] = []

        def read() -> bool:
            for records in consumer.poll(timeout_ms=500, max_records=count - len(seen)).values():
                seen.extend(records)
            return len(seen) >= count

        wait_until(read, 30, f"group {group} did not read {count} records from {topic}")
        consumer.commit()
    finally:
        consumer.close(autocommit=False)


def test_lag_timestamps_and_dlq_counts(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:8]
    source, quiet, dead = f"src-{tag}", f"quiet-{tag}", f"src-{tag}.dlq"
    group, idle_group = f"grp-{tag}", f"idle-{tag}"
    _create(kafka_bootstrap, source, quiet, dead)
    before_ms = int(time.time() * 1000)
    produce_json(kafka_bootstrap, source, [{"n": i} for i in range(10)], key=lambda v: str(v["n"]))
    produce_json(kafka_bootstrap, dead, [{"n": 1, "error": "bad"}, {"n": 2, "error": "bad"}])
    _consume_and_commit(kafka_bootstrap, source, group, 4)

    report = collect_status(
        kafka_bootstrap,
        watched=Watched(
            groups={group: (source,), idle_group: (source,)},
            services={},
            timestamp_topics=(source, quiet, f"missing-{tag}"),
            dlq_topics=(dead, f"missing-{tag}.dlq"),
        ),
    )

    assert report.reachable
    by_group = {g.group: g for g in report.groups}
    assert len(by_group[group].partitions) == TEST_PARTITIONS
    assert by_group[group].total == 6  # 10 produced, 4 committed
    assert sum(p.end for p in by_group[group].partitions) == 10
    assert by_group[idle_group].total == 10  # never committed: everything is lag
    assert all(p.committed is None for p in by_group[idle_group].partitions)
    newest = report.last_message_ms[source]
    assert newest is not None and before_ms - 5000 <= newest <= int(time.time() * 1000) + 5000
    assert report.last_message_ms[quiet] is None
    assert report.last_message_ms[f"missing-{tag}"] is None
    assert report.dlq_counts == {dead: 2, f"missing-{tag}.dlq": None}
    text = render_text(report)
    assert f"{group}: NOT RUNNING, total lag 6" in text  # no live member: nothing consumes it
    assert f"{dead}: 2" in text
    assert json.loads(json.dumps(report.as_dict()))["groups"][0]["total_lag"] == 6


def test_status_command_json(kafka_bootstrap: str) -> None:
    result = CliRunner().invoke(
        status_cmd, ["--json"], env={"MARSAD_KAFKA_BOOTSTRAP": kafka_bootstrap}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reachable"] is True
    topics = Topics()
    assert {g["group"] for g in data["groups"]} == {topics.stream_app_id, topics.alerts_group}
    assert set(data["dlq_counts"]) == {dlq(t) for t in topics.all}
    assert set(data["last_message"]) == set(topics.contract)
