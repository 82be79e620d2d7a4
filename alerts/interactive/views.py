"""The desk's Block Kit besides the alert message (pure): the correction modal, the list of
active mutes, and validation of a submitted modal.

Limits: a modal's title is at most 24 characters, its buttons' 24, ``private_metadata`` 3000;
labels come from ``words.yaml`` and are clipped to fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alerts.interactive import ids, payloads, status
from alerts.interactive.actions import CorrectionKind, Mute
from alerts.interactive.words import word
from alerts.mrkdwn import clip, code, escape, truncate
from marsad.records import Alert

TITLE_MAX = 24
NOTE_MAX = 500
FIGURE_MAX = 100_000
#: mutes listed by ``/marsad mutes`` (a message holds 50 blocks)
MUTES_SHOWN = 40


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _number(block: str, label: str, initial: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": block,
        "is_decimal_allowed": False,
        "min_value": "0",
    }
    if initial is not None:
        element["initial_value"] = str(initial)
    return {
        "type": "input",
        "block_id": block,
        "optional": True,
        "label": _plain(label),
        "element": element,
    }


def _text(block: str, label: str, *, optional: bool, limit: int) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": _plain(label),
        "element": {"type": "plain_text_input", "action_id": block, "max_length": limit},
    }


def correction_modal(
    kind: CorrectionKind, alert: Alert, channel_id: str, message_ts: str
) -> dict[str, Any]:
    """The modal a correction button opens (``views.open``)."""
    ref = ids.AlertRef(alert.id, alert.revision)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{word(f'modal.{kind}.intro')}\nAlert {code(alert.id, 200)}",
            },
        }
    ]
    inc = alert.incident
    if kind == "wrong_toll":
        blocks.append(_number(payloads.KILLED, word("modal.killed"), inc.killed if inc else None))
        blocks.append(
            _number(payloads.INJURED, word("modal.injured"), inc.injured if inc else None)
        )
    elif kind == "duplicate":
        blocks.append(_text(payloads.OTHER, word("modal.other"), optional=False, limit=300))
    blocks.append(_text(payloads.NOTE, word("modal.note"), optional=True, limit=NOTE_MAX))
    return {
        "type": "modal",
        "callback_id": ids.CORRECTION_VIEW,
        "title": _plain(word(f"modal.{kind}.title"), TITLE_MAX),
        "submit": _plain(word("modal.submit"), TITLE_MAX),
        "close": _plain(word("modal.close"), TITLE_MAX),
        "private_metadata": payloads.private_metadata(kind, ref, channel_id, message_ts),
        "blocks": blocks,
    }


@dataclass(frozen=True)
class Figures:
    """A submission's checked values, or the errors to show in the modal (block id → text)."""

    killed: int | None = None
    injured: int | None = None
    other: str | None = None
    errors: dict[str, str] | None = None


def _figure(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > FIGURE_MAX:
        raise ValueError(raw)
    return int(raw)


def check_submission(sub: payloads.Submission, known: bool | None = None) -> Figures:
    """Validate what the modal sent. ``known``: whether the other alert (a duplicate's) is one
    Marsad delivered."""
    if sub.kind == "wrong_toll":
        errors: dict[str, str] = {}
        figures: dict[str, int | None] = {}
        for block, raw in ((payloads.KILLED, sub.killed), (payloads.INJURED, sub.injured)):
            try:
                figures[block] = _figure(raw)
            except ValueError:
                errors[block] = word("refusals.bad_figure")
        if not errors and figures[payloads.KILLED] is None and figures[payloads.INJURED] is None:
            errors[payloads.KILLED] = word("refusals.no_toll")
        if errors:
            return Figures(errors=errors)
        return Figures(killed=figures[payloads.KILLED], injured=figures[payloads.INJURED])
    if sub.kind == "duplicate":
        if sub.other == sub.ref.alert_id:
            return Figures(errors={payloads.OTHER: word("refusals.same_alert")})
        if not sub.other or not known:
            return Figures(errors={payloads.OTHER: word("refusals.no_other")})
        return Figures(other=sub.other)
    return Figures()


def mutes_message(mutes: Sequence[Mute]) -> tuple[str, list[dict[str, Any]]]:
    """``/marsad mutes``: each active mute with a Lift button (ephemeral)."""
    if not mutes:
        text = word("answers.no_mutes")
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": word("answers.mutes_title")}}
    ]
    for mute in mutes[:MUTES_SHOWN]:
        line = word(
            "answers.mute_line",
            rule=code(mute.rule, 100),
            target=escape(truncate(status.target(mute), 100)),
            until=status.when(mute.until),
            user=status.user(mute.by),
        )
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": line},
                "accessory": {
                    "type": "button",
                    "text": _plain(word("buttons.lift")),
                    "action_id": ids.LIFT,
                    "value": str(mute.id),
                },
            }
        )
    text = f"{len(mutes)} active mute(s)"
    return text, blocks
