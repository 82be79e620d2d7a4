"""The alerts' buttons end to end: slack-sdk's real SocketModeClient and WebClient (as
``marsad alerts`` wires them) against the local Slack Web API server and the local Socket Mode
server; the mutes also through the real broker.

Each test posts alerts through the real dispatcher and bot sink, then pushes the payloads a
user's clicks would produce — built from the message as it was posted — and checks the
acknowledgement the client sent, what was stored and what Slack was asked to show.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import Dispatcher
from alerts.interactive import ids
from alerts.interactive.actions import ActionStore
from alerts.interactive.gate import DeskGate
from alerts.interactive.service import Interactivity
from alerts.notifier import Stats
from alerts.service import build_dispatcher, build_interactivity, run_notifier
from marsad.records import Alert
from marsad.settings import Settings
from marsad.topics import Topics
from tests.support import alert_samples as samples
from tests.support.kafka_helpers import wait_until
from tests.support.notifier_harness import fresh_group, produce_alerts
from tests.support.slack_server import (
    APP_TOKEN,
    DEFAULT_TOKEN,
    SlackServer,
    SocketModeStub,
    block_actions,
    slash_command,
    view_submission,
)

pytestmark = pytest.mark.integration

ROUTES = """
default_channel: "#marsad-alerts"
routes:
  - {match: {severities: [critical]}, channel: "#marsad-critical"}
"""
CHANNEL = "#marsad-critical"
DESK = "U0DESK1"


@dataclass
class Desk:
    slack: SlackServer
    socket: SocketModeStub
    dispatcher: Dispatcher
    gate: DeskGate
    interactivity: Interactivity

    @property
    def store(self) -> ActionStore:
        return self.gate.store

    def deliver(self, alert_id: str = "alert-0001", **overrides: Any) -> Alert:
        """What the notifier does with one alert record (without the broker)."""
        alert = Alert.from_json(samples.alert(alert_id, **overrides))
        if not self.gate.hold(alert):
            self.dispatcher.deliver(alert)
        return alert

    def message(self, alert_id: str) -> dict[str, Any]:
        """The alert's message as Slack holds it now (the ledger says which one)."""
        entry = self.dispatcher.ledger.latest_delivered(alert_id)
        assert entry is not None and entry.channel is not None
        return next(m for m in self.slack.messages(entry.channel) if m["ts"] == entry.ts)

    def status(self, alert_id: str) -> str:
        """The desk's status line on the alert's message ("" when none)."""
        blocks = self.message(alert_id)["blocks"]
        desk = [b for b in blocks if b.get("block_id") == ids.DESK_BLOCK]
        return str(desk[0]["elements"][0]["text"]) if desk else ""

    def click(
        self,
        alert_id: str,
        action_id: str,
        *,
        channel: str = CHANNEL,
        message: dict[str, Any] | None = None,
        drop_after_send: bool = False,
        **kw: Any,
    ) -> str:
        """Push the click; the envelope id."""
        payload = block_actions(
            message or self.message(alert_id),
            action_id,
            channel_id=self.slack.channel_id(channel),
            channel_name=channel.lstrip("#"),
            **kw,
        )
        return self.socket.push("interactive", payload, drop_after_send=drop_after_send)

    def updates(self) -> int:
        return len(self.slack.calls_of("chat.update", ok_only=True))

    def told(self, user: str = DESK) -> list[str]:
        return [str(m["text"]) for m in self.slack.ephemerals(user)]


def _settings(home: Path, slack: SlackServer) -> Settings:
    return Settings.model_validate(
        {
            "home": home,
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "SLACK_WEBHOOK_URL": "",
        }
    )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with SlackServer(valid_tokens=(DEFAULT_TOKEN, APP_TOKEN)) as slack, SocketModeStub() as socket:
        slack.socket_mode = socket
        routes = tmp_path / "routing.yaml"
        routes.write_text(ROUTES, "utf-8")
        settings = _settings(tmp_path / "home", slack)
        dispatcher = build_dispatcher(settings, routes)
        built = build_interactivity(settings, dispatcher)
        assert built is not None
        interactivity, gate = built
        interactivity.ping_interval_s = 1.0  # a socket closed under the client: noticed in 1 s
        interactivity.start(interactivity.check())
        socket.wait_connections(1)
        try:
            yield Desk(slack, socket, dispatcher, gate, interactivity)
        finally:
            interactivity.close()
            gate.store.close()
            dispatcher.ledger.close()


