"""Polling benchmark: 1,000 feeds served by a local HTTP server, polled on one core.

The feed server runs in its own process (pinned to the other core when there is one) and
serves 1,000 RSS/Atom feeds, most of them unchanged (answered 304 thanks to ETag /
Last-Modified), while a few get a new item every ``--every`` seconds.  The poller runs here,
pinned to one core, with every feed's interval pinned very low so the loop is always busy:
what it sustains is its capacity.  Articles go to an in-memory publisher (``--kafka HOST:PORT``
publishes to a real broker instead) and state to a real sqlite file.

Figures: sustained polls/s, 304 ratio, CPU seconds per 1,000 polls, CPU utilisation, peak
RSS of the poller process; the last line is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.feeds_config import parse_config  # noqa: E402
from ingest.fetch import FetchLimits  # noqa: E402
from ingest.metrics import IngestMetrics  # noqa: E402
from ingest.poller import Poller  # noqa: E402
from ingest.publish import KafkaPublisher, MemoryPublisher, Publisher  # noqa: E402
from ingest.state import StateStore  # noqa: E402


def start_server(feeds: int, updating: int, every: float) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, "-m", "tests.support.feed_server", "--feeds", str(feeds),
           "--updating", str(updating), "--every", str(every)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"feed server did not start: {line!r}")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(proc.pid, {cpus[-1]})
    return proc, int(line.split()[1])


def count(metrics: IngestMetrics, outcome: str) -> float:
    return metrics.count("marsad_ingest_fetches_total", outcome=outcome)


async def run(args: argparse.Namespace, port: int, state_path: Path) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}/feeds"
    iv = args.interval
    feeds = [
        {"name": f"f{i:04d}", "url": f"{base}/f{i:04d}",
         "interval": iv, "min_interval": iv, "max_interval": iv}
        for i in range(args.feeds)
    ]  # fmt: skip
    config = parse_config({"allowed_private_hosts": ["127.0.0.1"], "feeds": feeds})
    publisher: Publisher = KafkaPublisher(args.kafka) if args.kafka else MemoryPublisher()
    metrics = IngestMetrics()
    state = StateStore(state_path)
    poller = Poller(
        config,
        publisher,
        state,
        metrics=metrics,
        limits=FetchLimits(per_host=args.per_host),
        concurrency=args.concurrency,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    # Warm-up: the first round fetches every feed in full (200s, 20 items each); wait until
    # every feed has been fetched once, then a little more, and measure the steady state.
    deadline = time.monotonic() + 300
    while count(metrics, "ok") < args.feeds and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(args.warmup)
    polls0 = sum(count(metrics, o) for o in ("ok", "not_modified"))
    nm0, new0 = (
        count(metrics, "not_modified"),
        metrics.count("marsad_ingest_items_total", kind="new"),
    )
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.sleep(args.duration)
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    polls1 = sum(count(metrics, o) for o in ("ok", "not_modified"))
    nm1, new1 = (
        count(metrics, "not_modified"),
        metrics.count("marsad_ingest_items_total", kind="new"),
    )
    errors = sum(
        count(metrics, o)
        for o in ("timeout", "network_error", "http_error", "parse_error", "blocked", "too_large")
    )
    stop.set()
    await task
    await poller.aclose()
    state.close()
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    polls = polls1 - polls0
    return {
        "feeds": args.feeds,
        "seconds": round(elapsed, 1),
        "polls": int(polls),
        "polls_per_s": round(polls / elapsed, 1),
        "not_modified_ratio": round((nm1 - nm0) / polls, 3) if polls else None,
        "new_articles": int(new1 - new0),
        "errors": int(errors),
        "cpu_seconds": round(cpu_s, 2),
        "cpu_utilisation": round(cpu_s / elapsed, 2),
        "cpu_ms_per_poll": round(1000 * cpu_s / polls, 3) if polls else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "concurrency": args.concurrency,
        "per_host": args.per_host,
        "publisher": "kafka" if args.kafka else "memory",
    }


async def latency(samples: int, kafka: str | None) -> dict[str, object]:
    """Item appears in a feed polled every second -> article confirmed by the publisher."""
    from tests.support.feed_server import FeedServer

    with FeedServer() as server:
        url = server.add_feed("live", items=3)
        feed = {"name": "live", "url": url, "interval": 1.0}
        config = parse_config({"allowed_private_hosts": ["127.0.0.1"], "feeds": [feed]})
        memory = MemoryPublisher()
        publisher: Publisher = KafkaPublisher(kafka) if kafka else memory
        published: list[float] = []
        inner = publisher.publish

        async def timed(articles: Any) -> None:
            await inner(articles)
            published.extend(time.perf_counter() for _ in articles)

        publisher.publish = timed  # type: ignore[method-assign]
        poller = Poller(config, publisher, StateStore(None))
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        while len(published) < 3:
            await asyncio.sleep(0.01)
        delays = []
        rng = random.Random(3)
        for _ in range(samples):
            await asyncio.sleep(rng.uniform(0.2, 1.2))  # items appear at random phases
            before = len(published)
            appeared = time.perf_counter()
            server.add_item("live")
            while len(published) == before:
                await asyncio.sleep(0.002)
            delays.append(published[before] - appeared)
        stop.set()
        await task
        await poller.aclose()
    delays.sort()
    return {
        "samples": samples,
        "p50_ms": round(1000 * statistics.median(delays)),
        "p95_ms": round(1000 * delays[int(0.95 * (len(delays) - 1))]),
        "max_ms": round(1000 * delays[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--updating", type=int, default=50, help="feeds that get new items")
    parser.add_argument("--every", type=float, default=0.1, help="s between new items")
    parser.add_argument("--interval", type=float, default=0.1, help="pinned poll interval")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32, help="polls in flight")
    parser.add_argument("--per-host", type=int, default=8, help="connections to the server")
    parser.add_argument("--kafka", default=None, help="bootstrap of a real broker (optional)")
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})  # the poller gets one core
    server, port = start_server(args.feeds, args.updating, args.every)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(run(args, port, Path(tmp) / "ingest-state.sqlite"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"ingest polling: {figures['feeds']} feeds, {figures['polls_per_s']} polls/s sustained "
        f"over {figures['seconds']} s on one core ({figures['not_modified_ratio']} answered 304, "
        f"{figures['new_articles']} new articles, {figures['errors']} errors)"
    )
    print(
        f"ingest polling: CPU {figures['cpu_seconds']} s ({figures['cpu_utilisation']} of a "
        f"core, {figures['cpu_ms_per_poll']} ms/poll), peak RSS {figures['peak_rss_mb']} MB"
    )
    lat = asyncio.run(latency(args.latency_samples, args.kafka))
    figures["latency_1s_interval"] = lat
    print(
        f"ingest latency (item appears -> article published, 1-s poll interval, "
        f"{lat['samples']} items): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
        f"max {lat['max_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
