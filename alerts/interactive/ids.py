"""What a button carries: action ids, and the ids in its value (never article text).

Why only ids: a button's value travels through Slack and comes back in a payload anyone with
the app's connection could write; an id is checked against what Marsad itself recorded (the
delivery ledger, the action store), text could not be.  Every value here has a Slack limit
(a ``block_id`` 255 characters, an option's value 150, a button's value 2000), checked where
the value is built: what does not fit is not offered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal, cast

from marsad.records import Alert

Scope = Literal["governorate", "actor"]

ACK: Final = "marsad_ack"
MUTE: Final = "marsad_mute"
WRONG_TOLL: Final = "marsad_wrong_toll"
NOT_INCIDENT: Final = "marsad_not_incident"
DUPLICATE: Final = "marsad_duplicate"
LIFT: Final = "marsad_lift"
#: the actions block of an alert message, and the status line above it
ACTIONS_BLOCK: Final = "marsad_actions"
DESK_BLOCK: Final = "marsad_desk"
#: the correction modal's callback id
CORRECTION_VIEW: Final = "marsad_correction"
#: the action ids of a correction, and the correction kind each one opens
CORRECTIONS: Final[dict[str, Literal["wrong_toll", "not_incident", "duplicate"]]] = {
    WRONG_TOLL: "wrong_toll",
    NOT_INCIDENT: "not_incident",
    DUPLICATE: "duplicate",
}

BLOCK_ID_MAX = 255
OPTION_VALUE_MAX = 150
BUTTON_VALUE_MAX = 2000


class BadValue(ValueError):
    """A value that Marsad did not write (or that was altered on the way)."""


@dataclass(frozen=True)
class AlertRef:
    """An alert revision, as a button names it."""

    alert_id: str
    revision: int

    def encode(self) -> str:
        return json.dumps({"a": self.alert_id, "r": self.revision}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> AlertRef:
        try:
            data = json.loads(value)
        except (TypeError, json.JSONDecodeError) as exc:
            raise BadValue(f"not an alert reference: {value!r:.80}") from exc
        if not isinstance(data, dict) or set(data) != {"a", "r"}:
            raise BadValue(f"not an alert reference: {value!r:.80}")
        alert_id, revision = data["a"], data["r"]
        if not isinstance(alert_id, str) or not alert_id or type(revision) is not int:
            raise BadValue(f"not an alert reference: {value!r:.80}")
        if revision < 1:
            raise BadValue(f"revision {revision} < 1")
        return cls(alert_id, revision)

    def block_id(self) -> str | None:
        """The actions block's id (where a select's choice finds its alert); None when the
        alert id is too long to fit (the message then has no buttons)."""
        block_id = f"{ACTIONS_BLOCK}:{self.encode()}"
        return block_id if len(block_id) <= BLOCK_ID_MAX else None

    @classmethod
    def from_block_id(cls, block_id: str) -> AlertRef:
        prefix = ACTIONS_BLOCK + ":"
        if not block_id.startswith(prefix):
            raise BadValue(f"not an alert's actions block: {block_id!r:.80}")
        return cls.decode(block_id[len(prefix) :])


@dataclass(frozen=True)
class MuteChoice:
    """One option of the Mute… menu: which scope, which value, how long."""

    scope: Scope
    value: str
    duration: str

    def encode(self) -> str | None:
        """``scope|value|duration``; None when it would not fit an option's value."""
        text = f"{self.scope}|{self.value}|{self.duration}"
        return text if len(text) <= OPTION_VALUE_MAX and "|" not in self.value else None

    @classmethod
    def decode(cls, value: str, durations: set[str]) -> MuteChoice:
        parts = value.split("|")
        if len(parts) != 3 or parts[0] not in ("governorate", "actor") or not parts[1]:
            raise BadValue(f"not a mute choice: {value!r:.80}")
        if parts[2] not in durations:
            raise BadValue(f"unknown mute duration {parts[2]!r:.20}")
        return cls(cast(Scope, parts[0]), parts[1], parts[2])


def scope_values(alert: Alert) -> dict[Scope, set[str]]:
    """Where and who an alert is about, as a mute reads them: its incident's governorate and
    actors (perpetrator and targets, as routing reads them), or the group of a window alert
    grouped by one of them."""
    inc = alert.incident
    if inc is not None:
        gov = {inc.location.admin1} if inc.location and inc.location.admin1 else set()
        return {"governorate": gov, "actor": {inc.perpetrator, *inc.targets}}
    w = alert.window or {}
    group = str(w["group"]) if w.get("group") else None
    return {
        "governorate": {group} if group and w.get("group_by") == "admin1" else set(),
        "actor": {group} if group and w.get("group_by") == "perpetrator" else set(),
    }
