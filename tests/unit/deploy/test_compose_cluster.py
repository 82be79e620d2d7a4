"""The two compose shapes as compose itself merges them (``docker-compose config``): the
one-broker default stays valid, and the cluster override gives three KRaft brokers with
replication 3 and min.insync.replicas 2, several stream workers and notifiers sharing
partitions, and notifiers that share one ledger (the marsad-state volume)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.unit.deploy.conftest import (
    BASE,
    CLUSTER,
    compose,
    merged_services,
    needs_compose,
    volume_mounts,
)

SHAPES = {"base": BASE, "cluster": CLUSTER}


@pytest.fixture(scope="module")
def cluster() -> dict[str, Any]:
    return merged_services(CLUSTER)


@needs_compose
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_compose_accepts_the_shape(shape: str) -> None:
    done = compose(SHAPES[shape], "config", "-q")
    assert done.returncode == 0, done.stderr


def marsad_services(services: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in services.items() if s.get("image") == "marsad:latest"}


def runs(services: dict[str, Any], command: str) -> dict[str, Any]:
    return {n: s for n, s in marsad_services(services).items() if s["command"][0] == command}


@needs_compose
def test_three_kraft_brokers_replicate_three_times_two_in_sync(cluster: dict[str, Any]) -> None:
    brokers = {
        n: s for n, s in cluster.items() if str(s.get("image", "")).startswith("apache/kafka")
    }
    assert len(brokers) == 3
    envs = [s["environment"] for s in brokers.values()]
    assert sorted(e["KAFKA_NODE_ID"] for e in envs) == ["1", "2", "3"]
    assert len({e["CLUSTER_ID"] for e in envs}) == 1
    voters = {e["KAFKA_CONTROLLER_QUORUM_VOTERS"] for e in envs}
    assert voters == {
        ",".join(f"{e['KAFKA_NODE_ID']}@{n}:9093" for n, e in zip(brokers, envs, strict=True))
    }
    for name, env in zip(brokers, envs, strict=True):
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    data = {
        src for s in brokers.values() for src, dst in volume_mounts(s) if dst.startswith("/var")
    }
    assert len(data) == 3  # each broker its own state volume


@needs_compose
def test_every_marsad_service_uses_the_whole_cluster(cluster: dict[str, Any]) -> None:
    services = marsad_services(cluster)
    assert services
    for name, svc in services.items():
        env = svc["environment"]
        assert env["MARSAD_KAFKA_BOOTSTRAP"] == "kafka:9092,kafka-2:9092,kafka-3:9092", name
        assert env["MARSAD_REPLICATION_FACTOR"] == "3", name
        assert env["MARSAD_PARTITIONS"] == "12", name
    topics = cluster["topics"]["depends_on"]
    assert {"kafka", "kafka-2", "kafka-3"} <= set(topics)
    assert all(topics[b]["condition"] == "service_healthy" for b in ("kafka", "kafka-2", "kafka-3"))


@needs_compose
def test_several_stream_workers_share_one_group(cluster: dict[str, Any]) -> None:
    workers = runs(cluster, "stream")
    assert len(workers) >= 3
    # one consumer group: no worker names an app id of its own; the same settings everywhere
    assert not any("--app-id" in w["command"] for w in workers.values())
    assert len({yaml.safe_dump(w["environment"]) for w in workers.values()}) == 1
    assert len({tuple(w["command"]) for w in workers.values()}) == 1
    partitions = int(cluster["stream"]["environment"]["MARSAD_PARTITIONS"])
    assert len(workers) <= partitions  # a worker beyond the partition count would idle
    for w in workers.values():
        assert "healthcheck" in w and "--exit-on-stall" in w["command"]


def _state_volume(svc: dict[str, Any]) -> str:
    (source,) = [src for src, dst in volume_mounts(svc) if dst == "/var/lib/marsad"]
    return source


@needs_compose
def test_notifiers_share_partitions_and_one_ledger(cluster: dict[str, Any]) -> None:
    """Two notifiers in one group are safe only with one ledger: the volume is shared, so
    after a rebalance the new owner of a partition knows the Slack ts of each alert it takes
    over (tests/integration/test_notifiers_share_ledger.py shows the edit-not-repost)."""
    notifiers = runs(cluster, "alerts")
    assert len(notifiers) >= 2
    assert not any("--group" in n["command"] for n in notifiers.values())
    assert len({_state_volume(n) for n in notifiers.values()}) == 1
    assert all("MARSAD_HOME" not in n["environment"] for n in notifiers.values())
    assert len({yaml.safe_dump(n["environment"]) for n in notifiers.values()}) == 1
    assert len({tuple(n["command"]) for n in notifiers.values()}) == 1


@needs_compose
def test_one_ingest_poller(cluster: dict[str, Any]) -> None:
    assert len(runs(cluster, "ingest")) == 1
