"""Drill 9: one of three brokers is SIGKILLed mid-stream; the pipeline keeps flowing.

The production shape on one machine: three KRaft brokers (replication factor 3,
``min.insync.replicas=2``, idempotent producers with ``acks=all``; Faust's own topics also
three copies). Proves: with one broker dead, articles keep arriving, incidents keep being
merged and alerts keep reaching Slack — nothing lost, nothing doubled — and the broker rejoins
from its data directory. The pause is how long no new Slack post arrived after the kill.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from marsad.kafka.cluster import LocalCluster
from marsad.settings import Settings
from tests.drills.harness import SERVICES, Pipeline, Trickle, audit, report_line
from tests.support.kafka_helpers import free_ports

pytestmark = [pytest.mark.drill, pytest.mark.integration]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    if os.environ.get("MARSAD_TEST_BOOTSTRAP", "").strip():
        pytest.skip("MARSAD_TEST_BOOTSTRAP is set: this drill needs brokers it may kill")
    ports = free_ports(6)
    local = LocalCluster(
        tmp_path / "cluster",
        3,
        heap="256m",
        cache_dir=Settings().cache_dir,
        ports=[(ports[i], ports[i + 1]) for i in range(0, 6, 2)],
    )
    local.start(timeout=240)
    try:
        yield local
    finally:
        local.stop(timeout=20)


@pytest.mark.timeout(900)
def test_one_of_three_brokers_dies_and_the_pipeline_keeps_flowing(
    cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARSAD_REPLICATION_FACTOR", "3")  # Faust's changelogs: three copies
    started = time.monotonic()
    # Supervised as in production: after a broker dies, a faust-streaming worker was seen to
    # keep fetching from it and stop progressing on every partition; it then stops itself
    # (--exit-on-stall) and is restarted, as compose's restart policy and `marsad up` do.
    with Pipeline(cluster.bootstrap, tmp_path / "run", "ckill", supervise_stream=True) as p:
        # No story limit: under load the first posts can take minutes, and a limit reached
        # before the kill would leave nothing new to post while node 2 is down.
        with Trickle(p, stories=1, follow_ups=1, every=1.0):
            p.wait(lambda: p.slack_posts() >= 5, 360, "5 alerts posted before the kill")
            posts_at_kill, articles_at_kill = p.slack_posts(), p.count("articles")
            assert cluster.kill_node(1), "node 2 was not running"
            killed_at = time.monotonic()
            # Still flowing with two brokers: a new alert reaches Slack while node 2 is dead.
            p.wait(lambda: p.slack_posts() > posts_at_kill, 180, "a post with one broker dead")
            pause = time.monotonic() - killed_at
            # And keeps flowing: new stories published while node 2 is dead reach Slack too
            # (counted at the Slack server: the test's own Kafka reads would wait for node 2).
            stories_at, posts_at = p.stories, p.slack_posts()
            p.wait(lambda: p.stories >= stories_at + 5, 60, "feed updates while one is down")
            p.wait(lambda: p.slack_posts() >= posts_at + 3, 300, "more posts while one is down")
            assert len(cluster.running()) == 2
            restarted_at = time.monotonic()
            cluster.start_node(1)  # rejoins from its data directory
        books = p.settle(300, alive=SERVICES)
    problems = audit(books)
    assert not problems, problems
    # The pause: the longest stretch without a Slack call (post or edit) while node 2 was dead.
    calls = sorted(
        c.at
        for method in ("chat.postMessage", "chat.update")
        for c in p.slack.calls_of(method, ok_only=True)
        if killed_at <= c.at <= restarted_at
    )
    marks = [killed_at, *calls, restarted_at]
    longest_pause = max(b - a for a, b in pairwise(marks))
    assert books.figures["articles"] > articles_at_kill, "nothing flowed after the kill"
    report_line(
        "cluster-broker-sigkilled",
        started,
        {
            "first_post_after_kill_s": round(pause, 1),
            "longest_pause_while_down_s": round(longest_pause, 1),
            "down_s": round(restarted_at - killed_at, 1),
            "stream_restarts": p.restarts["stream"],
            **books.figures,
        },
    )
