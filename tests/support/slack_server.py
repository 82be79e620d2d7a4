"""The local Slack-compatible server for tests: :class:`control.slack_stub.SlackStub`, strict.

The implementation ships in the package (``marsad demo`` uses it); tests use it with a fixed
set of valid tokens, so a wrong token gets ``invalid_auth`` as from real Slack.  See
``control/slack_stub.py`` for the methods served and the programmable faults.

For the buttons: :class:`SlackServer` can be given a Socket Mode server
(:class:`control.socket_mode_stub.SocketModeStub`), and the payload builders below write
``block_actions``, ``view_submission`` and ``slash_commands`` payloads as Slack shapes them,
from the message or modal a user would be looking at.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from control.slack_stub import Call, SlackStub
from control.socket_mode_stub import APP_ID, SocketModeStub

DEFAULT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-A000APP-test-token"
TEAM_ID = "T000"

__all__ = [
    "APP_ID",
    "APP_TOKEN",
    "DEFAULT_TOKEN",
    "TEAM_ID",
    "Call",
    "SlackServer",
    "SocketModeStub",
    "block_actions",
    "slash_command",
    "view_submission",
]


class SlackServer(SlackStub):
    def __init__(
        self,
        valid_tokens: Iterable[str] = (DEFAULT_TOKEN,),
        rate_limit_every: int = 0,
        retry_after: int = 0,
        missing_channels: Iterable[str] = (),
    ) -> None:
        super().__init__(valid_tokens, rate_limit_every, retry_after, missing_channels)


def _element(message: Mapping[str, Any], action_id: str) -> tuple[str, dict[str, Any]]:
    """The block id and element of ``action_id`` in a message's blocks (sections' accessories
    included)."""
    for block in message.get("blocks", []):
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), dict(element)
    raise AssertionError(f"no {action_id} in the message")


def block_actions(
    message: Mapping[str, Any],
    action_id: str,
    *,
    channel_id: str,
    channel_name: str,
    user: str = "U0DESK1",
    team: str = TEAM_ID,
    app: str = APP_ID,
    option: str | None = None,
    ephemeral: bool = False,
    element_index: int = 0,
) -> dict[str, Any]:
    """A click on ``action_id`` in ``message`` (a posted message, or an ephemeral one's
    blocks); ``option``: the chosen value of a select; ``element_index``: which of several
    elements with that action id (the Lift buttons of a list)."""
    if element_index:
        found = [
            (str(b.get("block_id", "")), dict(b["accessory"]))
            for b in message.get("blocks", [])
            if b.get("accessory", {}).get("action_id") == action_id
        ]
        block_id, element = found[element_index]
    else:
        block_id, element = _element(message, action_id)
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": element["type"],
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "static_select":
        options = [o for g in element.get("option_groups", []) for o in g["options"]]
        options += element.get("options", [])
        chosen = [o for o in options if o["value"] == option]
        assert chosen, f"{option!r} is not an option of {action_id}"
        action["selected_option"] = dict(chosen[0])
    else:
        action["value"] = element.get("value", "")
        action["text"] = element.get("text")
    ts = str(message.get("ts", ""))
    container: dict[str, Any] = {
        "type": "message",
        "channel_id": channel_id,
        "is_ephemeral": ephemeral,
    }
    if not ephemeral:
        container["message_ts"] = ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "marsad-test"},
        "user": {"id": user, "username": "desk", "team_id": team},
        "api_app_id": app,
        "token": "verification-token-unused",
        "container": container,
        "trigger_id": f"{time.time():.0f}.{user}.trigger",
        "channel": {"id": channel_id, "name": channel_name},
        "response_url": "http://127.0.0.1:9/actions/response",
        "actions": [action],
    }
    if not ephemeral:
        payload["message"] = dict(message)
    return payload


def view_submission(
    view: Mapping[str, Any],
    values: Mapping[str, str | None],
    *,
    user: str = "U0DESK1",
    team: str = TEAM_ID,
    app: str = APP_ID,
) -> dict[str, Any]:
    """The modal ``view`` (as ``views.open`` stored it) submitted with ``values`` by input
    block id (None: left empty)."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        value = values.get(str(block["block_id"]))
        state[str(block["block_id"])] = {
            str(element["action_id"]): {"type": element["type"], "value": value}
        }
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "marsad-test"},
        "user": {"id": user, "username": "desk", "team_id": team},
        "api_app_id": app,
        "trigger_id": f"{time.time():.0f}.{user}.trigger",
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
    }


def slash_command(
    text: str,
    *,
    channel_id: str,
    channel_name: str,
    user: str = "U0DESK1",
    team: str = TEAM_ID,
    app: str = APP_ID,
) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": team,
        "team_domain": "marsad-test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": "desk",
        "command": "/marsad",
        "text": text,
        "api_app_id": app,
        "is_enterprise_install": "false",
        "response_url": "http://127.0.0.1:9/commands/response",
        "trigger_id": f"{time.time():.0f}.{user}.trigger",
    }
