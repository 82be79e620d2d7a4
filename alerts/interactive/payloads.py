"""Socket Mode payloads → typed interactions (pure).

Why typed at the edge: a payload is JSON written by Slack — or by anyone holding the app's
connection — and the handler should decide on checked fields, not on ``payload["x"]["y"]``.
Only what the desk's actions use is read; anything malformed is a :class:`BadPayload`, which
the handler logs and drops (after acknowledging the envelope).

Three kinds of interaction arrive:

* :class:`Click` — ``block_actions``: a button or the Mute… menu on an alert message, or a
  Lift button on the ephemeral list of mutes;
* :class:`Submission` — ``view_submission`` of the correction modal;
* :class:`Command` — ``slash_commands`` (``/marsad mutes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alerts.interactive import ids
from alerts.interactive.actions import CorrectionKind
from alerts.interactive.words import durations


class BadPayload(ValueError):
    """A payload that is not one of the desk's interactions (or not well formed)."""


@dataclass(frozen=True)
class Origin:
    """Who acted, from where: checked against ``auth.test`` and the configured channels."""

    team_id: str
    app_id: str
    user: str
    channel_id: str
    channel_name: str


@dataclass(frozen=True)
class Click:
    origin: Origin
    action_id: str
    #: the alert of an alert message's button or menu (None for Lift)
    ref: ids.AlertRef | None
    #: the message clicked (None on an ephemeral message)
    message_ts: str | None
    trigger_id: str
    choice: ids.MuteChoice | None = None
    mute_id: int | None = None


@dataclass(frozen=True)
class Submission:
    origin: Origin
    view_id: str
    kind: CorrectionKind
    ref: ids.AlertRef
    message_ts: str
    killed: str | None
    injured: str | None
    other: str | None
    note: str


@dataclass(frozen=True)
class Command:
    origin: Origin
    command: str
    text: str


Interaction = Click | Submission | Command

#: the modal's input blocks (block id = action id): what a submission's values are read by
KILLED, INJURED, OTHER, NOTE = "killed", "injured", "other", "note"


def _str(data: Any, *keys: str) -> str:
    node = data
    for key in keys:
        if not isinstance(node, dict):
            raise BadPayload(f"no {'.'.join(keys)}")
        node = node.get(key)
    if not isinstance(node, str):
        raise BadPayload(f"no {'.'.join(keys)}")
    return node


def _opt(data: Any, *keys: str) -> str | None:
    try:
        return _str(data, *keys)
    except BadPayload:
        return None


def _origin(payload: dict[str, Any], channel_id: str, channel_name: str) -> Origin:
    team = _opt(payload, "team", "id") or _opt(payload, "user", "team_id") or ""
    return Origin(
        team_id=team,
        app_id=_opt(payload, "api_app_id") or "",
        user=_str(payload, "user", "id"),
        channel_id=channel_id,
        channel_name=channel_name,
    )


def parse(envelope_type: str, payload: Any) -> Interaction:
    """One envelope's payload; raises :class:`BadPayload`."""
    if not isinstance(payload, dict):
        raise BadPayload("payload is not an object")
    if envelope_type == "interactive" and payload.get("type") == "block_actions":
        return _click(payload)
    if envelope_type == "interactive" and payload.get("type") == "view_submission":
        return _submission(payload)
    if envelope_type == "slash_commands":
        return _command(payload)
    raise BadPayload(f"not handled: {envelope_type}/{payload.get('type')}")


def _click(payload: dict[str, Any]) -> Click:
    actions = payload.get("actions")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise BadPayload("a click carries one action")
    action: dict[str, Any] = actions[0]
    origin = _origin(
        payload,
        _opt(payload, "channel", "id") or _opt(payload, "container", "channel_id") or "",
        _opt(payload, "channel", "name") or "",
    )
    action_id = _str(action, "action_id")
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    ephemeral = bool((container or {}).get("is_ephemeral"))
    message_ts = (
        None
        if ephemeral
        else (_opt(payload, "container", "message_ts") or _opt(payload, "message", "ts"))
    )
    trigger_id = _opt(payload, "trigger_id") or ""
    try:
        if action_id == ids.LIFT:
            return Click(
                origin, action_id, None, message_ts, trigger_id, mute_id=int(_str(action, "value"))
            )
        if action_id == ids.MUTE:
            ref = ids.AlertRef.from_block_id(_str(action, "block_id"))
            value = _str(action, "selected_option", "value")
            choice = ids.MuteChoice.decode(value, set(durations()))
            return Click(origin, action_id, ref, message_ts, trigger_id, choice=choice)
        if action_id == ids.ACK or action_id in ids.CORRECTIONS:
            ref = ids.AlertRef.decode(_str(action, "value"))
            return Click(origin, action_id, ref, message_ts, trigger_id)
    except (ids.BadValue, ValueError) as exc:
        raise BadPayload(str(exc)) from exc
    raise BadPayload(f"unknown action {action_id!r:.60}")


def private_metadata(kind: CorrectionKind, ref: ids.AlertRef, channel_id: str, ts: str) -> str:
    """What the modal carries back to its submission (ids only)."""
    return json.dumps(
        {"k": kind, "a": ref.alert_id, "r": ref.revision, "c": channel_id, "t": ts},
        separators=(",", ":"),
    )


def _submission(payload: dict[str, Any]) -> Submission:
    view = payload.get("view")
    if not isinstance(view, dict) or view.get("callback_id") != ids.CORRECTION_VIEW:
        raise BadPayload("not the correction modal")
    try:
        meta = json.loads(_str(view, "private_metadata"))
        kind = meta["k"]
        ref = ids.AlertRef.decode(json.dumps({"a": meta["a"], "r": meta["r"]}))
        channel_id, ts = str(meta["c"]), str(meta["t"])
    except (json.JSONDecodeError, KeyError, TypeError, ids.BadValue) as exc:
        raise BadPayload(f"bad private_metadata: {exc}") from exc
    if kind not in ids.CORRECTIONS.values():
        raise BadPayload(f"unknown correction {kind!r:.40}")
    values = view.get("state", {}).get("values", {}) if isinstance(view.get("state"), dict) else {}

    def value(block: str) -> str | None:
        raw = values.get(block, {}).get(block, {}) if isinstance(values, dict) else {}
        text = raw.get("value") if isinstance(raw, dict) else None
        return text.strip() if isinstance(text, str) and text.strip() else None

    return Submission(
        origin=_origin(payload, channel_id, ""),
        view_id=_opt(view, "id") or "",
        kind=kind,
        ref=ref,
        message_ts=ts,
        killed=value(KILLED),
        injured=value(INJURED),
        other=value(OTHER),
        note=value(NOTE) or "",
    )


def _command(payload: dict[str, Any]) -> Command:
    origin = Origin(
        team_id=_opt(payload, "team_id") or "",
        app_id=_opt(payload, "api_app_id") or "",
        user=_str(payload, "user_id"),
        channel_id=_opt(payload, "channel_id") or "",
        channel_name=_opt(payload, "channel_name") or "",
    )
    return Command(origin, _str(payload, "command"), (_opt(payload, "text") or "").strip())
