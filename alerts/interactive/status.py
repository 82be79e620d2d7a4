"""What an alert's message says the desk did (pure): acknowledged by whom, the mute that
applies, the corrections — built from the action store's records, never from the message.

Why from the records: the line is rebuilt whole on every edit (a click, a new revision), so it
cannot drift from what is stored, and a click seen twice (a redelivered envelope) shows once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from alerts.blocks import Desk
from alerts.interactive.actions import Ack, Correction, Mute
from alerts.interactive.words import word
from alerts.labels import actor_name, governorate_name
from alerts.mrkdwn import code, escape, truncate

#: Slack user ids (a mention is built only from one of these)
_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
#: corrections shown on a message (the newest); the rest are in the store and the export
SHOWN_CORRECTIONS = 3
NOTE_MAX = 200


def user(user_id: str) -> str:
    """A mention for a Slack user id; anything else shown as escaped text."""
    return f"<@{user_id}>" if _USER.match(user_id) else escape(truncate(user_id, 80))


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def target(mute: Mute) -> str:
    """The place or side a mute silences, by name (plain text: callers escape for mrkdwn)."""
    if mute.scope == "governorate":
        return governorate_name(mute.value) or mute.value
    return actor_name(mute.value)


def _figure(value: int | None) -> str:
    return "not reported" if value is None else str(value)


def correction_line(c: Correction) -> str:
    who = user(c.user)
    if c.kind == "wrong_toll":
        line = word(
            "status.wrong_toll", user=who, killed=_figure(c.killed), injured=_figure(c.injured)
        )
    elif c.kind == "not_incident":
        line = word("status.not_incident", user=who)
    else:
        line = word("status.duplicate", user=who, other=code(c.duplicate_of or "?", 100))
    if c.note.strip():
        line += word("status.note", note=escape(truncate(c.note.strip(), NOTE_MAX)))
    return line


def mute_line(mute: Mute) -> str:
    return word(
        "status.muted",
        rule=code(mute.rule, 100),
        target=escape(target(mute)),
        until=when(mute.until),
        user=user(mute.by),
    )


def desk(
    ack: Ack | None,
    mute: Mute | None,
    corrections: Sequence[Correction],
    *,
    buttons: bool = True,
) -> Desk:
    """The desk's part of a message."""
    lines: list[str] = []
    if ack is not None:
        lines.append(word("status.acknowledged", user=user(ack.user), at=when(ack.at)))
    if mute is not None:
        lines.append(mute_line(mute))
    lines += [correction_line(c) for c in corrections[-SHOWN_CORRECTIONS:]]
    return Desk(lines=tuple(lines), buttons=buttons)
