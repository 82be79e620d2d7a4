"""The review channel's compact message, and the routes that ask for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from alerts import blocks, compact, routing
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher
from alerts.ledger import Ledger
from alerts.mrkdwn import slack_len
from marsad.records import Alert
from marsad.settings import PROJECT_ROOT
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

ROUTES = """
default_channel: "#marsad-alerts"
routes:
  - match: {rules: [deadly-incident-review]}
    channel: "#marsad-review"
    style: compact
"""


def review(**incident: Any) -> Alert:
    fields = {"confidence": 0.41, "confidence_signals": ["no_toll", "competing_figures"]}
    inc = samples.incident(**{**fields, **incident})
    return Alert.from_json(samples.alert(rule="deadly-incident-review", incident=inc))


def test_one_section_with_toll_place_date_confidence_why_and_link() -> None:
    msg = compact.render(review())
    (section,) = msg.blocks
    text = section["text"]["text"]
    assert text.startswith(":mag: *For review* · *30 killed*, 12 injured · Al-Mayadin, Deir ez-Zor")
    assert "· 2024-03-14 ·" in text
    assert "confidence 0.41, under the bar for the main channels" in text
    assert "(signals: no death figure, another source's figure set aside)" in text
    assert "<https://www.syriahr.com/en/000001/|syriahr.com/en/000001>" in text
    assert text.endswith("alert `alert-0001`")  # what "Duplicate of…" asks for


def test_fallback_and_metadata_are_the_full_alerts() -> None:
    """The notifier finds its posts after a crash by these, whatever the layout."""
    alert = review()
    full = blocks.render(alert)
    msg = compact.render(alert)
    assert (msg.text, msg.metadata) == (full.text, full.metadata)


def test_the_desks_buttons_follow_the_section() -> None:
    msg = compact.render(review(), blocks.Desk(lines=("Acknowledged by U1",)))
    assert [b["type"] for b in msg.blocks] == ["section", "context", "actions"]
    assert msg.blocks[2] == blocks.actions_block(review())


def test_untrusted_long_values_fit_and_are_escaped() -> None:
    nasty = "<!channel> & *bold* " * 200
    location = {"name_ar": nasty, "name_en": nasty, "admin1": "SY-DY"}
    alert = review(
        location=location,
        urls=["https://example.org/" + "x" * 5000, "javascript:alert(1)"],
        confidence_signals=[nasty] * 50,
    )
    alert = alert.model_copy(update={"id": "a" * 400})
    (section,) = compact.render(alert).blocks
    parsed = Block.parse(section)
    assert parsed is not None
    parsed.validate_json()
    assert slack_len(section["text"]["text"]) <= 3000
    assert "<!channel>" not in section["text"]["text"]
    assert "&lt;!channel&gt; &amp;" in section["text"]["text"]


def test_a_window_alert_on_a_compact_route_is_one_line_too() -> None:
    alert = Alert.from_json(samples.alert(incident=None, kind="window", summary_en="12 in a day"))
    (section,) = compact.render(alert).blocks
    assert section["text"]["text"] == ":mag: *For review* · 12 in a day · alert `alert-0001`"


def test_routes_say_their_style_and_the_shipped_review_route_is_compact() -> None:
    cfg = routing.parse(ROUTES)
    assert cfg.style_for(review()) == "compact"
    assert cfg.style_for(Alert.from_json(samples.alert())) == "full"
    shipped = routing.load(PROJECT_ROOT / "config" / "routing.yaml")
    assert shipped.style_for(review()) == "compact"
    assert shipped.channel_for(review()) == "#marsad-review"
    with pytest.raises(routing.RoutingError, match="style"):
        routing.parse(ROUTES.replace("style: compact", "style: tiny"))


def test_the_dispatcher_posts_and_edits_review_alerts_compact(tmp_path: Path) -> None:
    with SlackServer() as slack, Ledger(tmp_path / "ledger.sqlite") as ledger:
        sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url)
        dispatcher = Dispatcher(ledger, sink, routing.parse(ROUTES))
        dispatcher.deliver(review())
        dispatcher.deliver(Alert.from_json(samples.alert(alert_id="main")))
        (posted,) = slack.messages("#marsad-review")
        assert [b["type"] for b in posted["blocks"]] == ["section"]
        (main,) = slack.messages("#marsad-alerts")
        assert main["blocks"][0]["type"] == "header"  # the full layout elsewhere
        revised = review(killed=41).model_copy(update={"revision": 2})
        dispatcher.deliver(revised)
        (edited,) = slack.messages("#marsad-review")
        assert [b["type"] for b in edited["blocks"]] == ["section"]
        assert "*41 killed*" in edited["blocks"][0]["text"]["text"]
