"""`marsad demo`: the whole pipeline offline, end to end, in about a minute.

It serves the bundled sample feed (``articles.yaml``) on 127.0.0.1, starts or reuses the local
broker, runs ingest, stream and alerts as in production (separate processes), with the notifier
posting through slack-sdk to a local Slack-Web-API-compatible server, prints every message as
Slack received it, and exits 0 once every expected alert arrived (non-zero with a clear message
after ``--timeout``). Each run uses its own topic namespace, state directory and consumer
groups, so runs never see each other's messages.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import click

from marsad.demo.feed import DemoItem, FeedServer, load_items, render_rss
from marsad.services import ServiceGroup, child_env
from marsad.settings import get_settings

log = logging.getLogger("marsad.demo")


def expected_alerts(items: list[DemoItem]) -> list[DemoItem]:
    return [i for i in items if i.expect.get("alert")]


def matches(item: DemoItem, post: dict[str, Any]) -> bool:
    """Does a Slack ``chat.postMessage`` body report this item (its toll and its place)?"""
    text = json.dumps(post, ensure_ascii=False)
    return str(item.expect["killed"]) in text and str(item.expect["place_en"]) in text


def write_feeds_file(path: Path, feed_url: str) -> None:
    path.write_text(
        "allowed_private_hosts: [127.0.0.1]\n"
        "feeds:\n"
        f"  - name: Marsad demo\n    url: {feed_url}\n    language: ar\n    interval: 1\n",
        encoding="utf-8",
    )


@click.command("demo")
@click.option("--timeout", default=180.0, show_default=True, help="seconds to wait for alerts")
def demo_cmd(timeout: float) -> None:
    """Offline end-to-end showcase: sample feed -> Kafka -> Faust -> local Slack server."""
    from alerts.slack_stub import SlackStub
    from marsad.kafka.broker import ensure_local_broker
    from marsad.topics import ensure_topics

    settings = get_settings()
    items = load_items()
    wanted = expected_alerts(items)
    nonce = uuid.uuid4().hex[:8]
    prefix = f"demo-{nonce}."

    bootstrap = ensure_local_broker(settings)
    ensure_topics(bootstrap, settings.partitions, prefix=prefix)
    click.echo(f"demo: kafka {bootstrap}, topics {prefix}*")

    feed = FeedServer().start()
    feed.document = render_rss(items, feed.base_url, nonce)
    slack = SlackStub().start()
    work = Path(tempfile.mkdtemp(prefix="marsad-demo-"))
    feeds_file = work / "feeds.yaml"
    write_feeds_file(feeds_file, f"{feed.base_url}/feed.xml")

    env = child_env(
        MARSAD_KAFKA_BOOTSTRAP=bootstrap,
        MARSAD_TOPIC_PREFIX=prefix,
        MARSAD_HOME=str(work / "home"),
        SLACK_BOT_TOKEN="xoxb-marsad-demo",
        SLACK_API_URL=slack.api_url,
    )
    group = ServiceGroup(env, log_dir=work / "logs")
    group.add("ingest", "--feeds", str(feeds_file))
    group.add("stream")
    group.add("alerts")
    group.start()
    click.echo(f"demo: serving {len(items)} articles at {feed.base_url}/feed.xml; "
               f"expecting {len(wanted)} alerts (logs in {work / 'logs'})")

    seen: set[str] = set()
    printed = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(seen) < len(wanted):
            posts = slack.posts()
            for post in posts[printed:]:
                click.echo("── Slack received " + "─" * 50)
                click.echo(f"channel: {post.get('channel')}")
                click.echo(str(post.get("text", "")))
            printed = len(posts)
            for item in wanted:
                if item.slug not in seen and any(matches(item, p) for p in posts):
                    seen.add(item.slug)
            group.check()
            time.sleep(0.5)
        drained = len(seen) == len(wanted) and wait_drained(
            bootstrap, prefix, deadline - time.monotonic()
        )
        posts = slack.posts()
    finally:
        group.stop()
        slack.stop()
        feed.stop()
    missing = [i.slug for i in wanted if i.slug not in seen]
    if missing:
        raise click.ClickException(
            f"demo: after {timeout:.0f}s no alert arrived for {', '.join(missing)}; "
            f"see the service logs in {work / 'logs'}"
        )
    if not drained:
        raise click.ClickException("demo: the pipeline did not finish the remaining articles")
    stray = [p for p in posts if not any(matches(i, p) for i in wanted)]
    if stray:
        raise click.ClickException(f"demo: {len(stray)} unexpected alert(s), e.g. {stray[0]}")
    quiet = [i.slug for i in items if not i.expect.get("alert")]
    click.echo(
        f"demo: all {len(wanted)} expected alerts arrived; every article was processed and "
        f"{', '.join(quiet)} raised none."
    )


def wait_drained(bootstrap: str, prefix: str, timeout: float) -> bool:
    """Wait until the stream app and the notifier have committed everything they were given."""
    from stream.progress import GroupProbe

    checks = {
        f"{prefix}marsad-stream": [f"{prefix}articles", f"{prefix}incident-candidates"],
        f"{prefix}marsad-alerts": [f"{prefix}alerts"],
    }
    deadline = time.monotonic() + max(timeout, 5.0)
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            if all(sum(probe.lag(g, t).values()) == 0 for g, t in checks.items()):
                return True
            time.sleep(0.5)
    return False
