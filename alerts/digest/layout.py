"""A :class:`~alerts.digest.build.Digest` → one Slack Block Kit message (pure).

Top to bottom: a header with the local date; the day's totals and the week-over-week change;
the day by governorate and by perpetrator (two fields); one section per deadly incident of the
top five (toll, place, date, perpetrator → targets, a link to its first report); the desk's
part (muted alerts, the day's corrections); a context line saying what was counted and how.

Within Slack's limits by construction, like the alerts (:mod:`alerts.blocks`): every name from
upstream is escaped and capped before our markup goes around it, lists are cut by whole item
with "(+N more)", each deadly incident has its own section so five long links can never
overflow one; at most 12 blocks. Corrections name the analyst as text, never as a mention:
a digest pings nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from alerts.blocks import (
    FIELD_MAX,
    HEADER_MAX,
    ITEM_MAX,
    SECTION_MAX,
    VALUE_MAX,
    SlackMessage,
    metadata,
)
from alerts.digest.build import Correction, Digest, Group, Ranked, Tally, change
from alerts.labels import actor_name, governorate_name
from alerts.mrkdwn import (
    clip,
    code,
    escape,
    isolate_rtl,
    join_within,
    safe_link,
    truncate,
)

#: lines of a by-governorate / by-perpetrator list before "(+N more)"
GROUP_LINES = 12
#: corrections listed before "(+N more)"
CORRECTION_LINES = 10
#: the metadata ``part`` of a digest message (its key is the ledger's "alert id")
PART = "digest"

_KIND = {"wrong_toll": "wrong toll", "not_incident": "not an incident", "duplicate": "duplicate"}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(truncate(text, SECTION_MAX))}


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _tally(t: Tally) -> str:
    return f"{_plural(t.incidents, 'incident')}, {t.killed} killed"


def percent(current: int, previous: int) -> str:
    """``+25%``, ``−10%``, ``no change``; ``new`` when the week before had none."""
    pct = change(current, previous)
    if pct is None:
        return "new" if current else "none either week"
    if round(pct) == 0:
        return "no change"
    return f"+{pct:.0f}%" if pct > 0 else f"\u2212{-pct:.0f}%"


def header_text(digest: Digest) -> str:
    return clip(f"Marsad daily digest · {_day(digest.local_date)}", HEADER_MAX)


def period_text(digest: Digest) -> str:
    start = digest.start.astimezone(digest.local_end.tzinfo)
    end = digest.local_end
    return (
        f"{start:%H:%M} {start:%a} {start.day} {start:%b} → {end:%H:%M} {_day(end.date())}, "
        f"{escape(digest.tz)}"
    )


def totals_text(digest: Digest) -> str:
    week, prev = digest.week, digest.previous_week
    return (
        f"*Last 24 h* ({period_text(digest)}): *{_tally(digest.day)}*\n"
        f"*Week over week:* {_tally(week)} in the last 7 days; "
        f"incidents {percent(week.incidents, prev.incidents)}, "
        f"killed {percent(week.killed, prev.killed)} "
        f"(the 7 days before: {_tally(prev)}{_partial(digest)})"
    )


def _partial(digest: Digest) -> str:
    if digest.held_from is None:
        return ""
    held = digest.held_from.astimezone(digest.local_end.tzinfo)
    return f"; partial: incidents are held only from {held:%H:%M} {_day(held.date())}"


def _group_line(group: Group, show_code: bool) -> str:
    name = truncate(escape(group.name), ITEM_MAX)
    if show_code and group.code and group.code != group.name:
        name += f" ({truncate(escape(group.code), ITEM_MAX)})"
    return f"{name}: {_plural(group.incidents, 'incident')}, {group.killed} killed"


def groups_text(title: str, groups: Sequence[Group], show_code: bool = False) -> str:
    lines = [_group_line(g, show_code) for g in groups]
    lead = f"*{title}*\n"
    body = join_within(lines, "\n", FIELD_MAX - len(lead), max_items=GROUP_LINES)
    return lead + (body or "—")


def _place(ranked: Ranked) -> str:
    loc = ranked.incident.location
    if loc is None:
        return "place not reported"
    names = [truncate(escape(loc.name_en), VALUE_MAX)]
    gov = governorate_name(loc.admin1)
    if gov and gov != loc.admin1 and gov != loc.name_en:
        names.append(truncate(escape(gov), VALUE_MAX))
    if loc.name_ar:
        names.append(isolate_rtl(truncate(escape(loc.name_ar), VALUE_MAX)))
    return ", ".join(n for n in names if n)


def deadly_text(rank: int, ranked: Ranked, local: datetime) -> str:
    """One deadly incident: toll, place, date, sides, the first report's link."""
    inc = ranked.incident
    toll = f"*{inc.killed} killed*"
    if inc.injured:
        toll += f", {inc.injured} injured"
    when = inc.occurred_on.isoformat() if inc.occurred_on else f"reported {local:%Y-%m-%d %H:%M}"
    targets = ", ".join(actor_name(t) for t in inc.targets) or "not reported"
    sides = truncate(escape(f"{actor_name(inc.perpetrator)} → {targets}"), VALUE_MAX)
    text = f"*{rank}.* {toll} · {_place(ranked)} · {when} · {sides}"
    text = truncate(text, SECTION_MAX // 2)
    link = safe_link(inc.urls[0], with_path=True) if inc.urls else ""
    more = f" (+{len(inc.urls) - 1} more)" if len(inc.urls) > 1 else ""
    tail = f"\n{link}{more}" if link else ""
    ref = f" · {code(inc.id, ITEM_MAX)}"
    return text + ref + tail


def _correction_line(c: Correction) -> str:
    kind = _KIND.get(c.kind, c.kind)
    what = f"{kind}: alert {code(c.alert_id, ITEM_MAX)}"
    if c.kind == "wrong_toll":
        figures = [f"{c.killed} killed" if c.killed is not None else ""]
        figures.append(f"{c.injured} injured" if c.injured is not None else "")
        shown = ", ".join(f for f in figures if f)
        if shown:
            what += f" → {shown}"
    elif c.kind == "duplicate" and c.duplicate_of:
        what += f" of {code(c.duplicate_of, ITEM_MAX)}"
    line = f"• {what} (by {truncate(escape(c.user), ITEM_MAX)})"
    if c.note.strip():
        line += f" — {truncate(escape(' '.join(c.note.split())), VALUE_MAX)}"
    return line


def desk_text(digest: Digest) -> str:
    muted = (
        f"*Muted:* {_plural(digest.muted, 'alert')} not pinged (counted in this digest)"
        if digest.muted
        else "*Muted:* none"
    )
    if not digest.corrections:
        return f"{muted}\n*Corrections:* none"
    lead = f"{muted}\n*Corrections ({len(digest.corrections)}):*\n"
    lines = [_correction_line(c) for c in digest.corrections]
    return lead + join_within(lines, "\n", SECTION_MAX - len(lead) - 10, max_items=CORRECTION_LINES)


def context_text(digest: Digest) -> str:
    text = (
        "Marsad · counted by event time (the incident's date, else its first report) · "
        "the latest revision of each incident, merged ones left out"
    )
    if digest.undated:
        text += f" · {digest.undated} undated left out"
    return text


def digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    """The digest as Block Kit blocks (at most 12)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(digest)}},
        _section(totals_text(digest)),
    ]
    if digest.day.incidents:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    _mrkdwn(groups_text("By governorate", digest.by_governorate, True)),
                    _mrkdwn(groups_text("By perpetrator", digest.by_perpetrator)),
                ],
            }
        )
    else:
        blocks.append(_section("No incidents in the last 24 h."))
    if digest.deadliest:
        blocks.append(_section(f"*The {len(digest.deadliest)} deadliest*"))
        tz = digest.local_end.tzinfo
        for rank, ranked in enumerate(digest.deadliest, 1):
            blocks.append(_section(deadly_text(rank, ranked, ranked.at.astimezone(tz))))
    blocks.append({"type": "divider"})
    blocks.append(_section(desk_text(digest)))
    blocks.append({"type": "context", "elements": [_mrkdwn(context_text(digest))]})
    return blocks


def fallback_text(digest: Digest) -> str:
    """The notification's text: the headline figures."""
    return (
        f"Marsad daily digest, {_day(digest.local_date)}: {_tally(digest.day)} in the 24 h "
        f"to {digest.local_end:%H:%M} ({escape(digest.tz)})"
    )


def digest_message(digest: Digest, key: str) -> SlackMessage:
    """The message to post; ``key`` (channel and local date) goes in its metadata, so an
    interrupted post can be found in the channel again (:mod:`alerts.digest.scheduler`)."""
    return SlackMessage(
        text=fallback_text(digest),
        blocks=digest_blocks(digest),
        metadata=metadata(key, 1, part=PART),
    )
