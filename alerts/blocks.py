"""Alert → Slack Block Kit message (pure: no I/O, no clock).

Layout, top to bottom: a header (severity + English one-liner), the Arabic summary, a grid
of fields (toll per side, place in Arabic and English with governorate, date, perpetrator →
targets, event type, rule), sources with links, the Arabic evidence as a quote, and a small
context line naming the alert id and revision.  ``text`` is the plain fallback shown in
notifications and by clients that do not render blocks.

Every string that comes from an article or from upstream summaries is escaped with
:func:`alerts.mrkdwn.escape` before it enters a mrkdwn element; the header is ``plain_text``
(Slack parses no mentions or links there).

Every message fits Slack's limits by construction (Slack refuses the whole message with
``invalid_blocks`` otherwise, and the alert would be parked): each value from upstream is
capped before it is wrapped in our markup, lists are cut by whole item with "(+N more)",
links are labelled with their host (and a path stub when two share a host) and a link whose
target is too long is shown as its label; at most 10 blocks, 6 fields, 2 context blocks of one
element each.

**The link to the desk** (:func:`desk_link`): where the web desk's external address is set
(``MARSAD_PUBLIC_URL``), an incident alert links to its page there,
``<public_url>/incidents/<incident id>``. The URL is built from the setting and the id only
(the alerts room does not import the desk); a merged incident's page still answers by its id
and says where the event went, so a link posted before a merge keeps working.

**The desk's part** (:class:`Desk`, given where Socket Mode handles the buttons): a status
line (who acknowledged, the mute that applies, the corrections) and an ``actions`` block —
Acknowledge, a Mute… menu (this rule × the alert's governorate or one of its sides × 6 h /
24 h / 7 days), and for an incident Wrong toll, Not an incident, Duplicate of….  Buttons carry
only ids (:mod:`alerts.interactive.ids`); an alert whose id does not fit a ``block_id`` gets
no buttons rather than a message Slack refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

from alerts.interactive import ids
from alerts.interactive.words import durations, word
from alerts.labels import QUALIFIER_WORDS, SEVERITY_EMOJI, actor_name, governorate_name
from alerts.mrkdwn import (
    URL_MAX,
    clip,
    code,
    drop_bidi_controls,
    escape,
    fit_lines,
    isolate_rtl,
    join_within,
    link_label,
    quote,
    rtl_paragraph,
    safe_link,
    slack_len,
    truncate,
)
from marsad.records import Alert, StoredIncident

#: Slack's documented limits.
HEADER_MAX = 150  # a header's plain_text
FIELD_MAX = 2000  # each of a section's fields
FIELDS_MAX = 10  # fields per section
SECTION_MAX = 3000  # a section's text, a context element's text
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
MESSAGE_TEXT_MAX = 40000  # a message's top-level ``text``
#: Ours, within those.
TEXT_MAX = 3000  # kept for readers of the old name: the fallback is far shorter
FALLBACK_MAX = 500  # the fallback text before its marker: a notification, not the message
MARKER_MAX = 4000  # a longer alert id is left out of the fallback (the metadata has it)
MAX_LINKS = 8
VALUE_MAX = 300  # one value from upstream in a field: a rule name, a window group, a place
ITEM_MAX = 100  # one item of a list: a source's name, an incident id
NAMES_MAX = 1000  # the line of source names

PLAIN_LABEL_MAX = 75  # a button's or an option's plain_text
OPTIONS_MAX = 100  # options of a static select
#: Sides offered in the Mute… menu (perpetrator first, then targets)
MUTE_ACTORS_MAX = 8

#: The words of the link to the incident's page on the web desk
DESK_LINK_WORDS = "Open in the desk"
#: The incident page's route on the web desk (desk/web/app.py), below ``MARSAD_PUBLIC_URL``
DESK_INCIDENT_PATH = "/incidents/"

#: Message metadata event type: lets the notifier find its own messages after a crash.
METADATA_EVENT = "marsad_alert"


@dataclass(frozen=True)
class SlackMessage:
    """What is posted: fallback text, blocks and machine-readable metadata."""

    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]

    def as_payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks, "metadata": self.metadata}


@dataclass(frozen=True)
class Desk:
    """What the desk sees on a message besides the alert: status lines (mrkdwn, already
    escaped: :mod:`alerts.interactive.status` builds them) and whether buttons are offered."""

    lines: tuple[str, ...] = ()
    buttons: bool = True


def marker(alert_id: str, revision: int) -> str:
    """The id tag in the fallback text; a second way (after metadata) to recognise a post."""
    return f"[alert {alert_id} r{revision}]"


def metadata(alert_id: str, revision: int, part: str = "message") -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"alert_id": alert_id, "revision": revision, "part": part},
    }


def desk_url(public_url: str, incident_id: str) -> str | None:
    """The incident's page on the web desk; ``None`` without an http(s) base URL.

    The id is percent-encoded whole (``/`` too), so any id names exactly one page."""
    base = public_url.strip().rstrip("/")
    try:
        scheme = urlsplit(base).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or not urlsplit(base).netloc:
        return None
    return f"{base}{DESK_INCIDENT_PATH}{url_quote(incident_id, safe='')}"


def desk_link(alert: Alert, public_url: str) -> str | None:
    """The mrkdwn link to an incident alert's page on the desk: ``None`` for a window or
    surge alert, without a public URL, or when the link would be longer than Slack takes."""
    if alert.incident is None or not public_url:
        return None
    url = desk_url(public_url, alert.incident.id)
    if url is None:
        return None
    target = escape(url).replace("|", "%7C").replace(" ", "%20")
    if slack_len(target) > URL_MAX:
        return None
    return f"<{target}|{DESK_LINK_WORDS}>"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _count(value: int | None, qualifier: str | None) -> str:
    if value is None:
        return "not reported"
    return f"{QUALIFIER_WORDS.get(qualifier or '', '')}{value}"


def toll_text(inc: StoredIncident) -> str:
    lines = [
        f"*Killed:* {_count(inc.killed, inc.killed_qualifier)}",
        f"*Injured:* {_count(inc.injured, inc.injured_qualifier)}",
    ]
    if inc.captured is not None:
        lines.append(f"*Captured:* {inc.captured}")
    if inc.killed_by_actor:
        sides = sorted(inc.killed_by_actor.items(), key=lambda kv: (-kv[1], kv[0]))
        per_side = [truncate(f"{escape(actor_name(a))} {n}", ITEM_MAX) for a, n in sides]
        lines.append(f"*Killed per side:* {join_within(per_side, ', ', FIELD_MAX // 2)}")
    return fit_lines(lines, FIELD_MAX)


def place_text(inc: StoredIncident) -> str:
    loc = inc.location
    if loc is None:
        return "not reported"
    # English first: the line stays left-to-right whatever the client's direction guess.
    # "بادية الرصافة", "جنوب تدمر": the report puts the event around the place, not in it
    english = f"around {loc.name_en}" if loc.vicinity else loc.name_en
    names = [
        truncate(escape(english), VALUE_MAX),
        isolate_rtl(truncate(escape(loc.name_ar), VALUE_MAX)),
    ]
    line = " · ".join(n for n in names if n)
    gov = governorate_name(loc.admin1)
    if gov and loc.admin1:
        line += f"\n{truncate(escape(gov), VALUE_MAX)} ({truncate(escape(loc.admin1), ITEM_MAX)})"
    return line


def actors_text(inc: StoredIncident) -> str:
    names = [truncate(escape(actor_name(t)), ITEM_MAX) for t in inc.targets]
    targets = join_within(names, ", ", FIELD_MAX // 2) or "not reported"
    return f"{truncate(escape(actor_name(inc.perpetrator)), ITEM_MAX)} → {targets}"


def sources_text(inc: StoredIncident, limit: int = SECTION_MAX - len("*Sources:* ")) -> str:
    """Source names, then up to :data:`MAX_LINKS` links, each list cut by whole item with
    its "(+N more)" note, the whole within ``limit``."""
    names = join_within([truncate(escape(s), ITEM_MAX) for s in inc.sources], ", ", NAMES_MAX)
    shown = inc.urls[:MAX_LINKS]
    hosts = [link_label(u) for u in shown]
    links = [
        safe_link(u, with_path=host is not None and hosts.count(host) > 1)
        for u, host in zip(shown, hosts, strict=True)
    ]
    links += [""] * (len(inc.urls) - len(shown))  # counted by the note, never shown
    room = limit - (slack_len(names) + 1 if names else 0)
    link_line = join_within(links, " · ", room, max_items=len(shown))
    return "\n".join(p for p in (names, link_line) if p) or "not reported"


def header_text(alert: Alert) -> str:
    emoji = SEVERITY_EMOJI.get(alert.severity, "")
    summary = alert.summary_en or alert.summary_ar or alert.rule
    summary = " ".join(drop_bidi_controls(summary).split())
    tag = " (merged)" if alert.merged_into else " (updated)" if alert.revision > 1 else ""
    head = f"{emoji} {alert.severity.upper()} · ".lstrip()
    room = HEADER_MAX - slack_len(head) - slack_len(tag)
    return f"{head}{clip(summary, room)}{tag}"


def merged_text(into: str) -> str:
    """The line a twin's last revision shows: the event goes on in the surviving alert."""
    return (
        f":link: Merged into alert {code(into, VALUE_MAX)}: the same event; updates continue there."
    )


