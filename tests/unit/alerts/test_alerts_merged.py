"""A twin's alert merged into another: its last revision edits the message, without a ping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts import blocks, routing
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher, Outcome
from alerts.ledger import Ledger
from marsad.records import Alert
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

ROUTES = routing.parse('default_channel: "#marsad-alerts"\nroutes: []\n')
INTO = "incident_toll:inc-dy-0002"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


def alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def merged(revision: int = 2) -> Alert:
    return alert(revision=revision, merged_into=INTO, changes=[f"merged into {INTO}"])


def test_merged_revision_renders_merged_into_the_surviving_alert() -> None:
    msg = blocks.render(merged())
    header = msg.blocks[0]["text"]["text"]
    assert header.endswith("(merged)") and "(updated)" not in header
    note = msg.blocks[1]
    assert note["type"] == "section"
    assert f"Merged into alert `{INTO}`" in note["text"]["text"]
    assert f"merged into alert {INTO}" in msg.text
    assert msg.text.endswith("[alert alert-0001 r2]")
    # the rest of the message is the twin's last state, as before
    assert msg.blocks[2:] == blocks.render(alert(revision=2)).blocks[1:]


def test_unmerged_alerts_render_as_before() -> None:
    msg = blocks.render(alert(revision=2))
    assert all("Merged into" not in str(b) for b in msg.blocks)
    assert "merged" not in msg.text


def test_merged_alert_id_is_escaped() -> None:
    text = blocks.merged_text("<!channel>:x")
    assert "<!" not in text and "&lt;!channel&gt;:x" in text


def test_merged_revision_edits_the_message_and_posts_no_thread_reply(
    slack: SlackServer, ledger: Ledger
) -> None:
    d = Dispatcher(ledger, SlackBotSink(DEFAULT_TOKEN, slack.api_url), ROUTES)
    root = d.deliver(alert())
    result = d.deliver(merged())
    assert result.outcome is Outcome.UPDATED and result.ts == root.ts
    assert len(slack.calls_of("chat.update", ok_only=True)) == 1
    assert len(slack.calls_of("chat.postMessage")) == 1  # the original only: no ping
    assert slack.messages("#marsad-alerts", replies=True) == []
    (top,) = slack.messages("#marsad-alerts")
    assert "merged into alert" in top["text"] and "r2]" in top["text"]
    entry = ledger.get("alert-0001", 2)
    assert entry is not None and entry.state == "delivered" and entry.ts == root.ts
    assert d.deliver(merged()).outcome is Outcome.DUPLICATE
    assert len(slack.calls_of("chat.update")) == 1


def test_an_ordinary_revision_still_replies_in_the_thread(
    slack: SlackServer, ledger: Ledger
) -> None:
    d = Dispatcher(ledger, SlackBotSink(DEFAULT_TOKEN, slack.api_url), ROUTES)
    d.deliver(alert())
    d.deliver(alert(revision=2, incident=samples.incident(killed=64)))
    assert len(slack.messages("#marsad-alerts", replies=True)) == 1
