"""Dispatcher + real slack-sdk against the local Slack server: once, updates, crash windows."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from alerts.blocks import SlackMessage
from alerts.delivery import (
    ConsoleSink,
    PermanentDeliveryError,
    Posted,
    SlackBotSink,
    TransientDeliveryError,
    WebhookSink,
    _matches,
)
from alerts.dispatch import Dispatcher, Outcome
from alerts.ledger import Destination, Ledger
from marsad.records import Alert
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

ROUTES = routing.parse(
    'default_channel: "#marsad-alerts"\n'
    "routes:\n"
    '  - {match: {governorates: [SY-HL]}, channel: "#north"}\n'
)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


class CrashAfterPost(SlackBotSink):
    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        super().post(channel, message, thread_ts)
        raise Crash


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


def bot(slack: SlackServer, token: str = DEFAULT_TOKEN, **kw: Any) -> SlackBotSink:
    return SlackBotSink(token, slack.api_url, **kw)


def alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def test_posts_once_and_skips_redelivery(slack: SlackServer, ledger: Ledger) -> None:
    d = Dispatcher(ledger, bot(slack), ROUTES)
    first = d.deliver(alert())
    again = d.deliver(alert())
    assert first.outcome is Outcome.POSTED and again.outcome is Outcome.DUPLICATE
    msgs = slack.messages("#marsad-alerts")
    assert len(msgs) == 1 and msgs[0]["ts"] == first.ts
    assert first.channel == slack.channel_id("#marsad-alerts")  # the id, for later edits
    post = slack.calls_of("chat.postMessage")[0]
    assert post.auth == f"Bearer {DEFAULT_TOKEN}"
    assert post.body["metadata"]["event_payload"]["alert_id"] == "alert-0001"
    assert post.body["blocks"][0]["type"] == "header"


def test_revision_edits_original_and_replies_in_thread(slack: SlackServer, ledger: Ledger) -> None:
    d = Dispatcher(ledger, bot(slack), ROUTES)
    root = d.deliver(alert())
    later = alert(
        revision=2,
        incident=samples.incident(killed=64, sources=["SOHR", "Enab Baladi", "Deir Ezzor 24"]),
    )
    result = d.deliver(later)
    assert result.outcome is Outcome.UPDATED and result.ts == root.ts
    assert len(slack.calls_of("chat.update", ok_only=True)) == 1
    top = slack.messages("#marsad-alerts")
    replies = slack.messages("#marsad-alerts", replies=True)
    assert len(top) == 1 and "r2]" in top[0]["text"] and "edited" in top[0]
    assert len(replies) == 1 and replies[0]["thread_ts"] == root.ts
    assert "toll 30 → 64, 2 new sources" in replies[0]["text"]
    assert d.deliver(later).outcome is Outcome.DUPLICATE
    assert d.deliver(alert()).outcome is Outcome.DUPLICATE
    assert len(slack.calls_of("chat.update")) == 1


def test_older_revision_after_newer_is_stale(slack: SlackServer, ledger: Ledger) -> None:
    d = Dispatcher(ledger, bot(slack), ROUTES)
    d.deliver(alert(revision=2))
    assert d.deliver(alert(revision=1)).outcome is Outcome.STALE
    assert len(slack.messages("#marsad-alerts")) == 1


def test_routing_picks_the_channel(slack: SlackServer, ledger: Ledger) -> None:
    north = samples.incident(location={"name_ar": "منبج", "name_en": "Manbij", "admin1": "SY-HL"})
    Dispatcher(ledger, bot(slack), ROUTES).deliver(alert(incident=north))
    assert len(slack.messages("#north")) == 1
    assert slack.messages("#marsad-alerts") == []


def test_crash_after_slack_accepted_post_is_recovered_not_reposted(
    slack: SlackServer, ledger: Ledger
) -> None:
    with pytest.raises(Crash):
        Dispatcher(ledger, CrashAfterPost(DEFAULT_TOKEN, slack.api_url), ROUTES).deliver(alert())
    assert ledger.get("alert-0001", 1).state == "pending"  # type: ignore[union-attr]
    result = Dispatcher(ledger, bot(slack), ROUTES).deliver(alert())
    assert result.outcome is Outcome.RECOVERED
    assert len(slack.messages("#marsad-alerts")) == 1
    assert result.ts == slack.messages("#marsad-alerts")[0]["ts"]
    assert result.channel == slack.channel_id("#marsad-alerts")
    history = slack.calls_of("conversations.history")[0]
    assert history.body["include_all_metadata"] in ("1", "true", True)
    # The recovered ts is the root of later revisions.
    updated = Dispatcher(ledger, bot(slack), ROUTES).deliver(alert(revision=2))
    assert updated.outcome is Outcome.UPDATED and updated.ts == result.ts


def test_crash_after_thread_reply_is_recovered(slack: SlackServer, ledger: Ledger) -> None:
    Dispatcher(ledger, bot(slack), ROUTES).deliver(alert())
    with pytest.raises(Crash):
        Dispatcher(ledger, CrashAfterPost(DEFAULT_TOKEN, slack.api_url), ROUTES).deliver(
            alert(revision=2)
        )
    result = Dispatcher(ledger, bot(slack), ROUTES).deliver(alert(revision=2))
    assert result.outcome is Outcome.RECOVERED
    assert len(slack.messages("#marsad-alerts", replies=True)) == 1
    assert len(slack.calls_of("conversations.replies")) == 1


def test_pending_that_never_reached_slack_is_posted(slack: SlackServer, ledger: Ledger) -> None:
    ledger.mark_pending("alert-0001", 1, "slack", "#marsad-alerts")
    result = Dispatcher(ledger, bot(slack), ROUTES).deliver(alert())
    assert result.outcome is Outcome.POSTED
    assert len(slack.messages("#marsad-alerts")) == 1


def test_channel_not_found_is_permanent_with_a_hint(slack: SlackServer, ledger: Ledger) -> None:
    slack.missing_channels.add("marsad-alerts")
    with pytest.raises(PermanentDeliveryError) as err:
        Dispatcher(ledger, bot(slack), ROUTES).deliver(alert())
    assert err.value.code == "channel_not_found"
    assert "routing.yaml" in str(err.value)


def test_invalid_token_is_permanent_and_named(slack: SlackServer) -> None:
    with pytest.raises(PermanentDeliveryError) as err:
        bot(slack, token="xoxb-revoked").check()
    assert err.value.code == "invalid_auth" and "SLACK_BOT_TOKEN" in str(err.value)
    assert "Slack bot marsad" in bot(slack).check()


def test_rate_limit_honours_retry_after(ledger: Ledger) -> None:
    with SlackServer(rate_limit_every=2, retry_after=1) as slack:
        sink = bot(slack)
        sink.check()  # call 1: ok
        started = time.monotonic()
        result = Dispatcher(ledger, sink, ROUTES).deliver(alert())  # call 2: 429, call 3: ok
        elapsed = time.monotonic() - started
    assert [c.status for c in slack.calls] == [200, 429, 200]
    assert result.outcome is Outcome.POSTED
    assert elapsed >= 1.0  # Retry-After: 1 was honoured
    assert len(slack.messages("#marsad-alerts")) == 1


def test_server_errors_are_retried_by_slack_sdk(slack: SlackServer, ledger: Ledger) -> None:
    sink = bot(slack)
    sink.check()  # start-up's auth.test (it also names the workspace the ledger keys by)
    slack.fail_next_5xx(2)
    result = Dispatcher(ledger, sink, ROUTES).deliver(alert())
    assert result.outcome is Outcome.POSTED
    assert [c.status for c in slack.calls] == [200, 500, 500, 200]


def test_persistent_server_errors_are_transient(slack: SlackServer, ledger: Ledger) -> None:
    sink = bot(slack, max_retries=1)
    sink.check()
    slack.fail_next_5xx(10)
    with pytest.raises(TransientDeliveryError, match="internal_error"):
        Dispatcher(ledger, sink, ROUTES).deliver(alert())
    assert ledger.get("alert-0001", 1).state == "pending"  # type: ignore[union-attr]


def test_unreachable_slack_is_transient(ledger: Ledger) -> None:
    with SlackServer() as gone:
        url = gone.api_url
    sink = SlackBotSink(DEFAULT_TOKEN, url, timeout=2, max_retries=0)
    with pytest.raises(TransientDeliveryError):
        Dispatcher(ledger, sink, ROUTES).deliver(alert())


def test_webhook_mode_posts_revisions_as_new_messages(slack: SlackServer, ledger: Ledger) -> None:
    d = Dispatcher(ledger, WebhookSink(slack.webhook_url), ROUTES)
    assert d.deliver(alert()).outcome is Outcome.POSTED
    assert d.deliver(alert(revision=2, changes=["toll 30 → 41"])).outcome is Outcome.POSTED
    assert d.deliver(alert(revision=2)).outcome is Outcome.DUPLICATE
    texts = [p["text"] for p in slack.webhook_posts]
    assert len(texts) == 3  # r1, r2, and r2's change note
    assert "toll 30 → 41" in texts[2]
    assert slack.calls == []  # no Web API call: the webhook needs no token


def test_console_mode_writes_jsonl_and_recovers(tmp_path: Path, ledger: Ledger) -> None:
    out = io.StringIO()
    jsonl = tmp_path / "alerts.jsonl"
    d = Dispatcher(ledger, ConsoleSink(jsonl, out), ROUTES)
    assert d.deliver(alert()).outcome is Outcome.POSTED
    lines = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["channel"] == "#marsad-alerts"
    assert lines[0]["metadata"]["event_payload"]["alert_id"] == "alert-0001"
    assert "CRITICAL" in out.getvalue() and "الميادين" in out.getvalue()
    # A crash after the line was written but before the ledger said so: found, not repeated.
    ledger.mark_pending("alert-0001", 1, "console", "#marsad-alerts")
    assert d.deliver(alert()).outcome is Outcome.RECOVERED
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 1


def test_marker_in_text_identifies_a_post_when_metadata_was_stripped() -> None:
    msg = {"ts": "1.0", "text": "[CRITICAL] x — killed 3 [alert a-1 r2]"}
    assert _matches(msg, "a-1", 2, "message")
    assert not _matches(msg, "a-1", 1, "message")
    assert not _matches(msg, "a-1", 2, "reply")
    reply = {"ts": "2.0", "thread_ts": "1.0", "text": "Updated [alert a-1 r2]"}
    assert _matches(reply, "a-1", 2, "reply")


def test_deleted_original_gets_a_fresh_post(slack: SlackServer, ledger: Ledger) -> None:
    d = Dispatcher(ledger, bot(slack), ROUTES)
    d.deliver(alert())
    slack._messages[slack.channel_id("#marsad-alerts")].clear()  # deleted by someone
    result = d.deliver(alert(revision=2))
    assert result.outcome is Outcome.POSTED
    assert [m["text"].endswith("r2]") for m in slack.messages("#marsad-alerts")] == [True]


def test_lookup_refused_falls_back_to_posting(slack: SlackServer, ledger: Ledger) -> None:
    """Missing history scope must not park the alert: posting again beats losing it."""
    # The interrupted attempt was for this destination, but must be looked up in a channel
    # the bot cannot read (as a revision's pending row names its root's channel).
    where = Destination("slack:T000", "#marsad-alerts")
    ledger.mark_pending("alert-0001", 1, "slack", "C0NOHIST1", destination=where)
    slack.missing_channels.add("C0NOHIST1")
    routes = routing.parse('default_channel: "#marsad-alerts"')
    result = Dispatcher(ledger, bot(slack), routes).deliver(alert())
    assert result.outcome is Outcome.POSTED
    assert len(slack.messages("#marsad-alerts")) == 1
    assert slack.calls_of("conversations.history")  # it did try to look, and was refused