def fallback_text(alert: Alert) -> str:
    """Plain one-paragraph text for notifications and block-less clients (mrkdwn-escaped)."""
    parts = [f"[{alert.severity.upper()}] {escape(alert.summary_en or alert.rule)}"]
    inc = alert.incident
    if inc is not None:
        if inc.location is not None:
            parts.append(escape(inc.location.name_en))
        parts.append(f"killed {_count(inc.killed, inc.killed_qualifier)}")
        if inc.injured is not None:
            parts.append(f"injured {_count(inc.injured, inc.injured_qualifier)}")
    if alert.merged_into:
        parts.append(f"merged into alert {escape(alert.merged_into)}")
    return _with_marker(" — ".join(parts), alert)


def _with_marker(text: str, alert: Alert) -> str:
    """A short fallback text, then the marker (left out only for an absurdly long id)."""
    tag = escape(marker(alert.id, alert.revision))
    body = truncate(text, FALLBACK_MAX)
    return f"{body} {tag}" if slack_len(tag) <= MARKER_MAX else body


def _incident_blocks(inc: StoredIncident, rule: str) -> list[dict[str, Any]]:
    event = escape(inc.event_type)
    if inc.sub_event_type:
        event += f" — {escape(inc.sub_event_type)}"
    when = inc.occurred_on.isoformat() if inc.occurred_on else "not reported"
    fields = [
        _mrkdwn(toll_text(inc)),
        _mrkdwn(fit_lines(["*Place:*", *place_text(inc).split("\n")], FIELD_MAX)),
        _mrkdwn(f"*Date:*\n{when}"),
        _mrkdwn(truncate(f"*Perpetrator → targets:*\n{actors_text(inc)}", FIELD_MAX)),
        _mrkdwn(f"*Event:*\n{truncate(event, VALUE_MAX)}"),
        _mrkdwn(f"*Rule:*\n{code(rule, VALUE_MAX)}"),
    ]
    blocks: list[dict[str, Any]] = [{"type": "section", "fields": fields}]
    blocks.append({"type": "section", "text": _mrkdwn(f"*Sources:* {sources_text(inc)}")})
    if inc.evidence.strip():
        blocks.append({"type": "section", "text": _mrkdwn(quote(inc.evidence, SECTION_MAX))})
    return blocks


