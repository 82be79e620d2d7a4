"""The pollers through the real local broker: what `marsad ingest --once` publishes, and
that a broker outage loses nothing (state advances only after the broker confirmed)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.feeds_config import parse_config
from ingest.poller import Poller
from ingest.publish import KafkaPublisher
from ingest.state import StateStore
from marsad.kafka import LocalBroker
from marsad.topics import Topics
from tests.support.feed_server import FeedServer
from tests.support.kafka_helpers import consume_all, free_port, wait_until

ARTICLES = Topics().articles

pytestmark = pytest.mark.integration

MARSAD = [str(Path(sys.executable).with_name("marsad"))]


@pytest.fixture
def feed_server() -> Any:
    with FeedServer() as server:
        yield server


def _ours(source_prefix: str) -> Any:
    return lambda v: [a for a in v if str(a.get("source", "")).startswith(source_prefix)]


def test_ingest_once_publishes_contract_articles(
    kafka_bootstrap: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump(
            {
                "allowed_private_hosts": ["127.0.0.1"],
                "feeds": [
                    {"name": f"{tag}-rss", "url": feed_server.add_feed("r", items=3)},
                    {"name": f"{tag}-atom", "url": feed_server.add_feed("a", kind="atom", items=2)},
                    {"name": f"{tag}-xxe", "url": feed_server.add_feed("x", fault="xxe")},
                ],
            }
        ),
        encoding="utf-8",
    )
    cmd = [*MARSAD, "ingest", "--once", "--feeds", str(feeds), "--bootstrap", kafka_bootstrap,
           "--state", str(tmp_path / "state.sqlite")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        [f"{tag}-rss", "ok", "new=3"],
        [f"{tag}-atom", "ok", "new=2"],
        [f"{tag}-xxe", "parse_error", "new=0"],
    ]

    mine = _ours(tag)
    values = consume_all(kafka_bootstrap, ARTICLES, lambda v: len(mine(v)) >= 5, timeout=60)
    articles = mine(values)
    assert len(articles) == 5
    for article in articles:
        assert article["schema"] == 1 and article["language"] == "ar"
        assert article["text"] and article["title"] and article["url"].startswith("http://127")
        assert article["feed_url"].startswith(feed_server.base_url)
        assert article["fetched_at"] and article["published_at"]

    keys = _keys(kafka_bootstrap, {a["id"] for a in articles})
    assert keys == {a["id"] for a in articles}

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert again.stdout.splitlines()[0].split("\t")[:3] == [f"{tag}-rss", "not_modified", "new=0"]


def test_service_runs_serves_health_and_stops_on_sigterm(
    kafka_bootstrap: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    url = feed_server.add_feed("live", items=1)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump(
            {
                "allowed_private_hosts": ["127.0.0.1"],
                "feeds": [{"name": f"{tag}-live", "url": url, "interval": 0.5}],
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    cmd = [*MARSAD, "ingest", "--feeds", str(feeds), "--bootstrap", kafka_bootstrap,
           "--state", str(tmp_path / "state.sqlite"), "--metrics-port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        mine = _ours(tag)
        consume_all(kafka_bootstrap, ARTICLES, lambda v: len(mine(v)) >= 1, timeout=60)
        item = feed_server.add_item("live")
        values = consume_all(kafka_bootstrap, ARTICLES, lambda v: len(mine(v)) >= 2, timeout=60)
        assert mine(values)[-1]["title"] == item.title
        health = wait_until(lambda: _get(f"http://127.0.0.1:{port}/healthz"), timeout=10)
        assert json.loads(health)["status"] == "ok"
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        wait_until(
            lambda: "marsad_ingest_articles_published_total 2.0" in _get(metrics_url),
            timeout=10,
            message="published counter never reached 2",
        )
        assert 'marsad_ingest_fetches_total{outcome="ok"}' in _get(metrics_url)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert "poller stopped" in err


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def _keys(bootstrap: str, wanted: set[str]) -> set[str]:
    """Message keys on the articles topic that are among ``wanted``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        parts = [TopicPartition(ARTICLES, p) for p in consumer.partitions_for_topic(ARTICLES)]
        consumer.assign(parts)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(parts)
        found: set[str] = set()
        for _ in range(100):
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    key = r.key.decode()
                    if key in wanted:
                        assert json.loads(r.value)["id"] == key
                        found.add(key)
            if all(consumer.position(p) >= end[p] for p in parts):
                break
        return found
    finally:
        consumer.close()


@pytest.mark.drill
def test_broker_outage_loses_nothing(
    kafka_broker: LocalBroker, kafka_bootstrap: str, feed_server: FeedServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    url = feed_server.add_feed("d", items=2)
    cfg = parse_config(
        {"allowed_private_hosts": ["127.0.0.1"], "feeds": [{"name": f"{tag}-d", "url": url}]}
    )
    state = StateStore(None)

    async def go() -> list[str]:
        publisher = KafkaPublisher(kafka_bootstrap, timeout_s=8)
        poller = Poller(cfg, publisher, state)
        outcomes = []
        try:
            kafka_broker.stop(timeout=30)
            feed_server.add_item("d")
            down = (await poller.run_once())[0]
            outcomes.append(down.outcome)
            assert state.seen_count() == 0 and state.feed(f"{tag}-d").etag is None  # type: ignore[union-attr]
            await asyncio.to_thread(kafka_broker.start, 180)
            deadline = time.monotonic() + 120
            while True:  # the producer reconnects on its own schedule: retry like the loop does
                up = (await poller.run_once())[0]
                if up.outcome == "ok" or time.monotonic() > deadline:
                    break
                assert up.outcome == "publish_error", up.detail
            outcomes.append(f"{up.outcome}:{up.new}")
        finally:
            await poller.aclose()
        return outcomes

    assert asyncio.run(go()) == ["publish_error", "ok:3"]
    mine = _ours(tag)
    values = consume_all(kafka_bootstrap, ARTICLES, lambda v: len(mine(v)) >= 3, timeout=60)
    titles = [a["title"] for a in mine(values)]
    assert len(titles) == len(set(titles)) == 3
