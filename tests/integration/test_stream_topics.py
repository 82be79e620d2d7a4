"""The stream worker's own topics on the real broker: ``window-updates`` is kept by size,
never by age, whether the worker creates it or finds it made by an older release.

Why it matters: window updates carry the incident's event time as their Kafka timestamp, and
the broker's time retention counts from it; an update about an event older than a week was
deleted before the aggregator read it (see ``stream.app.WINDOW_UPDATES_CONFIG``).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from marsad.settings import Settings
from marsad.topics import create_missing_topics
from stream.app import WINDOW_UPDATES_CONFIG, create_app, window_updates_topic_name
from stream.cli import prepare_topics
from stream.rules import load_rules

pytestmark = pytest.mark.integration


def _config(bootstrap: str, topic: str) -> dict[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-configs")
    try:
        got = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        # {resource type: {name: {key: {"value": …}}}}, non-default keys only
        return {key: entry["value"] for key, entry in got["topic"][topic].items()}
    finally:
        admin.close()


def _app(tmp_path: Path, bootstrap: str) -> tuple[Settings, str, object]:
    settings = Settings(topic_prefix=f"t{uuid.uuid4().hex[:6]}-")
    rules = load_rules(settings.config_dir / "rules.yaml")
    app_id = settings.topics.stream_app_id
    stream_app = create_app(
        settings, rules, bootstrap=bootstrap, app_id=app_id, datadir=str(tmp_path)
    )
    return settings, app_id, stream_app.app


def test_a_new_window_updates_topic_is_kept_by_size_not_age(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings, app_id, app = _app(tmp_path, kafka_bootstrap)
    created = prepare_topics(kafka_bootstrap, settings, app, app_id)
    topic = window_updates_topic_name(app_id)
    assert topic in created
    got = _config(kafka_bootstrap, topic)
    assert got["retention.ms"] == "-1"
    assert got["retention.bytes"] == WINDOW_UPDATES_CONFIG["retention.bytes"]


def test_an_existing_window_updates_topic_is_given_the_configuration(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings, app_id, app = _app(tmp_path, kafka_bootstrap)
    topic = window_updates_topic_name(app_id)
    create_missing_topics(kafka_bootstrap, [topic], settings.partitions)  # an older release
    assert "retention.ms" not in _config(kafka_bootstrap, topic)  # the broker's week
    prepare_topics(kafka_bootstrap, settings, app, app_id)
    # The broker answers "OK" once the change is in its metadata log; a describe may run
    # ahead of it being applied, so look again for a few seconds.
    deadline = time.monotonic() + 15
    while _config(kafka_bootstrap, topic).get("retention.ms") != "-1":
        assert time.monotonic() < deadline, _config(kafka_bootstrap, topic)
        time.sleep(0.2)
    assert (
        _config(kafka_bootstrap, topic)["retention.bytes"]
        == WINDOW_UPDATES_CONFIG["retention.bytes"]
    )
