"""The embedded broker through kafka-python: the contract topics, a durable round trip, restarts."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from marsad.kafka import LocalBroker, PortInUseError, metadata_ok
from marsad.topics import Topics, dlq
from tests.conftest import TEST_PARTITIONS
from tests.support.kafka_helpers import consume_all, produce_json, wait_until

CONTRACT = Topics()

pytestmark = pytest.mark.integration


def _partition_counts(bootstrap: str) -> dict[str, int]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-broker")
    try:
        described = admin.describe_topics(CONTRACT.with_dlqs())
        # kafka-python 3.x names the key "name" (2.x: "topic").
        return {
            t.get("name", t.get("topic")): len(t["partitions"])
            for t in described
            if t["error_code"] == 0
        }
    finally:
        admin.close()


def _private_topic(bootstrap: str, prefix: str) -> str:
    """A fresh topic of our own: never write test data to the contract topics others read."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-broker")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=TEST_PARTITIONS, replication_factor=1)])
    finally:
        admin.close()
    return topic


def test_broker_answers_metadata(kafka_bootstrap: str) -> None:
    assert kafka_bootstrap.startswith("127.0.0.1:")
    assert metadata_ok(kafka_bootstrap)


def test_contract_topics_exist_with_four_partitions(kafka_bootstrap: str) -> None:
    counts = _partition_counts(kafka_bootstrap)
    for topic in CONTRACT.all:
        assert counts[topic] == TEST_PARTITIONS, topic
        assert counts[dlq(topic)] == TEST_PARTITIONS, dlq(topic)


def test_idempotent_round_trip_keeps_order_per_key(kafka_bootstrap: str) -> None:
    topic = _private_topic(kafka_bootstrap, "test-roundtrip")
    sent = [{"key": f"k{i % 3}", "seq": i, "text": "خبر رقم " + str(i)} for i in range(30)]
    assert produce_json(kafka_bootstrap, topic, sent, key=lambda v: v["key"]) == 30

    got = consume_all(kafka_bootstrap, topic, expected=30, timeout=30)

    assert sorted(got, key=lambda v: v["seq"]) == sent  # nothing lost, nothing doubled
    for key in ("k0", "k1", "k2"):  # same key, same partition: order kept
        seqs = [v["seq"] for v in got if v["key"] == key]
        assert seqs == sorted(seqs)


def test_consume_all_reports_what_it_saw_on_timeout(kafka_bootstrap: str) -> None:
    topic = _private_topic(kafka_bootstrap, "test-empty")
    with pytest.raises(AssertionError, match="expectation not met"):
        consume_all(kafka_bootstrap, topic, expected=lambda values: False, timeout=1.0)


def test_restart_keeps_data_and_cluster_id(kafka_broker: LocalBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = _private_topic(bootstrap, "test-restart")
    marker = {"marker": uuid.uuid4().hex}
    produce_json(bootstrap, topic, [marker])
    cluster_id = kafka_broker.cluster_id()
    old_pid = kafka_broker.pid()

    assert kafka_broker.stop(timeout=30) is True
    assert not kafka_broker.is_running()
    assert not kafka_broker.pid_path.exists()
    assert not metadata_ok(bootstrap, timeout_s=1.0)
    assert "shut down completed" in kafka_broker.log_path.read_text(encoding="utf-8")

    status = kafka_broker.start(timeout=120)

    assert status.running and status.pid != old_pid
    assert status.bootstrap == bootstrap
    assert kafka_broker.cluster_id() == cluster_id
    values = consume_all(bootstrap, topic, expected=lambda vs: marker in vs, timeout=30)
    assert marker in values


def test_start_is_idempotent_and_reports_status(kafka_broker: LocalBroker) -> None:
    pid = kafka_broker.pid()
    status = kafka_broker.start(timeout=30)
    assert status.pid == pid
    assert status.running
    assert status.log_path == kafka_broker.data_dir / "logs" / "server.log"
    assert status.log_path.is_file()
    assert status.rss_mb is not None and status.rss_mb > 50
    assert json.loads(json.dumps(status.as_dict()))["bootstrap"] == kafka_broker.bootstrap


def test_second_broker_on_same_port_fails_clearly(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = LocalBroker(
        tmp_path_factory.mktemp("other-kafka"),
        port=kafka_broker.port,
        controller_port=kafka_broker.controller_port,
        cache_dir=kafka_broker.cache_dir,
    )
    with pytest.raises(PortInUseError, match=str(kafka_broker.port)):
        other.start(timeout=10)
    assert not other.pid_path.exists()


def test_kill_then_start_recovers(kafka_broker: LocalBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = _private_topic(bootstrap, "test-kill")
    marker = {"killed": uuid.uuid4().hex}
    produce_json(bootstrap, topic, [marker])
    assert kafka_broker.kill() is True
    wait_until(lambda: not metadata_ok(bootstrap, 0.5), 10, "broker still answers after SIGKILL")

    started = time.monotonic()
    kafka_broker.start(timeout=120)
    assert time.monotonic() - started < 120
    consume_all(bootstrap, topic, expected=lambda vs: marker in vs, timeout=30)


def test_ensure_local_broker_starts_once_and_creates_topics(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from marsad.kafka import ensure_local_broker
    from marsad.settings import Settings
    from tests.support.kafka_helpers import free_ports

    port, cport = free_ports(2)
    home = tmp_path_factory.mktemp("home")
    settings = Settings(
        home=home,
        local_kafka_port=port,
        local_kafka_controller_port=cport,
        partitions=2,
        kafka_bootstrap="",
    )
    local = LocalBroker(home / "kafka", port=port, controller_port=cport)
    try:
        bootstrap = ensure_local_broker(settings)
        pid = local.pid()
        assert bootstrap == f"127.0.0.1:{port}"
        assert pid is not None
        assert _partition_counts(bootstrap)[CONTRACT.articles] == 2
        assert ensure_local_broker(settings) == bootstrap
        assert local.pid() == pid  # reused, not restarted
    finally:
        local.stop()
    assert not local.is_running()
    configured = settings.model_copy(update={"kafka_bootstrap": "kafka.example:9092"})
    assert ensure_local_broker(configured) == "kafka.example:9092"
