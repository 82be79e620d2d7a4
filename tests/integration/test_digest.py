"""The daily digest through the real broker and slack-sdk against the local Slack server.

Incidents go to a fresh namespace's ``incidents`` topic with their own record times around the
digest's moment (an old one, revisions, a twin merged away, a revision written after the digest
time, a record that is not JSON); ``marsad alerts``' loop (:func:`alerts.service.run_notifier`)
posts the digest by itself because routing names a digest channel due a minute ago; a restart
does not post it again.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from alerts.delivery import SlackBotSink
from alerts.digest import schedule
from alerts.digest.layout import digest_blocks
from alerts.digest.scheduler import DigestScheduler, make_digest
from alerts.digest.source import KafkaIncidentSource, NoFeedback
from alerts.dispatch import Dispatcher
from alerts.ledger import Ledger
from alerts.notifier import Stats
from alerts.service import run_notifier
from marsad.records import StoredIncident
from marsad.topics import Topics, ensure_topics
from tests.support.digest_samples import DAMASCUS, incident, place
from tests.support.kafka_helpers import wait_until
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

CHANNEL = "#marsad-digest"
HOUR = timedelta(hours=1)


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, datetime]]) -> None:
    """Each value with its own record time (CreateTime), as the stream would have written it."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        for value, at in records:
            producer.send(topic, value=value, timestamp_ms=int(at.timestamp() * 1000))
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=30)


def records(at: datetime) -> list[tuple[bytes, datetime]]:
    def rec(inc: StoredIncident, written: datetime) -> tuple[bytes, datetime]:
        return inc.to_bytes(), written

    east = place("SY-DY", "Al-Mayadin", "الميادين")
    north = place("SY-HL", "Afrin", "عفرين")
    return [
        rec(incident("old", 100, at - timedelta(days=20), location=east), at - timedelta(days=20)),
        rec(incident("week", 3, at - timedelta(days=3), location=east), at - timedelta(days=3)),
        rec(incident("dy", 5, at - 3 * HOUR, location=east), at - 3 * HOUR),
        rec(incident("dy", 9, at - 3 * HOUR, location=east, revision=2), at - 2 * HOUR),
        rec(incident("twin", 6, at - 2 * HOUR, location=east), at - 2 * HOUR),
        rec(
            incident("twin", 6, at - 2 * HOUR, location=east, revision=2, merged_into="dy"),
            at - 90 * timedelta(minutes=1),
        ),
        rec(incident("hl", 4, at - HOUR, location=north, perpetrator="TURKEY"), at - HOUR),
        # written after the digest's moment: not what was known then
        rec(incident("hl", 40, at - HOUR, location=north, revision=2), at + HOUR),
        (b"not json", at - HOUR),
    ]


def texts(message: dict[str, Any]) -> str:
    out = []
    for block in message["blocks"]:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
    return "\n".join(out)


def test_marsad_alerts_posts_the_digest_from_the_topic_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = Topics(f"digest-{uuid.uuid4().hex[:8]}-")
    ensure_topics(kafka_bootstrap, 4, topics)
    # a channel whose digest time came at the start of this minute, in Damascus
    local = datetime.now(UTC).astimezone(DAMASCUS)
    channel = routing.DigestChannel(channel=CHANNEL, time=time(local.hour, local.minute))
    at = schedule.scheduled(channel, local.date())
    produce(kafka_bootstrap, topics.incidents, records(at))
    config = routing.RoutingConfig(
        default_channel="#marsad-alerts", digest=routing.DigestConfig(channels=[channel])
    )
    with SlackServer() as slack:
        ledger = Ledger(tmp_path / "alerts-ledger.sqlite")
        dispatcher = Dispatcher(ledger, SlackBotSink(DEFAULT_TOKEN, slack.api_url), config)
        stop = threading.Event()
        stats: list[Stats] = []
        thread = threading.Thread(
            target=lambda: stats.append(
                run_notifier(dispatcher, kafka_bootstrap, stop, topics=topics)
            ),
            daemon=True,
        )
        thread.start()
        try:
            (message,) = wait_until(
                lambda: slack.messages(CHANNEL), timeout=60, message="the digest in Slack"
            )
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive(), "marsad alerts' loop did not stop"
        assert stats, "the notifier returned"

        body = texts(message)
        # dy at its latest revision (9), hl as known at the digest time (4); no twin, no old
        assert "*2 incidents, 13 killed*" in body, body
        assert "Deir ez-Zor (SY-DY): 1 incident, 9 killed" in body
        assert "Turkish forces: 1 incident, 4 killed" in body
        assert "*1.* *9 killed*" in body and "*2.* *4 killed*" in body
        assert "3 incidents, 16 killed in the last 7 days" in body
        day = local.date().isoformat()
        payload = message["metadata"]["event_payload"]
        assert payload == {"alert_id": f"digest:{CHANNEL}:{day}", "revision": 1, "part": "digest"}
        (post,) = slack.calls_of("chat.postMessage", ok_only=True)
        assert json.loads(json.dumps(post.body["blocks"])) == message["blocks"]

        # a restart (a new ledger connection, a new sink) finds the day's digest out
        ledger.close()
        again = DigestScheduler(
            config.digest,
            SlackBotSink(DEFAULT_TOKEN, slack.api_url),
            Ledger(tmp_path / "alerts-ledger.sqlite"),
            KafkaIncidentSource(kafka_bootstrap, topics.incidents),
            NoFeedback(),
        )
        assert [o.outcome for o in again.run_due(at + timedelta(minutes=5))] == ["duplicate"]
        again.ledger.close()
        assert len(slack.messages(CHANNEL)) == 1


def test_a_topic_holding_less_than_two_weeks_makes_the_comparison_say_partial(
    kafka_bootstrap: str,
) -> None:
    """Retention deleted the oldest records (here: ``DeleteRecords``, as retention would):
    the digest says from when the topic holds incidents instead of a silent low figure."""
    from kafka import TopicPartition
    from kafka.admin import KafkaAdminClient

    from marsad.topics import create_missing_topics

    topic = f"digest-{uuid.uuid4().hex[:8]}-incidents"
    create_missing_topics(kafka_bootstrap, [topic], 1)
    at = datetime.now(UTC).replace(microsecond=0)
    held_from = at - timedelta(days=10)
    produce(
        kafka_bootstrap,
        topic,
        [
            (incident("gone", 50, at - timedelta(days=12)).to_bytes(), at - timedelta(days=12)),
            (incident("kept", 7, held_from).to_bytes(), held_from),
            (incident("today", 2, at - HOUR).to_bytes(), at - HOUR),
        ],
    )
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.delete_records({TopicPartition(topic, 0): 1}, timeout_ms=30_000)
    finally:
        admin.close()
    source = KafkaIncidentSource(kafka_bootstrap, topic)
    channel = routing.DigestChannel(channel=CHANNEL, tz="UTC")
    digest = make_digest(channel, at, source, NoFeedback())
    assert source.held_from == held_from
    assert digest.held_from == held_from
    assert (digest.day.incidents, digest.previous_week.incidents) == (1, 1)
    totals = texts({"blocks": digest_blocks(digest)})
    assert f"partial: incidents are held only from {held_from:%H:%M}" in totals