def _when(value: Any) -> str:
    """An ISO timestamp as ``2024-03-15 06:00 UTC`` (anything else shown as it is)."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return _value(value)


def _value(value: Any, limit: int = VALUE_MAX) -> str:
    """Any value from upstream, escaped and capped."""
    return truncate(escape(str(value)), limit)


def group_text(group_by: str, group: str) -> str:
    if group_by == "admin1":
        name = governorate_name(group)
        if name and name != group:
            return f"{_value(name)} ({_value(group, ITEM_MAX)})"
        return _value(group)
    if group_by == "perpetrator":
        return _value(actor_name(group))
    return _value(group)


def _window_blocks(alert: Alert) -> list[dict[str, Any]]:
    """Window and surge alerts: the period, the total against its threshold or baseline."""
    w = alert.window or {}
    metric = {"killed": "killed", "count": "incidents"}.get(str(w.get("metric")), "")
    total = f"{_value(w.get('total', '?'), ITEM_MAX)} {metric}".strip()
    if "threshold" in w:
        total += f" (threshold {_value(w['threshold'], ITEM_MAX)})"
    fields = [
        _mrkdwn(f"*Total:*\n{total}"),
        _mrkdwn(f"*Period:*\n{_when(w.get('start', '?'))} →\n{_when(w.get('end', '?'))}"),
    ]
    if w.get("group"):
        # a '*' would end the bold label early
        by = _value(str(w.get("group_by", "group")).replace("*", ""), ITEM_MAX)
        fields.append(_mrkdwn(f"*By {by}:*\n{group_text(str(w.get('group_by')), str(w['group']))}"))
    if alert.kind == "surge":
        baseline = _value(w.get("baseline_mean", "?"), ITEM_MAX)
        windows = _value(w.get("baseline_windows", "?"), ITEM_MAX)
        factor = _value(w.get("factor", "?"), ITEM_MAX)
        fields.append(
            _mrkdwn(f"*Baseline:*\nmean {baseline} over {windows} windows; ×{factor} fires")
        )
    fields.append(_mrkdwn(f"*Incidents:*\n{len(alert.incident_ids)}"))
    fields.append(_mrkdwn(f"*Rule:*\n{code(alert.rule, VALUE_MAX)}"))
    return [{"type": "section", "fields": fields}]


def _plain(text: str, limit: int = PLAIN_LABEL_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(drop_bidi_controls(text), limit), "emoji": True}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": _plain(label), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _mute_options(alert: Alert) -> list[dict[str, Any]]:
    """Option groups of the Mute… menu: the alert's governorate, then its sides, each × the
    durations of ``words.yaml``; values that do not fit are not offered."""
    scopes = ids.scope_values(alert)
    inc = alert.incident
    actors = [inc.perpetrator, *inc.targets] if inc is not None else sorted(scopes["actor"])
    actors = list(dict.fromkeys(actors))[:MUTE_ACTORS_MAX]
    names: list[tuple[ids.Scope, str, str]] = [
        ("governorate", g, governorate_name(g) or g) for g in sorted(scopes["governorate"])
    ]
    names += [("actor", a, actor_name(a)) for a in actors]
    groups: dict[ids.Scope, list[dict[str, Any]]] = {"governorate": [], "actor": []}
    for scope, value, name in names:
        for length, (label, _hours) in durations().items():
            encoded = ids.MuteChoice(scope, value, length).encode()
            if encoded is None:
                continue
            text = f"{clip(name, PLAIN_LABEL_MAX - len(label) - 3)} · {label}"
            groups[scope].append({"text": _plain(text), "value": encoded})
    titles = {"governorate": "mute.governorate_group", "actor": "mute.actor_group"}
    return [
        {"label": _plain(word(titles[scope])), "options": options[:OPTIONS_MAX]}
        for scope, options in groups.items()
        if options
    ]


def actions_block(alert: Alert) -> dict[str, Any] | None:
    """The buttons of an alert message; None when the alert's id cannot be carried."""
    ref = ids.AlertRef(alert.id, alert.revision)
    block_id = ref.block_id()
    value = ref.encode()
    if block_id is None or len(value) > ids.BUTTON_VALUE_MAX:
        return None
    elements: list[dict[str, Any]] = [
        _button(word("buttons.acknowledge"), ids.ACK, value, style="primary")
    ]
    groups = _mute_options(alert)
    if groups:
        elements.append(
            {
                "type": "static_select",
                "action_id": ids.MUTE,
                "placeholder": _plain(word("buttons.mute")),
                "option_groups": groups,
            }
        )
    if alert.incident is not None:
        elements += [
            _button(word("buttons.wrong_toll"), ids.WRONG_TOLL, value),
            _button(word("buttons.not_incident"), ids.NOT_INCIDENT, value),
            _button(word("buttons.duplicate"), ids.DUPLICATE, value),
        ]
    return {"type": "actions", "block_id": block_id, "elements": elements}


