"""Topic names and partitioning of the contract, and their explicit creation.

Topics are created by us, never by broker auto-create, so every topic has the partition
count the Faust app expects (a mismatch makes Faust tables fail with PartitionsMismatch).
"""

from __future__ import annotations

import contextlib
import logging
import os

#: Optional namespace for every topic and consumer group (env ``MARSAD_TOPIC_PREFIX``, default
#: empty = the contract's names). `marsad demo`, `marsad replay` and the tests use it to run
#: isolated pipelines on one shared broker without seeing each other's messages or offsets.
PREFIX = os.environ.get("MARSAD_TOPIC_PREFIX", "")

ARTICLES = f"{PREFIX}articles"
INCIDENTS = f"{PREFIX}incidents"
ALERTS = f"{PREFIX}alerts"
#: Internal: extracted incident candidates re-keyed by governorate, so every report that
#: may describe the same event lands on the same partition (and the same merge table shard).
CANDIDATES = f"{PREFIX}incident-candidates"

#: Consumer groups / Faust app id, namespaced the same way.
STREAM_APP_ID = f"{PREFIX}marsad-stream"
ALERTS_GROUP = f"{PREFIX}marsad-alerts"

CONTRACT_TOPICS = (ARTICLES, INCIDENTS, ALERTS)
ALL_TOPICS = (*CONTRACT_TOPICS, CANDIDATES)

log = logging.getLogger(__name__)


def dlq(topic: str) -> str:
    """The dead-letter topic of ``topic``: the original value plus ``error``."""
    return f"{topic}.dlq"


def all_topic_names(prefix: str | None = None) -> list[str]:
    """Every topic Marsad uses, under ``prefix`` (default: this process's topic prefix)."""
    base = ("articles", "incidents", "alerts", "incident-candidates")
    names = [f"{PREFIX if prefix is None else prefix}{b}" for b in base]
    return [*names, *(dlq(t) for t in names)]


def ensure_topics(
    bootstrap: str, partitions: int, timeout_s: float = 30.0, prefix: str | None = None
) -> list[str]:
    """Create any missing Marsad topic with ``partitions`` partitions; return those created."""
    return create_missing_topics(bootstrap, all_topic_names(prefix), partitions, timeout_s)


def create_missing_topics(
    bootstrap: str, names: list[str], partitions: int, timeout_s: float = 30.0
) -> list[str]:
    """Create whichever of ``names`` do not exist yet; return the ones created."""
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
            with contextlib.suppress(TopicAlreadyExistsError):  # raced with another creator
                admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            log.info("created topics %s with %d partitions", missing, partitions)
        return missing
    finally:
        admin.close()
