"""The desk's Block Kit: buttons on an alert message, its status line, the correction modal,
the list of mutes — valid for slack-sdk's models and within Slack's limits by construction."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block
from slack_sdk.models.views import View

from alerts import blocks
from alerts.interactive import ids, status, views
from alerts.interactive.actions import Ack, Correction, Mute
from alerts.mrkdwn import slack_len
from marsad.records import Alert
from tests.support import alert_samples as samples

T0 = datetime(2024, 3, 15, 6, 0, tzinfo=UTC)
NASTY = "&<>*_~`|\u200f\u2067\U0001f534<!channel>"


def _alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def _valid(block: dict[str, Any]) -> None:
    parsed = Block.parse(block)
    assert parsed is not None
    parsed.validate_json()
    assert parsed.to_dict() == block


def _actions(msg: blocks.SlackMessage) -> dict[str, Any]:
    (block,) = [b for b in msg.blocks if b["type"] == "actions"]
    return block


def _limits(actions: dict[str, Any]) -> None:
    assert len(actions["block_id"]) <= ids.BLOCK_ID_MAX
    assert len(actions["elements"]) <= 25
    for element in actions["elements"]:
        if element["type"] == "button":
            assert len(element["value"]) <= ids.BUTTON_VALUE_MAX
            assert slack_len(element["text"]["text"]) <= blocks.PLAIN_LABEL_MAX
        else:
            groups = element["option_groups"]
            assert sum(len(g["options"]) for g in groups) <= blocks.OPTIONS_MAX
            for group in groups:
                assert slack_len(group["label"]["text"]) <= blocks.PLAIN_LABEL_MAX
                for option in group["options"]:
                    assert len(option["value"]) <= ids.OPTION_VALUE_MAX
                    assert slack_len(option["text"]["text"]) <= blocks.PLAIN_LABEL_MAX


def test_no_desk_no_buttons_and_the_message_is_as_before() -> None:
    plain = blocks.render(_alert())
    assert all(b["type"] != "actions" for b in plain.blocks)
    with_desk = blocks.render(_alert(), blocks.Desk())
    assert with_desk.blocks[: len(plain.blocks)] == plain.blocks


def test_an_incident_alert_offers_every_button_carrying_only_ids() -> None:
    msg = blocks.render(_alert(), blocks.Desk())
    actions = _actions(msg)
    _valid(actions)
    _limits(actions)
    assert isinstance(Block.parse(actions), ActionsBlock)
    found = [e["action_id"] for e in actions["elements"]]
    assert found == [ids.ACK, ids.MUTE, ids.WRONG_TOLL, ids.NOT_INCIDENT, ids.DUPLICATE]
    ref = ids.AlertRef("alert-0001", 1)
    assert ids.AlertRef.from_block_id(actions["block_id"]) == ref
    assert all(ids.AlertRef.decode(e["value"]) == ref for e in actions["elements"] if "value" in e)
    menu = actions["elements"][1]
    values = [o["value"] for g in menu["option_groups"] for o in g["options"]]
    assert "governorate|SY-DY|6h" in values and "actor|IRAN_BACKED|7d" in values
    assert len(values) == (1 + 3) * 3  # Deir ez-Zor, ISIS and two targets × three durations
    assert samples.EVIDENCE_AR[:20] not in json.dumps(actions, ensure_ascii=False)


def test_a_window_alert_can_be_acknowledged_and_muted_but_not_corrected() -> None:
    window = _alert(
        rule="daily_deaths",
        kind="window",
        incident=None,
        window={"group_by": "admin1", "group": "SY-DY", "total": 40, "metric": "killed"},
    )
    actions = _actions(blocks.render(window, blocks.Desk()))
    _valid(actions)
    assert [e["action_id"] for e in actions["elements"]] == [ids.ACK, ids.MUTE]


def test_an_alert_id_too_long_for_a_block_id_gets_no_buttons() -> None:
    msg = blocks.render(_alert(alert_id="a" * 300), blocks.Desk(lines=("x",)))
    assert all(b["type"] != "actions" for b in msg.blocks)
    assert msg.blocks[-1]["block_id"] == ids.DESK_BLOCK


def test_random_hostile_alerts_keep_valid_limited_buttons() -> None:
    rng = random.Random(16)
    codes = ["ISIS", "SYRIAN_GOV", "IRAN_BACKED", "SDF", "CIVILIANS", "TURKEY", "UNKNOWN"]
    for _ in range(40):
        targets = rng.sample(codes, rng.randint(0, len(codes)))
        inc = samples.incident(targets=targets, evidence=NASTY * rng.randint(1, 50))
        alert = _alert(alert_id=NASTY * rng.randint(1, 8), rule=NASTY[:10], incident=inc)
        msg = blocks.render(alert, blocks.Desk(lines=(status.user(NASTY),)))
        for block in msg.blocks:
            _valid(block)
        actions = [b for b in msg.blocks if b["type"] == "actions"]
        for block in actions:
            _limits(block)


def test_status_lines_name_people_by_mention_and_escape_the_rest() -> None:
    mute = Mute(3, "incident_toll", "governorate", "SY-DY", T0 + timedelta(hours=6), "U1", T0)
    toll = Correction("a", "i", ("x",), "wrong_toll", 25, None, None, "U2ABC", T0, NASTY)
    desk = status.desk(Ack("a", "U0DESK1", T0), mute, [toll])
    text = "\n".join(desk.lines)
    assert "Acknowledged by <@U0DESK1> at 2024-03-15 06:00 UTC" in text
    assert "muted for Deir ez-Zor until 2024-03-15 12:00 UTC" in text
    assert "killed 25, injured not reported" in text and "<@U2ABC>" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert status.user("not a user <!here>") == "not a user &lt;!here&gt;"
    context = blocks.desk_blocks(_alert(), desk)[0]
    _valid(context)


def test_the_correction_modal_is_a_valid_view_with_ids_only() -> None:
    alert = _alert()
    for kind in ("wrong_toll", "not_incident", "duplicate"):
        view = views.correction_modal(kind, alert, "C00000001", "1710482400.000100")
        View(**view).validate_json()
        assert len(view["title"]["text"]) <= views.TITLE_MAX
        meta = json.loads(view["private_metadata"])
        assert meta == {
            "k": kind,
            "a": "alert-0001",
            "r": 1,
            "c": "C00000001",
            "t": "1710482400.000100",
        }
        assert samples.EVIDENCE_AR[:20] not in json.dumps(view, ensure_ascii=False)
    toll = views.correction_modal("wrong_toll", alert, "C1", "1.0")
    initial = [b["element"].get("initial_value") for b in toll["blocks"] if b["type"] == "input"]
    assert initial[:2] == ["30", "12"]  # the figures as read, to correct


def test_the_mutes_list_has_one_lift_button_per_mute() -> None:
    mutes = [
        Mute(n, "incident_toll", "actor", "ISIS", T0 + timedelta(hours=n), "U1", T0) for n in (1, 2)
    ]
    text, listing = views.mutes_message(mutes)
    assert text == "2 active mute(s)"
    for block in listing:
        _valid(block)
    assert [b["accessory"]["value"] for b in listing if "accessory" in b] == ["1", "2"]
    assert views.mutes_message([])[0] == "No mute is active."