def test_acknowledge_edits_the_message_in_place_and_the_first_one_stands(desk: Desk) -> None:
    desk.deliver()
    posted = desk.message("alert-0001")
    actions = [b for b in posted["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1 and "alert-0001" in actions[0]["block_id"]
    assert desk.status("alert-0001") == ""

    assert desk.socket.wait_ack(desk.click("alert-0001", ids.ACK)) is None
    wait_until(lambda: "Acknowledged by <@U0DESK1>" in desk.status("alert-0001"), 15)
    ack = desk.store.acknowledgement("alert-0001")
    assert ack is not None and ack.user == DESK
    edited = desk.message("alert-0001")
    assert edited["ts"] == posted["ts"] and "edited" in edited  # in place, not a new post
    assert len(desk.slack.posts()) == 1

    desk.socket.wait_ack(desk.click("alert-0001", ids.ACK, user="U0DESK2"))
    wait_until(lambda: desk.told("U0DESK2"), 15)
    assert "Already acknowledged by <@U0DESK1>" in desk.told("U0DESK2")[0]
    assert "<@U0DESK2>" not in desk.status("alert-0001")
    # A new revision keeps the status line: the notifier renders it from the store too.
    desk.deliver(revision=2, incident=samples.incident(killed=34, revision=2))
    assert "Acknowledged by <@U0DESK1>" in desk.status("alert-0001")


def test_wrong_toll_opens_a_modal_whose_submission_is_checked_stored_and_shown(
    desk: Desk,
) -> None:
    desk.deliver()
    desk.socket.wait_ack(desk.click("alert-0001", ids.WRONG_TOLL))
    wait_until(lambda: desk.slack.views, 15, "views.open was not called")
    view = next(iter(desk.slack.views.values()))
    assert view["callback_id"] == ids.CORRECTION_VIEW
    assert "30 عنصراً" not in str(view)  # ids only: no article text travels in the modal

    bad = desk.socket.push("interactive", view_submission(view, {"killed": "-3"}))
    answer = desk.socket.wait_ack(bad)
    assert answer is not None and answer["response_action"] == "errors"
    assert "killed" in answer["errors"]
    assert desk.store.alert_corrections("alert-0001") == []

    good = view_submission(view, {"killed": "25", "injured": None, "note": "agency figure"})
    assert desk.socket.wait_ack(desk.socket.push("interactive", good)) is None
    wait_until(lambda: "corrected the toll" in desk.status("alert-0001"), 15)
    [correction] = desk.store.alert_corrections("alert-0001")
    assert (correction.kind, correction.killed, correction.injured) == ("wrong_toll", 25, None)
    assert correction.incident_id == "inc-dy-0001" and correction.article_ids == ("art-1",)
    assert correction.user == DESK and correction.note == "agency figure"
    assert "killed 25, injured not reported" in desk.status("alert-0001")


def test_duplicate_needs_a_known_other_alert_and_not_an_incident_is_stored(desk: Desk) -> None:
    desk.deliver()
    desk.deliver("alert-0002", incident=samples.incident(id="inc-dy-0002"))
    desk.socket.wait_ack(desk.click("alert-0002", ids.DUPLICATE))
    wait_until(lambda: desk.slack.views, 15, "views.open was not called")
    view = next(iter(desk.slack.views.values()))
    for other in ("alert-9999", "alert-0002"):  # unknown; itself
        answer = desk.socket.wait_ack(
            desk.socket.push("interactive", view_submission(view, {"other": other}))
        )
        assert answer is not None and "other" in answer["errors"]
    desk.socket.wait_ack(
        desk.socket.push("interactive", view_submission(view, {"other": "alert-0001"}))
    )
    wait_until(lambda: "duplicates alert" in desk.status("alert-0002"), 15)
    [dup] = desk.store.alert_corrections("alert-0002")
    assert (dup.kind, dup.duplicate_of, dup.incident_id) == (
        "duplicate",
        "alert-0001",
        "inc-dy-0002",
    )

    desk.socket.wait_ack(desk.click("alert-0001", ids.NOT_INCIDENT))
    wait_until(lambda: len(desk.slack.views) == 2, 15, "second views.open was not called")
    view = desk.slack.views[max(desk.slack.views)]
    desk.socket.wait_ack(desk.socket.push("interactive", view_submission(view, {})))
    wait_until(lambda: "not an incident" in desk.status("alert-0001"), 15)
    assert [c.kind for c in desk.store.alert_corrections("alert-0001")] == ["not_incident"]


def test_refusals_outside_channels_foreign_forged_and_expired(desk: Desk) -> None:
    desk.deliver()
    desk.deliver("alert-0002", incident=samples.incident(id="inc-dy-0002"))
    first = desk.message("alert-0001")

    # A user in a channel Marsad does not post to: an ephemeral refusal there.
    desk.socket.wait_ack(desk.click("alert-0001", ids.ACK, channel="#random", message=first))
    wait_until(lambda: desk.told(), 15)
    assert "only in its alert channels" in desk.told()[-1]

    # Another workspace, another app: dropped (acknowledged, not answered, nothing stored).
    desk.socket.wait_ack(desk.click("alert-0001", ids.ACK, user="U0OTHER", team="T999"))
    desk.socket.wait_ack(desk.click("alert-0001", ids.ACK, user="U0OTHER", app="A999"))
    # alert-0001's button on alert-0002's message: a known id, but not this message's.
    forged_value = block_actions(
        first,
        ids.ACK,
        channel_id=desk.slack.channel_id(CHANNEL),
        channel_name="marsad-critical",
        user="U0FORGE",
    )
    forged_value["container"]["message_ts"] = desk.message("alert-0002")["ts"]
    desk.socket.wait_ack(desk.socket.push("interactive", forged_value))
    wait_until(lambda: desk.told("U0FORGE"), 15)
    assert "does not belong to this message" in desk.told("U0FORGE")[0]
    # A value Marsad never wrote: dropped after the acknowledgement.
    garbage = block_actions(
        first, ids.ACK, channel_id=desk.slack.channel_id(CHANNEL), channel_name="marsad-critical"
    )
    garbage["actions"][0]["value"] = "<!channel> ack everything"
    desk.socket.wait_ack(desk.socket.push("interactive", garbage))
    assert desk.store.acknowledgement("alert-0001") is None
    assert desk.told("U0OTHER") == [] and desk.updates() == 0

    # An alert Marsad has forgotten: a polite answer, nothing changed.
    desk.store.forget_before(datetime.now(UTC) + timedelta(minutes=1))
    desk.socket.wait_ack(desk.click("alert-0002", ids.ACK, user="U0LATE"))
    wait_until(lambda: desk.told("U0LATE"), 15)
    assert "no longer keeps this alert" in desk.told("U0LATE")[0]
    assert desk.store.acknowledgement("alert-0002") is None and desk.updates() == 0


def test_reconnect_in_the_middle_of_a_correction(desk: Desk) -> None:
    """The socket drops after the modal opened; the client opens a new connection
    (apps.connections.open again); the submission's envelope is dropped before its
    acknowledgement and sent again on the next connection; the correction is stored once."""
    desk.deliver()
    desk.socket.wait_ack(desk.click("alert-0001", ids.WRONG_TOLL))
    wait_until(lambda: desk.slack.views, 15, "views.open was not called")
    view = next(iter(desk.slack.views.values()))

    desk.socket.drop()
    desk.socket.wait_connections(2)
    submission = view_submission(view, {"killed": "27"})
    envelope = desk.socket.push("interactive", submission, drop_after_send=True)
    desk.socket.wait_connections(3)
    assert desk.socket.wait_ack(envelope) is None
    wait_until(lambda: "killed 27" in desk.status("alert-0001"), 15)
    assert len(desk.store.alert_corrections("alert-0001")) == 1
    assert len(desk.slack.calls_of("apps.connections.open", ok_only=True)) >= 3

    # Slack's periodic refresh: a disconnect message, a new connection, clicks still work.
    desk.socket.refresh()
    desk.socket.wait_connections(4)
    desk.socket.wait_ack(desk.click("alert-0001", ids.ACK))
    wait_until(lambda: "Acknowledged" in desk.status("alert-0001"), 15)
    assert desk.socket.refused == 0


def test_mute_through_the_broker_holds_back_matching_alerts_until_lifted(
    desk: Desk, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8]
    first, held, elsewhere, after = (f"mute-{run}-{n}" for n in ("a", "b", "c", "d"))
    hasakah = {**samples.incident()["location"], "admin1": "SY-HA", "name_en": "Al-Hasakah"}
    stop = threading.Event()
    stats: list[Stats] = []
    group = fresh_group(kafka_bootstrap)
    thread = threading.Thread(
        target=lambda: stats.append(
            run_notifier(
                desk.dispatcher,
                kafka_bootstrap,
                stop,
                topics=Topics(),
                group_id=group,
                gate=desk.gate,
            )
        ),
        daemon=True,
    )
    thread.start()
    try:
        produce_alerts(kafka_bootstrap, [samples.alert(first)])
        wait_until(lambda: desk.dispatcher.ledger.latest_delivered(first), 60, "not posted")
        menu = "governorate|SY-DY|24h"
        desk.socket.wait_ack(desk.click(first, ids.MUTE, option=menu))
        wait_until(lambda: "muted for Deir ez-Zor" in desk.status(first), 15)
        assert "/marsad mutes" in desk.told()[-1]

        produce_alerts(
            kafka_bootstrap,
            [
                samples.alert(held, incident=samples.incident(id=f"inc-{run}-b")),
                samples.alert(first, revision=2, incident=samples.incident(killed=45, revision=2)),
                samples.alert(
                    elsewhere, incident=samples.incident(id=f"inc-{run}-c", location=hasakah)
                ),
            ],
        )
        wait_until(lambda: desk.dispatcher.ledger.latest_delivered(elsewhere), 60, "not posted")
        wait_until(lambda: desk.store.alert(held), 30, "the muted alert was not seen")
        wait_until(lambda: desk.store.alert(first, 2), 30, "the muted revision was not seen")
        assert desk.dispatcher.ledger.latest_delivered(held) is None
        # A click redraws the message as delivered (revision 1): the held-back revision with
        # its new toll does not slip in unannounced.
        desk.socket.wait_ack(desk.click(first, ids.ACK))
        wait_until(lambda: "Acknowledged" in desk.status(first), 15)
        shown = str(desk.message(first)["blocks"])
        # (the held revision's toll, 45, must not show; the bare number could be in a time)
        assert "revision 1" in shown and "*Killed:* 30" in shown and "*Killed:* 45" not in shown
        posted = {
            m.get("metadata", {}).get("event_payload", {}).get("alert_id")
            for m in desk.slack.posts()
        }
        assert held not in posted and {first, elsewhere} <= posted
        now = datetime.now(UTC)
        assert desk.store.muted_count(now - timedelta(hours=1), now + timedelta(hours=1)) == 2

        # /marsad mutes lists it with a Lift button; lifting it lets the next alert through.
        channel_id = desk.slack.channel_id(CHANNEL)
        desk.socket.wait_ack(
            desk.socket.push(
                "slash_commands",
                slash_command("mutes", channel_id=channel_id, channel_name="marsad-critical"),
            )
        )
        wait_until(lambda: any("active mute" in t for t in desk.told()), 15)
        listing = desk.slack.ephemerals(DESK)[-1]
        assert "Deir ez-Zor" in str(listing["blocks"])
        lift = block_actions(
            listing,
            ids.LIFT,
            channel_id=channel_id,
            channel_name="marsad-critical",
            ephemeral=True,
        )
        desk.socket.wait_ack(desk.socket.push("interactive", lift))
        wait_until(lambda: any(t.startswith("Lifted") for t in desk.told()), 15)
        wait_until(lambda: "muted" not in desk.status(first), 15)
        assert desk.store.active_mutes(datetime.now(UTC)) == []

        produce_alerts(
            kafka_bootstrap, [samples.alert(after, incident=samples.incident(id=f"inc-{run}-d"))]
        )
        wait_until(lambda: desk.dispatcher.ledger.latest_delivered(after), 60, "not posted")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert stats and stats[0].outcomes["muted"] == 2 and stats[0].outcomes["posted"] == 3
