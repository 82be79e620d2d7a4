"""Drill 2: the broker is SIGKILLed mid-stream and restarted from its data directory.

Proves: what the broker acknowledged survives an unclean broker death (acks=all, log
recovery on restart), and the services resume on their own — every article once, every
incident, every alert revision in Slack exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.drills.harness import SERVICES, Pipeline, Trickle, audit, report_line

pytestmark = [pytest.mark.drill, pytest.mark.integration]


@pytest.mark.timeout(360)
def test_broker_sigkilled_mid_stream_keeps_the_books(drill_broker: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    with Pipeline(drill_broker.bootstrap, tmp_path / "run", "bkill") as p:
        # No story limit: a limit reached before the kill (under load the first posts can take
        # a minute) would leave no feed update to fetch while the broker is dead.
        with Trickle(p, stories=2, follow_ups=1, every=0.4):
            # Mid-stream: articles are flowing and alerts are being posted.
            p.wait(lambda: p.slack_posts() >= 5, 120, "5 alerts posted before the kill")
            at_kill = {"articles": p.count("articles"), "slack_posts": p.slack_posts()}
            assert drill_broker.kill(), "the broker was not running"
            killed_at = time.monotonic()
            # The feed keeps moving while the broker is dead: wait for new items to be fetched.
            stories_at_kill = p.stories
            p.wait(lambda: p.stories >= stories_at_kill + 6, 60, "feed updates while down")
            drill_broker.start(timeout=180)
            restarted_in = time.monotonic() - killed_at
        books = p.settle(240, alive=SERVICES)
        problems = audit(books)
        assert not problems, problems
        assert books.figures["articles"] > at_kill["articles"], "nothing flowed after restart"
        report_line(
            "broker-sigkilled",
            started,
            {
                "killed_after_articles": at_kill["articles"],
                "killed_after_posts": at_kill["slack_posts"],
                "broker_down_s": round(restarted_in, 1),
                **books.figures,
            },
        )
