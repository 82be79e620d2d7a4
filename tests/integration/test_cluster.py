"""A local three-broker KRaft cluster: one broker SIGKILLed mid-write loses nothing.

The production shape (replication factor 3, ``min.insync.replicas=2``, idempotent producers with
``acks=all``) on one machine: the topics Marsad creates get three replicas, every acknowledged
message survives the death of any one broker, writes go on while it is down, and the broker
rejoins from its data directory.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from marsad.kafka.cluster import LocalCluster
from marsad.settings import Settings
from marsad.topics import Topics, ensure_topics
from tests.support.kafka_helpers import consume_all, free_ports

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    ports = free_ports(6)
    pairs = [(ports[i], ports[i + 1]) for i in range(0, 6, 2)]
    local = LocalCluster(
        tmp_path / "cluster", 3, heap="256m", cache_dir=Settings().cache_dir, ports=pairs
    )
    local.start(timeout=240)
    try:
        yield local
    finally:
        local.stop(timeout=20)


@pytest.mark.timeout(420)
def test_one_of_three_brokers_dies_and_nothing_is_lost(cluster: LocalCluster) -> None:
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient

    topics = Topics("cluster-")
    # Three copies asked for: the first node to answer may not have heard of every broker yet.
    ensure_topics(cluster.bootstrap, 2, topics, replication=3)
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap, client_id="test-cluster")
    try:
        replicas: set[int] = set()
        deadline = time.monotonic() + 30
        while replicas != {3} and time.monotonic() < deadline:  # metadata spreads in a moment
            (described,) = admin.describe_topics([topics.articles])
            if described["error_code"] == 0 and described["partitions"]:
                replicas = {len(p["replica_nodes"]) for p in described["partitions"]}
            time.sleep(0.2)
    finally:
        admin.close()
    assert replicas == {3}

    producer = KafkaProducer(
        bootstrap_servers=cluster.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=10_000,
        reconnect_backoff_max_ms=1_000,
    )
    sent = 0
    slowest = 0.0
    try:
        for phase in ("before", "while down"):
            if phase == "while down":
                assert cluster.kill_node(0)
            for _ in range(100):
                started = time.monotonic()
                producer.send(topics.articles, key=str(sent).encode(), value=b'{"n": %d}' % sent)
                producer.flush(timeout=60)  # acknowledged by two in-sync replicas
                slowest = max(slowest, time.monotonic() - started)
                sent += 1
    finally:
        producer.close(timeout=10)
    assert len(cluster.running()) == 2
    cluster.start_node(0)  # rejoins from its data directory
    values = consume_all(cluster.bootstrap, topics.articles, sent, timeout=120)
    assert sorted(v["n"] for v in values) == list(range(sent))
    print(f"slowest acknowledged write across the kill: {slowest:.2f} s")
