"""Push delivery through the real broker: ``marsad ingest`` with its WebSub callback on, a
publisher's site announcing the local hub, and the item the hub delivers ending up on the
``articles`` topic — while a forged delivery and a replayed one add nothing."""

from __future__ import annotations

import json
import os
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

from marsad.topics import Topics
from tests.support.feed_server import make_item, render_rss
from tests.support.kafka_helpers import consume_all, free_port, free_ports, wait_until
from tests.support.websub_hub import TopicSite, WebSubHub, with_hub

ARTICLES = Topics().articles
MARSAD = [str(Path(sys.executable).with_name("marsad"))]

pytestmark = pytest.mark.integration


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def _metric(url: str, sample: str) -> float:
    for line in _get(url).splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def test_item_published_at_the_hub_reaches_the_articles_topic(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    with TopicSite() as site, WebSubHub() as hub:
        topic = site.url("/feed.xml")

        def document(count: int) -> bytes:
            items = [make_item(i) for i in range(count)][::-1]
            return with_hub(render_rss(tag, site.url(f"/{tag}"), items), hub.url, topic)

        site.documents["/feed.xml"] = document(1)
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            yaml.safe_dump(
                {
                    "allowed_private_hosts": ["127.0.0.1"],
                    "feeds": [{"name": f"{tag}-push", "url": topic, "interval": 0.5}],
                }
            ),
            encoding="utf-8",
        )
        callback_port, metrics_port = free_ports(2)
        cmd = [*MARSAD, "ingest", "--feeds", str(feeds), "--bootstrap", kafka_bootstrap,
               "--state", str(tmp_path / "state.sqlite"), "--metrics-port", str(metrics_port),
               "--websub-listen", f"127.0.0.1:{callback_port}"]  # fmt: skip
        env = {**os.environ, "MARSAD_HOME": str(tmp_path / "home"),
               "MARSAD_WEBSUB_POLL_INTERVAL": "600"}  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"

        def ours(values: list[Any]) -> list[Any]:
            return [a for a in values if a.get("source") == f"{tag}-push"]

        try:
            consume_all(kafka_bootstrap, ARTICLES, lambda v: len(ours(v)) >= 1, timeout=60)
            sub = hub.wait_for_subscription(topic, timeout=30)
            assert sub.callback.startswith(f"http://127.0.0.1:{callback_port}/")
            wait_until(lambda: _metric(metrics, "marsad_ingest_websub_live_feeds") == 1, timeout=10)
            polls = site.gets["/feed.xml"]

            pushed = document(2)
            site.documents["/feed.xml"] = pushed
            started = time.monotonic()
            assert hub.publish(topic, pushed) == [200]  # 200 only once the broker has it
            values = consume_all(kafka_bootstrap, ARTICLES, lambda v: len(ours(v)) >= 2, 30)
            took = time.monotonic() - started
            assert {a["title"] for a in ours(values)} == {make_item(i).title for i in (0, 1)}
            assert {a["feed_url"] for a in ours(values)} == {topic}

            assert hub.publish(topic, document(3), tamper=True) == [202]  # ignored
            assert hub.replay() == 202  # the forged one again
            assert hub.publish(topic, pushed) == [200]  # a replay of the good delivery
            deliveries = "marsad_ingest_websub_deliveries_total"
            assert _metric(metrics, f'{deliveries}{{outcome="bad_signature"}}') == 2
            assert _metric(metrics, f'{deliveries}{{outcome="duplicate"}}') == 1
            assert _metric(metrics, f'{deliveries}{{outcome="accepted"}}') == 1
            assert site.gets["/feed.xml"] == polls  # pushed, not polled (relaxed: 600 s)
            time.sleep(1.0)
            values = consume_all(kafka_bootstrap, ARTICLES, lambda v: len(ours(v)) >= 2, 30)
            assert len(ours(values)) == 2, json.dumps(ours(values), ensure_ascii=False)[:500]
            assert took < 10
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        assert "poller stopped" in err


def test_bad_listen_address_is_a_usage_error(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump({"feeds": [{"name": "x", "url": f"http://127.0.0.1:{free_port()}/"}]}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [*MARSAD, "ingest", "--feeds", str(feeds), "--websub-listen", "nowhere"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MARSAD_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 2, done.stderr
    assert "host:port" in done.stderr
