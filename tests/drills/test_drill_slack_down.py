"""Drill 5: Slack answers HTTP 500 for 60 s, then recovers.

Proves: the notifier neither drops nor skips an alert while Slack fails (the offset is not
committed, the record is retried with back-off), and once Slack is back every alert is
delivered, in partition order per channel, none twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.drills.harness import SERVICES, Pipeline, Trickle, audit, report_line

pytestmark = [pytest.mark.drill, pytest.mark.integration]

OUTAGE_S = 60.0
ALWAYS = 10**9


@pytest.mark.timeout(420)
def test_slack_500_for_60s_then_everything_delivered_once_in_order(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    with Pipeline(kafka_bootstrap, tmp_path / "run", "slack500") as p:
        # No story limit: alerts must still be arriving when the outage starts.
        with Trickle(p, stories=2, follow_ups=1, every=1.0):
            p.wait(lambda: p.slack_posts() >= 5, 120, "5 alerts posted before the outage")
            p.slack.fail_next_5xx(ALWAYS)
            down_at = time.monotonic()
            posts_at_outage = p.slack_posts()
            alerts_at_outage = p.count("alerts")
            # Alerts keep coming during the outage; hold it for its full 60 s.
            p.wait(lambda: p.count("alerts") > alerts_at_outage, 60, "alerts during outage")
            p.wait(lambda: time.monotonic() - down_at >= OUTAGE_S, OUTAGE_S + 5, "outage end")
            failed_calls = len([c for c in p.slack.calls if c.status == 500])
            assert failed_calls > 0, "the notifier did not try Slack during the outage"
            assert p.slack_posts() == posts_at_outage, "a post succeeded while Slack was down"
            p.slack.fail_next_5xx(0)
            up_at = time.monotonic()
        books = p.settle(300, alive=SERVICES)
        problems = audit(books)
        assert not problems, problems
        assert p.slack_posts() > posts_at_outage
        report_line(
            "slack-500-60s",
            started,
            {
                "outage_s": round(up_at - down_at, 1),
                "failed_calls": failed_calls,
                "alerts_waiting_at_recovery": p.count("alerts") - alerts_at_outage,
                "drained_after_recovery_s": round(time.monotonic() - up_at, 1),
                **books.figures,
            },
        )
