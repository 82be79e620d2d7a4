"""Topic names and partitioning of the contract, and their explicit creation.

Topics are created by us, never by broker auto-create, so every topic has the partition
count the Faust app expects (a mismatch makes Faust tables fail with PartitionsMismatch).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

#: The topics every namespace has, in contract order, then the internal one.
CONTRACT_BASES = ("articles", "incidents", "alerts")
CANDIDATES_BASE = "incident-candidates"

log = logging.getLogger(__name__)


def dlq(topic: str) -> str:
    """The dead-letter topic of ``topic``: the original value plus ``error``."""
    return f"{topic}.dlq"


def dead_letter(raw: bytes | None, error: str) -> bytes:
    """The contract's dead-letter value: the original JSON object plus ``error``.

    What is not a JSON object is kept under ``raw`` (parsed JSON as is, undecodable bytes as
    text, a missing value as null), so nothing a producer sent is lost. ``schema`` is the
    contract's 1 unless the original said otherwise.
    """
    data: dict[str, Any]
    try:
        parsed = json.loads(raw) if raw is not None else None
        data = dict(parsed) if isinstance(parsed, dict) else {"raw": parsed}
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = {"raw": raw.decode("utf-8", "replace") if raw is not None else None}
    data["error"] = error
    data.setdefault("schema", 1)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Topics:
    """The topic and consumer-group names of one namespace.

    ``prefix`` comes from ``Settings.topic_prefix`` (env ``MARSAD_TOPIC_PREFIX``, default empty =
    the contract's names); ``marsad demo``, ``marsad replay`` and the tests use it to run
    isolated pipelines on one shared broker without seeing each other's messages or offsets.
    Built from settings and passed down, never read from the environment here.
    """

    prefix: str = ""

    @property
    def articles(self) -> str:
        return f"{self.prefix}articles"

    @property
    def incidents(self) -> str:
        return f"{self.prefix}incidents"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}alerts"

    @property
    def candidates(self) -> str:
        """Internal: extracted incident candidates re-keyed by governorate, so every report
        that may describe the same event lands on the same partition and merge-table shard."""
        return f"{self.prefix}{CANDIDATES_BASE}"

    @property
    def stream_app_id(self) -> str:
        """The Faust app id, which Faust also uses as its consumer group."""
        return f"{self.prefix}marsad-stream"

    @property
    def alerts_group(self) -> str:
        return f"{self.prefix}marsad-alerts"

    @property
    def contract(self) -> tuple[str, str, str]:
        return (self.articles, self.incidents, self.alerts)

    @property
    def all(self) -> tuple[str, ...]:
        """The contract topics and the internal candidates topic (no DLQs)."""
        return (*self.contract, self.candidates)

    def with_dlqs(self) -> list[str]:
        """Every topic Marsad creates in this namespace: ``all`` and their dead-letter topics."""
        return [*self.all, *(dlq(t) for t in self.all)]


def ensure_topics(
    bootstrap: str,
    partitions: int,
    topics: Topics,
    timeout_s: float = 30.0,
    replication: int = 1,
) -> list[str]:
    """Create any missing topic of ``topics`` with ``partitions`` partitions and at least
    ``replication`` copies; return those created."""
    return create_missing_topics(
        bootstrap, topics.with_dlqs(), partitions, timeout_s, replication=replication
    )


def create_missing_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    timeout_s: float = 30.0,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    replication: int = 1,
    enforced: Collection[str] = (),
) -> list[str]:
    """Create whichever of ``names`` do not exist yet (with ``configs[name]`` as topic
    configuration, e.g. ``cleanup.policy``); return the ones created. The ``enforced``
    names get their ``configs`` even when the topic already existed (made by an older
    release without them); "created" cannot tell, as a topic made a moment ago may not be
    in the answering broker's metadata yet, so they are set either way.

    Replicated ``max(replication, min(3, brokers))`` times: one copy on a single local
    broker, three on a cluster (which runs ``min.insync.replicas=2``, so one broker may die
    without a loss). ``replication`` (``MARSAD_REPLICATION_FACTOR``) is a floor, not a guess:
    the broker count comes from the answering node's metadata, which just after a cluster
    starts may not list every broker yet; a topic created then got two copies on a
    three-broker cluster and stopped taking writes when one of its two brokers died. With
    the floor, the controller refuses too few brokers and the call retries.

    Just after a cluster starts, the node that answers may name a controller it has no
    address for yet (metadata reaches each broker on its own schedule): such transient
    errors are retried until ``timeout_s``; anything else, or the deadline, is raised.
    """
    from kafka.errors import (
        InvalidReplicationFactorError,
        KafkaConnectionError,
        NodeNotReadyError,
        NotControllerError,
        UnknownBrokerIdError,
    )

    transient = (
        UnknownBrokerIdError,
        NodeNotReadyError,
        NotControllerError,
        KafkaConnectionError,
        InvalidReplicationFactorError,  # fewer brokers registered yet than the floor asks
    )
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _create_missing(
                bootstrap, names, partitions, timeout_s, configs or {}, replication, enforced
            )
        except transient as exc:
            if time.monotonic() >= deadline:
                raise
            log.info("topic creation: %s; retrying", type(exc).__name__)
            time.sleep(0.5)


def _create_missing(
    bootstrap: str,
    names: list[str],
    partitions: int,
    timeout_s: float,
    configs: Mapping[str, Mapping[str, str]],
    replication: int,
    enforced: Collection[str],
) -> list[str]:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="marsad-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in names if t not in existing]
        if missing:
            seen = len(admin.describe_cluster().get("brokers") or [1])
            replicas = max(replication, replication_for(seen))
            with contextlib.suppress(TopicAlreadyExistsError):  # raced with another creator
                admin.create_topics(
                    [
                        NewTopic(
                            t,
                            num_partitions=partitions,
                            replication_factor=replicas,
                            topic_configs=dict(configs.get(t, {})),
                        )
                        for t in missing
                    ]
                )
            log.info(
                "created topics %s with %d partitions, %d replica(s)", missing, partitions, replicas
            )
        if enforced:
            _set_configs(admin, {n: configs[n] for n in enforced if n in configs})
        return missing
    finally:
        admin.close()


def _set_configs(admin: Any, configs: Mapping[str, Mapping[str, str]]) -> None:
    """Set ``configs`` (topic name → settings) on topics that exist, incrementally: these
    keys change, the topics' others stay. No client-side check of the keys: kafka-python
    checks against the keys a topic already overrides, so it refuses any key not yet
    overridden; the broker checks them."""
    from kafka.admin import ConfigResource, ConfigResourceType

    answer = admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n, configs=dict(c)) for n, c in configs.items()],
        incremental=True,
        raise_on_unknown=False,
    )
    # {"topic": {name: "OK" or the broker's error}}
    failed = {n: r for n, r in (answer.get("topic") or {}).items() if r != "OK"}
    if failed:
        raise RuntimeError(f"could not configure topics: {failed}")


def replication_for(brokers: int) -> int:
    """How many copies of each partition a cluster of ``brokers`` keeps: three, or all."""
    return max(1, min(3, brokers))
