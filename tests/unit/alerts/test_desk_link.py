"""An incident alert links to its page on the web desk when ``MARSAD_PUBLIC_URL`` is set.

Issue #15: "The Slack alert links to the incident page". The alerts room builds the URL from
the setting and the incident's id only (it never imports the desk), on the full layout and on
the review route's compact one, and the link never makes a message Slack would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from alerts import blocks, compact, routing, service
from alerts.delivery import SlackBotSink
from alerts.dispatch import Dispatcher
from alerts.ledger import Ledger
from alerts.mrkdwn import slack_len
from marsad.records import Alert
from marsad.settings import Settings
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

BASE = "https://desk.example.org"
PAGE = f"{BASE}/incidents/inc-dy-0001"
LINK = f"<{PAGE}|Open in the desk>"
#: the route of desk/web/app.py's incident page: ``/incidents/{incident_id}``
ROUTE = re.compile(r"^/incidents/(?P<incident_id>[^/]+)$")

ROUTES = """
default_channel: "#marsad-alerts"
routes:
  - match: {rules: [deadly-incident-review]}
    channel: "#marsad-review"
    style: compact
"""
ROUTING = routing.parse(ROUTES)


def incident_alert(**overrides: Any) -> Alert:
    return Alert.from_json(samples.alert(**overrides))


def window_alert() -> Alert:
    return Alert.from_json(samples.alert(incident=None, kind="window", summary_en="12 in a day"))


def review_alert(**incident: Any) -> Alert:
    inc = samples.incident(confidence=0.41, **incident)
    return Alert.from_json(samples.alert(rule="deadly-incident-review", incident=inc))


def texts(message: blocks.SlackMessage) -> list[str]:
    out = [message.text]
    for block in message.blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(text["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if "text" in e]
    return out


def assert_valid(message: blocks.SlackMessage) -> None:
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        if block["type"] == "section" and "text" in block:
            assert slack_len(block["text"]["text"]) <= blocks.SECTION_MAX


# -- the URL ----------------------------------------------------------------------------------


def test_the_url_is_the_base_the_incident_route_and_the_id() -> None:
    assert blocks.desk_url(BASE, "inc-dy-0001") == PAGE
    assert blocks.desk_url(BASE + "/", "inc-dy-0001") == PAGE
    assert blocks.desk_url(" https://example.org/desk/ ", "inc-1") == (
        "https://example.org/desk/incidents/inc-1"
    )


def test_the_id_is_one_path_segment_of_the_webs_route_whatever_it_holds() -> None:
    url = blocks.desk_url(BASE, "inc/../a b?c#d&e|f")
    assert url is not None
    path = url.removeprefix(BASE)
    assert "?" not in path and "#" not in path and " " not in path and "|" not in path
    assert ROUTE.match(path) is not None


@pytest.mark.parametrize("base", ["", "   ", "desk.example.org", "javascript:alert(1)", "ftp://x"])
def test_no_url_without_an_http_base(base: str) -> None:
    assert blocks.desk_url(base, "inc-1") is None
    assert blocks.desk_link(incident_alert(), base) is None


# -- the full layout --------------------------------------------------------------------------


def test_an_incident_alert_links_to_its_page() -> None:
    message = blocks.render(incident_alert(), public_url=BASE)
    assert_valid(message)
    (section,) = [b for b in message.blocks if LINK in b.get("text", {}).get("text", "")]
    assert section["type"] == "section"
    # after the facts and the evidence, before the id line
    kinds = [b["type"] for b in message.blocks]
    assert message.blocks.index(section) == kinds.index("context") - 1


def test_no_link_without_the_setting_or_for_a_window_alert() -> None:
    for message in (
        blocks.render(incident_alert()),
        blocks.render(window_alert(), public_url=BASE),
        compact.render(window_alert(), public_url=BASE),
    ):
        assert not any("Open in the desk" in t or BASE in t for t in texts(message))
    assert len(blocks.render(incident_alert(), public_url=BASE).blocks) == (
        len(blocks.render(incident_alert()).blocks) + 1
    )


def test_a_merged_twins_last_revision_links_to_its_own_page() -> None:
    """The desk's page of a merged incident says where the event went."""
    twin = incident_alert(revision=2, merged_into="alert-0002")
    assert any(LINK in t for t in texts(blocks.render(twin, public_url=BASE)))


def test_the_link_is_escaped_and_a_link_too_long_for_slack_is_left_out() -> None:
    link = blocks.desk_link(incident_alert(), "https://desk.example.org/?a=1&b=2")
    assert link == "<https://desk.example.org/?a=1&amp;b=2/incidents/inc-dy-0001|Open in the desk>"
    long_id = incident_alert(incident=samples.incident(id="x" * 2000))
    assert blocks.desk_link(long_id, BASE) is None
    message = blocks.render(long_id, public_url=BASE)
    assert_valid(message)
    assert not any("Open in the desk" in t for t in texts(message))


def test_the_desks_buttons_still_come_last() -> None:
    message = blocks.render(incident_alert(), blocks.Desk(lines=("Acknowledged",)), BASE)
    assert [b["type"] for b in message.blocks][-4:] == ["section", "context", "context", "actions"]
    assert_valid(message)


# -- the compact layout -----------------------------------------------------------------------


def test_a_review_alert_ends_with_the_link() -> None:
    (section,) = compact.render(review_alert(), public_url=BASE).blocks
    assert section["text"]["text"].endswith(f"alert `alert-0001` · {LINK}")


def test_the_link_stays_whole_when_the_review_line_is_cut() -> None:
    nasty = "<!channel> & *bold* " * 200
    alert = review_alert(
        location={"name_ar": nasty, "name_en": nasty, "admin1": "SY-DY"},
        confidence_signals=[nasty] * 50,
    ).model_copy(update={"id": "a" * 400})
    message = compact.render(alert, public_url=BASE)
    assert_valid(message)
    assert message.blocks[0]["text"]["text"].endswith(f" · {LINK}")


# -- wiring: the setting reaches the posted message -------------------------------------------


def test_the_notifier_built_from_settings_posts_the_link(tmp_path: Path) -> None:
    routes = tmp_path / "routing.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    with SlackServer() as slack:
        settings = Settings(home=tmp_path, public_url=BASE)
        sink = SlackBotSink(DEFAULT_TOKEN, slack.api_url)
        dispatcher = service.build_dispatcher(settings, routes, sink)
        try:
            dispatcher.deliver(incident_alert())
            dispatcher.deliver(review_alert().model_copy(update={"id": "alert-0002"}))
            # a revision's edit keeps the link
            dispatcher.deliver(incident_alert(revision=2))
        finally:
            dispatcher.ledger.close()
        (main,) = slack.messages("#marsad-alerts")
        (review,) = slack.messages("#marsad-review")
    assert any(LINK in b.get("text", {}).get("text", "") for b in main["blocks"])
    assert review["blocks"][0]["text"]["text"].endswith(LINK)


def test_a_dispatcher_without_the_setting_posts_no_link(tmp_path: Path) -> None:
    with SlackServer() as slack, Ledger(tmp_path / "ledger.sqlite") as ledger:
        dispatcher = Dispatcher(ledger, SlackBotSink(DEFAULT_TOKEN, slack.api_url), ROUTING)
        dispatcher.deliver(incident_alert())
        (posted,) = slack.messages("#marsad-alerts")
    assert "Open in the desk" not in str(posted["blocks"])
