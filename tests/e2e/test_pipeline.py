"""End to end through the real broker: the `marsad demo` path, with assertions.

A local RSS feed → `marsad ingest` → Kafka → `marsad stream` (Faust, real extractor) →
`marsad alerts` (slack-sdk) → a local Slack-compatible server. The sample feed holds two
reports above the default threshold, a tally-only summary and a two-death IED.
"""

from __future__ import annotations

import json

import pytest

from control.demo import run_demo

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    lines: list[str] = []
    return run_demo(kafka_bootstrap, partitions=4, timeout=180, echo=lines.append)


def test_every_expected_alert_reaches_slack(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo.missing == [], f"no alert for {demo.missing}; logs in {demo.log_dir}"


def test_alert_shows_toll_place_and_goes_to_a_routed_channel(demo) -> None:  # type: ignore[no-untyped-def]
    by_item = {
        item.slug: [p for p in demo.posts if str(item.expect["place_en"]) in json.dumps(p)]
        for item in demo.wanted
    }
    for item in demo.wanted:
        posts = by_item[item.slug]
        assert posts, item.slug
        post = posts[0]
        assert post["channel"].startswith("#marsad-")
        assert str(item.expect["killed"]) in post["text"]
        assert str(item.expect["place_en"]) in post["text"]
        assert post.get("blocks"), "Block Kit blocks are sent, not only text"


def test_deir_ez_zor_alert_is_routed_east(demo) -> None:  # type: ignore[no-untyped-def]
    east = [p for p in demo.posts if "Al-Mayadin" in p["text"]]
    assert east and all(p["channel"] == "#marsad-east" for p in east)


def test_tally_and_small_incident_raise_no_alert(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo.drained, "stream and notifier committed every message they were given"
    assert demo.stray == []
    texts = " ".join(p["text"] for p in demo.posts)
    assert "412" not in texts  # the tally's figure
    assert "Nawa" not in texts  # the two-death IED stays under the threshold
