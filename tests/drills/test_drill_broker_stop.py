"""Drill 1: the broker is stopped for 30 s (and restarted) while the pollers keep fetching.

Proves: an article the poller could not publish is not marked seen (it is fetched and sent
again after the outage), so none is lost; nothing reaches a topic or Slack twice; the stream
processor and the notifier ride out the outage without a restart.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ingest.canonical import article_id
from tests.drills.harness import Pipeline, audit, report_line, seen_keys
from tests.support.kafka_helpers import wait_until

pytestmark = [pytest.mark.drill, pytest.mark.integration]

OUTAGE_S = 30.0
FEEDS = ("front-north", "front-east", "front-south")


def requests(p: Pipeline) -> int:
    return sum(p.feeds.requests(f) for f in FEEDS)


@pytest.mark.timeout(420)
def test_broker_stopped_for_30s_loses_nothing(drill_broker: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    with Pipeline(drill_broker.bootstrap, tmp_path / "run", "stop30") as p:
        p.publish(20, follow_ups=0)
        p.settle(180, alive=("ingest", "stream", "alerts"))
        posts_before = p.slack_posts()

        drill_broker.stop(timeout=30)
        down_at = time.monotonic()
        during: list[str] = []
        fetched_after_news = 0
        # Feed updates keep coming while the broker is down; each time the poller has fetched
        # the feeds again, publish more — until the outage has lasted its 30 s.
        while time.monotonic() - down_at < OUTAGE_S:
            before = requests(p)
            reports = p.publish(3, follow_ups=2)
            during += [f"{p.feeds.base_url}/articles/{r.slug}" for r in reports]

            def fetched_or_over(before: int = before) -> bool:
                return requests(p) > before or time.monotonic() - down_at >= OUTAGE_S

            wait_until(fetched_or_over, timeout=OUTAGE_S + 30, message="the outage did not end")
            if requests(p) > before:
                fetched_after_news += 1
        p.check_alive()
        assert fetched_after_news, "the poller never fetched the new items during the outage"
        marked = seen_keys(p.home / "ingest-state.sqlite")
        wrongly_seen = [u for u in during if article_id(u) in marked]
        assert not wrongly_seen, f"marked seen while the broker was down: {wrongly_seen[:5]}"

        drill_broker.start(timeout=180)
        back_at = time.monotonic()
        books = p.settle(240, alive=("ingest", "stream", "alerts"))
        problems = audit(books)
        assert not problems, problems
        assert p.slack_posts() > posts_before, "no alert was posted after the outage"
        report_line(
            "broker-stopped-30s",
            started,
            {
                "outage_s": round(back_at - down_at, 1),
                "publish_errors_logged": p.service("ingest").log_text().count("publish_error"),
                "published_during_outage": len(during),
                "recovered_in_s": round(time.monotonic() - back_at, 1),
                **books.figures,
            },
        )
