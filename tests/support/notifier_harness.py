"""Helpers for the notifier's integration tests: isolated consumer groups, keyed alert produce.

Why "start the group at the end": the session broker's ``alerts`` topic is shared with other
tests, so each test gives the notifier a fresh consumer group whose committed offsets are
first set to the current end of the topic; the notifier then sees exactly this test's alerts.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from marsad.topics import Topics

ALERTS = Topics().alerts


def fresh_group(bootstrap: str, topic: str = ALERTS) -> str:
    """A new consumer group whose committed offsets are the topic's current end."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    group = f"marsad-alerts-test-{uuid.uuid4().hex[:8]}"
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        ends = consumer.end_offsets(parts)
        consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in ends.items()})
    finally:
        consumer.close(autocommit=False)
    return group


def committed(bootstrap: str, group: str, topic: str = ALERTS) -> dict[int, int | None]:
    """The group's committed offset per partition (None: never committed)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = sorted(consumer.partitions_for_topic(topic))
        return {p: consumer.committed(TopicPartition(topic, p)) for p in parts}
    finally:
        consumer.close(autocommit=False)


def end_offsets(bootstrap: str, topic: str = ALERTS) -> dict[int, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        return {tp.partition: off for tp, off in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def produce_alerts(bootstrap: str, alerts: list[dict[str, Any]]) -> list[int]:
    """Send alerts keyed by id (as the stream does); return each one's partition, in order."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        futures = [
            producer.send(
                ALERTS,
                key=a["id"].encode("utf-8"),
                value=json.dumps(a, ensure_ascii=False).encode("utf-8"),
            )
            for a in alerts
        ]
        producer.flush(timeout=30)
        return [f.get(timeout=30).partition for f in futures]
    finally:
        producer.close(timeout=10)


def alert_id_of(message: dict[str, Any]) -> str | None:
    """The alert id a posted message carries in its metadata."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    value = payload.get("alert_id")
    return str(value) if value is not None else None
