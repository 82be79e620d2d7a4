"""End-to-end latency: from an item appearing in a local feed to the notifier's Slack call.

The whole service runs as in production (separate `marsad ingest|stream|alerts` processes)
on its own real Kafka broker, the feed is polled every second, and the notifier posts through
slack-sdk to the local Slack-compatible server. Each item is a report above the default
threshold at a different place (so each is a new incident and a new Slack post); after one
warm-up item, items are added one at a time at a random phase of the poll cycle, and the
latency is the time from adding the item to the server receiving ``chat.postMessage``.
Prints p50/p95/max and, last, a JSON line (collected by bench/run_all.py).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from control.demo import write_feeds_file  # noqa: E402
from control.demo.feed import DemoItem, FeedServer, render_rss  # noqa: E402
from control.services import ServiceGroup, child_env  # noqa: E402
from control.slack_stub import SlackStub  # noqa: E402
from marsad.kafka.broker import LocalBroker  # noqa: E402
from marsad.topics import Topics, ensure_topics  # noqa: E402
from tests.support.kafka_helpers import free_ports  # noqa: E402

SAMPLES = 20
TOKEN = "xoxb-bench"
TEMPLATE = (
    "قُتل {killed} عنصراً من قوات النظام وأصيب آخرون، جراء هجوم شنه عناصر من تنظيم "
    '"الدولة الإسلامية" صباح اليوم على مواقعهم قرب {place}، وفق ما أفاد به مراسلون محليون.'
)


def towns(count: int, min_apart_deg: float = 0.5) -> list[tuple[str, str]]:
    """Towns from the gazetteer (Arabic alias, English name), far enough apart that the
    merge rules (config/rules.yaml: nearby places on the same day are one incident) keep
    each report a new incident, hence a new Slack post."""
    data = yaml.safe_load((ROOT / "marsad/data/places.yaml").read_text("utf-8"))
    candidates: list[dict[str, Any]] = [p for p in data["places"] if p["kind"] in ("town", "city")]
    random.Random(7).shuffle(candidates)
    picked: list[dict[str, Any]] = []
    for p in candidates:
        if all(abs(p["lat"] - q["lat"]) + abs(p["lon"] - q["lon"]) > min_apart_deg for q in picked):
            picked.append(p)
    return [(str(p["aliases_ar"][0]), str(p["name_en"])) for p in picked[:count]]


def wait_for(pred, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return False


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="marsad-bench-latency-"))
    port, cport = free_ports(2)
    broker = LocalBroker(work / "kafka", port=port, controller_port=cport)
    broker.start(timeout=120)
    feed = FeedServer().start()
    slack = SlackStub(valid_tokens=[TOKEN]).start()
    group = None
    try:
        ensure_topics(broker.bootstrap, 4, Topics())
        feeds_file = work / "feeds.yaml"
        write_feeds_file(feeds_file, f"{feed.base_url}/feed.xml")
        items: list[DemoItem] = []
        feed.document = render_rss(items, feed.base_url, "bench")
        env = child_env(
            MARSAD_KAFKA_BOOTSTRAP=broker.bootstrap,
            MARSAD_HOME=str(work / "home"),
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,
            MARSAD_LOG_LEVEL="WARNING",
        )
        group = ServiceGroup(env, log_dir=work / "logs")
        group.add("ingest", "--feeds", str(feeds_file))
        group.add("stream")
        group.add("alerts")
        group.start()

        latencies: list[float] = []
        rng = random.Random(11)
        for i, (place_ar, place_en) in enumerate(towns(SAMPLES + 1)):
            killed = 20 + i
            items.append(
                DemoItem(
                    slug=f"item-{i}",
                    source="Bench",
                    title=f"هجوم قرب {place_ar}",
                    text=TEMPLATE.format(killed=killed, place=place_ar),
                    expect={"alert": True, "killed": killed, "place_en": place_en},
                )
            )
            before = len(slack.posts())
            added = time.monotonic()
            feed.document = render_rss(items, feed.base_url, "bench", datetime.now(UTC))
            if not wait_for(lambda b=before: len(slack.posts()) > b, 120 if i == 0 else 30):
                print(f"item {i} ({place_en}): no alert within the deadline", file=sys.stderr)
                return 1
            arrived = next(c.at for c in slack.calls_of("chat.postMessage", ok_only=True)[before:])
            if i > 0:  # item 0 warms up the pipeline (group joins, lexicon load)
                latencies.append(arrived - added)
            time.sleep(rng.uniform(0.0, 1.0))  # random phase against the 1 s poll cycle
    finally:
        if group is not None:
            group.stop()
        slack.stop()
        feed.stop()
        broker.stop()

    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"feed item -> Slack post, {len(latencies)} samples, 1 s poll interval:")
    print(f"  p50 {p50:.2f} s   p95 {p95:.2f} s   max {latencies[-1]:.2f} s")
    print(
        json.dumps(
            {
                "samples": len(latencies),
                "p50_s": round(p50, 3),
                "p95_s": round(p95, 3),
                "max_s": round(latencies[-1], 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
