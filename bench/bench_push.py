"""End-to-end latency with WebSub push beside 1-second polling, in one run of one service.

The whole service runs as in production (separate `marsad ingest|stream|alerts` processes)
on its own real Kafka broker, with the ingest's WebSub callback on
(``MARSAD_WEBSUB_LISTEN``).  Two feeds on a local site: ``poll`` announces no hub and is
polled every second (bench_latency.py's set-up), ``push`` announces the local hub
(tests/support/websub_hub.py) and, once subscribed, is polled only every 10 minutes.
Samples alternate between the two: an item is added to the poll feed's document (at a
random phase of the poll cycle), or added to the push feed's document and published at
the hub (which signs and delivers it to the callback).  Latency: from adding the item to
the local Slack server receiving ``chat.postMessage``.  Prints p50/p95/max of each and,
last, a JSON line (collected by bench/run_all.py).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_latency import TEMPLATE, TOKEN, towns, wait_for  # noqa: E402

from control.demo.feed import DemoItem, render_rss  # noqa: E402
from control.services import ServiceGroup, child_env  # noqa: E402
from control.slack_stub import SlackStub  # noqa: E402
from marsad.kafka.broker import LocalBroker  # noqa: E402
from marsad.topics import Topics, ensure_topics  # noqa: E402
from tests.support.kafka_helpers import free_ports  # noqa: E402
from tests.support.websub_hub import TopicSite, WebSubHub, with_hub  # noqa: E402

SAMPLES = 20  # per mode


def _figures(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "samples": len(ordered),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "max_s": round(ordered[-1], 3),
    }


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="marsad-bench-push-"))
    port, cport, callback_port = free_ports(3)
    broker = LocalBroker(work / "kafka", port=port, controller_port=cport)
    broker.start(timeout=120)
    site = TopicSite().start()
    hub = WebSubHub(default_lease=3600).start()
    slack = SlackStub(valid_tokens=[TOKEN]).start()
    group = None
    topic = site.url("/push.xml")
    docs: dict[str, list[DemoItem]] = {"poll": [], "push": []}

    def render(mode: str) -> bytes:
        body = render_rss(docs[mode], site.url(f"/{mode}"), f"bench-{mode}", datetime.now(UTC))
        return with_hub(body, hub.url, topic) if mode == "push" else body

    try:
        ensure_topics(broker.bootstrap, 4, Topics())
        site.documents["/poll.xml"] = render("poll")
        site.documents["/push.xml"] = render("push")
        feeds_file = work / "feeds.yaml"
        feeds_file.write_text(
            yaml.safe_dump(
                {
                    "allowed_private_hosts": ["127.0.0.1"],
                    "feeds": [
                        {
                            "name": "Bench poll",
                            "url": site.url("/poll.xml"),
                            "language": "ar",
                            "interval": 1,
                        },
                        {"name": "Bench push", "url": topic, "language": "ar", "interval": 1},
                    ],
                }
            ),
            encoding="utf-8",
        )
        env = child_env(
            MARSAD_KAFKA_BOOTSTRAP=broker.bootstrap,
            MARSAD_HOME=str(work / "home"),
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,
            MARSAD_LOG_LEVEL="WARNING",
            MARSAD_WEBSUB_LISTEN=f"127.0.0.1:{callback_port}",
            MARSAD_WEBSUB_POLL_INTERVAL="600",
        )
        group = ServiceGroup(env, log_dir=work / "logs")
        group.add("ingest", "--feeds", str(feeds_file))
        group.add("stream")
        group.add("alerts")
        group.start()
        hub.wait_for_subscription(topic, timeout=120)
        push_polls = site.gets.get("/push.xml", 0)

        latencies: dict[str, list[float]] = {"poll": [], "push": []}
        rng = random.Random(11)
        places = towns(2 * SAMPLES + 2)
        for i, (place_ar, place_en) in enumerate(places):
            mode = "poll" if i % 2 == 0 else "push"
            killed = 20 + i
            docs[mode].append(
                DemoItem(
                    slug=f"item-{i}",
                    source="Bench",
                    title=f"هجوم قرب {place_ar}",
                    text=TEMPLATE.format(killed=killed, place=place_ar),
                    expect={"alert": True, "killed": killed, "place_en": place_en},
                )
            )
            before = len(slack.posts())
            body = render(mode)
            added = time.monotonic()
            site.documents[f"/{mode}.xml"] = body
            if mode == "push":  # the publisher pings; the hub delivers (in its own thread)
                threading.Thread(target=hub.publish, args=(topic, body), daemon=True).start()
            if not wait_for(lambda b=before: len(slack.posts()) > b, 120 if i < 2 else 30):
                print(f"item {i} ({mode}, {place_en}): no alert in time", file=sys.stderr)
                return 1
            arrived = next(c.at for c in slack.calls_of("chat.postMessage", ok_only=True)[before:])
            if i >= 2:  # one warm-up item per mode (group joins, lexicon load)
                latencies[mode].append(arrived - added)
            time.sleep(rng.uniform(0.0, 1.0))  # random phase against the 1 s poll cycle
        push_polled = site.gets.get("/push.xml", 0) - push_polls
        rejected = [d for d in hub.deliveries if d.status != 200]
    finally:
        if group is not None:
            group.stop()
        slack.stop()
        hub.stop()
        site.stop()
        broker.stop()

    poll, push = _figures(latencies["poll"]), _figures(latencies["push"])
    print(f"feed item -> Slack post, {poll['samples']} samples each, one run:")
    print(f"  1 s poll     p50 {poll['p50_s']:.2f} s   p95 {poll['p95_s']:.2f} s"
          f"   max {poll['max_s']:.2f} s")  # fmt: skip
    print(f"  WebSub push  p50 {push['p50_s']:.2f} s   p95 {push['p95_s']:.2f} s"
          f"   max {push['max_s']:.2f} s")  # fmt: skip
    print(f"  push feed polled {push_polled} times meanwhile; {len(rejected)} deliveries not 200")
    print(json.dumps({"poll_1s": poll, "push": push, "push_feed_polls": push_polled}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
