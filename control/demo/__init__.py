"""`marsad demo`: the whole pipeline offline, end to end, in under a minute.

It serves the bundled sample feed (``articles.yaml``) on 127.0.0.1, starts or reuses the local
broker, runs ingest, stream and alerts as in production (separate processes), with the notifier
posting through slack-sdk to a local Slack-Web-API-compatible server, prints every message as
Slack received it, and exits 0 once every expected alert arrived and every article was
processed with no other alert (non-zero with a clear message after ``--timeout``). Each run
uses its own topic namespace, state directory and consumer groups, so runs never see each
other's messages. The end-to-end test calls :func:`run_demo` against the test broker.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from control.demo.feed import DemoItem, FeedServer, load_items, render_rss
from control.services import ServiceGroup, child_env
from marsad.settings import get_settings

log = logging.getLogger(__name__)

DEMO_TOKEN = "xoxb-marsad-demo"


@dataclass
class DemoResult:
    items: list[DemoItem]
    posts: list[dict[str, Any]] = field(default_factory=list)
    arrived: set[str] = field(default_factory=set)
    drained: bool = False
    log_dir: Path | None = None

    @property
    def wanted(self) -> list[DemoItem]:
        return [i for i in self.items if i.expect.get("alert")]

    @property
    def missing(self) -> list[str]:
        return [i.slug for i in self.wanted if i.slug not in self.arrived]

    @property
    def stray(self) -> list[dict[str, Any]]:
        """Posts that report none of the items expected to alert."""
        return [p for p in self.posts if not any(matches(i, p) for i in self.wanted)]

    @property
    def ok(self) -> bool:
        return not self.missing and self.drained and not self.stray


def matches(item: DemoItem, post: dict[str, Any]) -> bool:
    """Does a Slack ``chat.postMessage`` body report this item (its toll and its place)?"""
    if not item.expect.get("alert"):
        return False
    text = json.dumps(post, ensure_ascii=False)
    return str(item.expect["killed"]) in text and str(item.expect["place_en"]) in text


def write_feeds_file(path: Path, feed_url: str) -> None:
    path.write_text(
        "allowed_private_hosts: [127.0.0.1]\n"
        "feeds:\n"
        f"  - name: Marsad demo\n    url: {feed_url}\n    language: ar\n    interval: 1\n",
        encoding="utf-8",
    )


def run_demo(
    bootstrap: str,
    partitions: int,
    timeout: float,
    echo: Callable[[str], None] = click.echo,
) -> DemoResult:
    """Run the sample feed through the three services on ``bootstrap``; report Slack's posts."""
    from control.slack_stub import SlackStub
    from marsad.topics import Topics, ensure_topics

    items = load_items()
    result = DemoResult(items)
    nonce = uuid.uuid4().hex[:8]
    prefix = f"demo-{nonce}."
    ensure_topics(bootstrap, partitions, Topics(prefix))

    work = Path(tempfile.mkdtemp(prefix="marsad-demo-"))
    result.log_dir = work / "logs"
    feed = FeedServer().start()
    feed.document = render_rss(items, feed.base_url, nonce)
    slack = SlackStub(valid_tokens=[DEMO_TOKEN]).start()
    feeds_file = work / "feeds.yaml"
    write_feeds_file(feeds_file, f"{feed.base_url}/feed.xml")
    env = child_env(
        MARSAD_KAFKA_BOOTSTRAP=bootstrap,
        MARSAD_TOPIC_PREFIX=prefix,
        MARSAD_HOME=str(work / "home"),
        MARSAD_PARTITIONS=str(partitions),
        SLACK_BOT_TOKEN=DEMO_TOKEN,
        SLACK_API_URL=slack.api_url,
    )
    group = ServiceGroup(env, log_dir=result.log_dir)
    group.add("ingest", "--feeds", str(feeds_file))
    group.add("stream")
    group.add("alerts")
    group.start()
    echo(
        f"demo: kafka {bootstrap}, topics {prefix}*; serving {len(items)} articles at "
        f"{feed.base_url}/feed.xml; expecting {len(result.wanted)} alerts "
        f"(service logs in {result.log_dir})"
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and result.missing:
            posts = slack.posts()
            for post in posts[len(result.posts) :]:
                echo("── Slack received " + "─" * 50)
                echo(f"channel: {post.get('channel')}")
                echo(str(post.get("text", "")))
            result.posts = posts
            result.arrived |= {i.slug for i in result.wanted if any(matches(i, p) for p in posts)}
            group.check()
            time.sleep(0.5)
        if not result.missing:
            result.drained = wait_drained(bootstrap, prefix, deadline - time.monotonic())
        result.posts = slack.posts()
    finally:
        group.stop()
        slack.stop()
        feed.stop()
    return result


def wait_drained(bootstrap: str, prefix: str, timeout: float) -> bool:
    """Wait until the stream app and the notifier have committed everything they were given."""
    from marsad.kafka.probes import GroupProbe
    from marsad.topics import Topics

    topics = Topics(prefix)
    checks = {
        topics.stream_app_id: [topics.articles, topics.candidates],
        topics.alerts_group: [topics.alerts],
    }
    deadline = time.monotonic() + max(timeout, 5.0)
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            if all(sum(probe.lag(g, t).values()) == 0 for g, t in checks.items()):
                return True
            time.sleep(0.5)
    return False


@click.command("demo")
@click.option("--timeout", default=180.0, show_default=True, help="seconds to wait for alerts")
def demo_cmd(timeout: float) -> None:
    """Offline end-to-end showcase: sample feed -> Kafka -> Faust -> local Slack server."""
    from marsad.kafka.broker import kafka_address

    settings = get_settings()
    bootstrap = kafka_address(settings)
    result = run_demo(bootstrap, settings.partitions, timeout)
    if result.missing:
        raise click.ClickException(
            f"demo: after {timeout:.0f}s no alert arrived for {', '.join(result.missing)}; "
            f"see the service logs in {result.log_dir}"
        )
    if not result.drained:
        raise click.ClickException(
            f"demo: the pipeline did not finish the remaining articles; see {result.log_dir}"
        )
    if result.stray:
        raise click.ClickException(
            f"demo: {len(result.stray)} unexpected alert(s), first: {result.stray[0].get('text')}"
        )
    quiet = [i.slug for i in result.items if not i.expect.get("alert")]
    click.echo(
        f"demo: all {len(result.wanted)} expected alerts arrived; every article was processed "
        f"and {', '.join(quiet)} raised none."
    )
