"""Payloads → interactions, and the checks every interaction passes (no Slack, no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alerts import blocks
from alerts.interactive import guard, ids, payloads, views
from alerts.interactive.actions import CorrectionKind
from alerts.interactive.guard import Refusal
from marsad.records import Alert
from tests.support import alert_samples as samples
from tests.support.slack_server import block_actions, slash_command, view_submission

MESSAGE = {
    "ts": "1710482400.000100",
    **blocks.render(Alert.from_json(samples.alert()), blocks.Desk()).as_payload(),
}


def _click(action_id: str, **kw: Any) -> dict[str, Any]:
    return block_actions(MESSAGE, action_id, channel_id="C1", channel_name="marsad-alerts", **kw)


def test_a_button_click_names_its_alert_message_and_user() -> None:
    click = payloads.parse("interactive", _click(ids.ACK))
    assert isinstance(click, payloads.Click)
    assert click.ref == ids.AlertRef("alert-0001", 1)
    assert click.message_ts == "1710482400.000100"
    assert click.origin == payloads.Origin("T000", "A000APP", "U0DESK1", "C1", "marsad-alerts")


def test_a_mute_choice_is_read_from_the_menu_and_its_block() -> None:
    click = payloads.parse("interactive", _click(ids.MUTE, option="actor|ISIS|7d"))
    assert isinstance(click, payloads.Click)
    assert click.ref == ids.AlertRef("alert-0001", 1)
    assert click.choice == ids.MuteChoice("actor", "ISIS", "7d")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["actions"][0].update(value="<!channel>"),
        lambda p: p["actions"][0].update(value=json.dumps({"a": "x", "r": 0})),
        lambda p: p["actions"][0].update(value=json.dumps({"a": "x", "r": 1, "text": "t"})),
        lambda p: p["actions"][0].update(action_id="marsad_delete_everything"),
        lambda p: p.update(actions=[]),
        lambda p: p.pop("user"),
    ],
)
def test_values_marsad_did_not_write_are_bad_payloads(tamper: Any) -> None:
    payload = _click(ids.ACK)
    tamper(payload)
    with pytest.raises(payloads.BadPayload):
        payloads.parse("interactive", payload)


def test_a_mute_choice_outside_the_menus_shape_is_refused() -> None:
    for value in ("actor|ISIS|1y", "place|x|6h", "actor||6h", "actor|ISIS"):
        payload = _click(ids.MUTE, option="actor|ISIS|7d")
        payload["actions"][0]["selected_option"]["value"] = value
        with pytest.raises(payloads.BadPayload):
            payloads.parse("interactive", payload)


def test_a_submission_carries_the_modals_ids_and_values() -> None:
    view = views.correction_modal(
        "wrong_toll", Alert.from_json(samples.alert()), "C1", "1710482400.000100"
    )
    sub = payloads.parse("interactive", view_submission(view, {"killed": " 25 ", "note": "x"}))
    assert isinstance(sub, payloads.Submission)
    assert (sub.kind, sub.ref, sub.message_ts) == (
        "wrong_toll",
        ids.AlertRef("alert-0001", 1),
        "1710482400.000100",
    )
    assert (sub.killed, sub.injured, sub.note, sub.origin.channel_id) == ("25", None, "x", "C1")
    other = {**view, "callback_id": "someone_elses_modal"}
    with pytest.raises(payloads.BadPayload):
        payloads.parse("interactive", view_submission(other, {}))


def test_a_slash_command() -> None:
    cmd = payloads.parse(
        "slash_commands", slash_command(" mutes ", channel_id="C1", channel_name="x")
    )
    assert isinstance(cmd, payloads.Command)
    assert (cmd.command, cmd.text, cmd.origin.user) == ("/marsad", "mutes", "U0DESK1")
    with pytest.raises(payloads.BadPayload):
        payloads.parse("events_api", {"type": "event_callback"})


def _sub(kind: CorrectionKind, **values: str | None) -> payloads.Submission:
    origin = payloads.Origin("T", "A", "U", "C", "")
    ref = ids.AlertRef("alert-1", 1)
    return payloads.Submission(
        origin,
        "V1",
        kind,
        ref,
        "1.0",
        values.get("killed"),
        values.get("injured"),
        values.get("other"),
        "",
    )


def test_submitted_figures_are_checked() -> None:
    assert views.check_submission(_sub("wrong_toll", killed="25")).killed == 25
    both = views.check_submission(_sub("wrong_toll", killed="0", injured="3"))
    assert (both.killed, both.injured, both.errors) == (0, 3, None)
    assert views.check_submission(_sub("wrong_toll")).errors == {
        "killed": "Give at least one figure."
    }
    for bad in ("-1", "2.5", "many", "9999999"):
        errors = views.check_submission(_sub("wrong_toll", injured=bad)).errors
        assert errors is not None and "injured" in errors
    assert views.check_submission(_sub("duplicate", other="alert-2"), known=True).other == "alert-2"
    assert views.check_submission(_sub("duplicate", other="alert-2"), known=False).errors
    assert views.check_submission(_sub("duplicate", other="alert-1"), known=True).errors
    assert views.check_submission(_sub("not_incident")).errors is None


def test_origin_channel_and_alert_checks() -> None:
    me = guard.Identity("T000", "A000APP")
    ok = payloads.Origin("T000", "A000APP", "U1", "C1", "marsad-alerts")
    assert guard.origin(ok, me) is None
    assert guard.origin(payloads.Origin("T999", "A000APP", "U1", "C1", ""), me) is Refusal.FOREIGN
    assert guard.origin(payloads.Origin("T000", "A999", "U1", "C1", ""), me) is Refusal.FOREIGN
    assert (
        guard.origin(payloads.Origin("T000", "A999", "U1", "C1", ""), guard.Identity("T000"))
        is None
    )

    channels = guard.Channels.of(["#marsad-alerts", "C0REVIEW1"])
    assert channels.allows("C9", "marsad-alerts") and channels.allows("C0REVIEW1", "")
    assert not channels.allows("C9", "random") and not channels.allows("", "marsad-alerts")
    assert channels.allows("C7", "", also="C7")  # the alert's own channel (a modal has no name)

    here = ("C1", "1.0")
    assert guard.alert(channel_id="C1", message_ts="1.0", delivered=here, remembered=True) is None
    assert (
        guard.alert(channel_id="C1", message_ts="2.0", delivered=here, remembered=True)
        is Refusal.FORGED
    )
    assert (
        guard.alert(channel_id="C1", message_ts="1.0", delivered=None, remembered=False)
        is Refusal.UNKNOWN
    )
    assert (
        guard.alert(channel_id="C1", message_ts="1.0", delivered=None, remembered=True)
        is Refusal.EXPIRED
    )
    assert (
        guard.alert(channel_id="C1", message_ts="1.0", delivered=here, remembered=False)
        is Refusal.EXPIRED
    )