def desk_blocks(alert: Alert, desk: Desk) -> list[dict[str, Any]]:
    """The status line (when there is something to say) and the buttons (when offered)."""
    out: list[dict[str, Any]] = []
    if desk.lines:
        text = fit_lines(list(desk.lines), SECTION_MAX)
        out.append({"type": "context", "block_id": ids.DESK_BLOCK, "elements": [_mrkdwn(text)]})
    actions = actions_block(alert) if desk.buttons else None
    if actions is not None:
        out.append(actions)
    return out


def render(alert: Alert, desk: Desk | None = None, public_url: str = "") -> SlackMessage:
    """The full message for one alert revision (with the desk's part, where given, and the
    link to the incident's page on the web desk when ``public_url`` is set)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(alert)}}
    ]
    if alert.merged_into:
        blocks.append({"type": "section", "text": _mrkdwn(merged_text(alert.merged_into))})
    summary_ar = escape(alert.summary_ar)
    if summary_ar.strip():  # Slack refuses an empty text
        text = rtl_paragraph(truncate(summary_ar, SECTION_MAX - 2))
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    if alert.incident is not None:
        blocks.extend(_incident_blocks(alert.incident, alert.rule))
    else:
        blocks.extend(_window_blocks(alert))
    link = desk_link(alert, public_url)
    if link is not None:
        blocks.append({"type": "section", "text": _mrkdwn(f":world_map: {link}")})
    incidents = ", ".join(_value(i, ITEM_MAX) for i in alert.incident_ids[:5]) or "—"
    context = (
        f"Marsad · alert {code(alert.id, VALUE_MAX)} · revision {alert.revision} · "
        f"incidents {incidents} · created {alert.created_at.isoformat(timespec='minutes')}"
    )
    blocks.append({"type": "context", "elements": [_mrkdwn(truncate(context, SECTION_MAX))]})
    if desk is not None:
        blocks.extend(desk_blocks(alert, desk))
    return SlackMessage(
        text=fallback_text(alert), blocks=blocks, metadata=metadata(alert.id, alert.revision)
    )


def render_update_reply(alert: Alert, change_summary: str) -> SlackMessage:
    """The short threaded reply posted when a revision edits the original message."""
    text = escape(change_summary)
    lead = ":arrows_counterclockwise: "
    body = truncate(text, SECTION_MAX - len(lead))  # changes.summary already fits: a guard
    return SlackMessage(
        text=_with_marker(text, alert),
        blocks=[{"type": "section", "text": _mrkdwn(f"{lead}{body}")}],
        metadata=metadata(alert.id, alert.revision, part="reply"),
    )
