"""Pure pieces of the local broker's set-up: server.properties and the KRaft cluster id.

Kept apart from the process handling in ``broker.py`` so they can be unit-tested without a JVM.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BrokerConfig:
    """What varies between local brokers: where the data lives and which ports they listen on."""

    log_dirs: Path
    port: int
    controller_port: int
    host: str = "127.0.0.1"
    node_id: int = 1
    #: Every controller of the cluster as (node id, controller port); empty: this node alone.
    voters: tuple[tuple[int, int], ...] = ()

    @property
    def size(self) -> int:
        return max(len(self.voters), 1)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


def new_cluster_id(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A KRaft cluster id, made as Kafka's ``Uuid.randomUuid().toString()`` makes it.

    URL-safe base64 of 16 random bytes without padding (22 characters). Kafka never hands out
    an id starting with ``-`` (it would read as a command-line flag), nor the all-zero id, so
    neither do we. Doing this in Python saves a JVM start (``kafka-storage random-uuid``).
    """
    while True:
        raw = random_bytes(16)
        if len(raw) != 16:
            raise ValueError(f"need 16 random bytes, got {len(raw)}")
        text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        if raw != bytes(16) and not text.startswith("-"):
            return text


def is_valid_cluster_id(text: str) -> bool:
    """True if ``text`` decodes to 16 bytes the way Kafka's ``Uuid.fromString`` expects."""
    if len(text) != 22:
        return False
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except ValueError:
        return False
    return len(raw) == 16 and base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") == text


def server_properties(config: BrokerConfig) -> dict[str, str]:
    """The broker's configuration: a node that is both KRaft controller and broker.

    A single node has replication factors of 1, because one broker cannot meet Kafka's default
    of 3 (the consumer-offsets topic would never be created and every consumer group would
    hang). In a cluster of three or more, the internal topics are replicated three times and a
    write needs two in-sync replicas (``min.insync.replicas=2`` with the producers' ``acks=all``):
    one broker may die without losing an acknowledged message or stopping writes.
    Topics are never auto-created: ``marsad.topics.ensure_topics`` creates them with the
    partition count the Faust app expects.
    """
    host = config.host
    voters = config.voters or ((config.node_id, config.controller_port),)
    replicas = min(3, config.size)
    in_sync = 2 if replicas >= 3 else 1
    return {
        "process.roles": "broker,controller",
        "node.id": str(config.node_id),
        # Static quorum: a plain ``storage format`` is enough, no --standalone.
        "controller.quorum.voters": ",".join(f"{n}@{host}:{port}" for n, port in voters),
        "listeners": f"PLAINTEXT://{host}:{config.port},CONTROLLER://{host}:{config.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{config.port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(config.log_dirs.resolve()),
        "offsets.topic.replication.factor": str(replicas),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(in_sync),
        "transaction.state.log.num.partitions": "4",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(in_sync),
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        # Keep a developer's disk in check: a week or 1 GiB per partition, whichever first.
        "log.retention.hours": "168",
        "log.retention.bytes": str(1024**3),
    }


def render_properties(props: dict[str, str]) -> str:
    """Java .properties text; values here never hold characters that need escaping."""
    lines = ["# Written by marsad.kafka: regenerated on every start, edits are lost."]
    lines += [f"{key}={value}" for key, value in props.items()]
    return "\n".join(lines) + "\n"
