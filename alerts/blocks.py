"""Alert → Slack Block Kit message (pure: no I/O, no clock).

Layout, top to bottom: a header (severity + English one-liner), the Arabic summary, a grid
of fields (toll per side, place in Arabic and English with governorate, date, perpetrator →
targets, event type, rule), sources with links, the Arabic evidence as a quote, and a small
context line naming the alert id and revision.  ``text`` is the plain fallback shown in
notifications and by clients that do not render blocks.

Every string that comes from an article or from upstream summaries is escaped with
:func:`alerts.mrkdwn.escape` before it enters a mrkdwn element; the header is ``plain_text``
(Slack parses no mentions or links there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.labels import QUALIFIER_WORDS, SEVERITY_EMOJI, actor_name, governorate_name
from alerts.mrkdwn import escape, isolate_rtl, quote, rtl_paragraph, safe_link, truncate
from marsad.records import Alert, StoredIncident

#: Slack's documented limits.
HEADER_MAX = 150
FIELD_MAX = 2000
SECTION_MAX = 3000
TEXT_MAX = 3000
MAX_LINKS = 8

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


def marker(alert_id: str, revision: int) -> str:
    """The id tag in the fallback text; a second way (after metadata) to recognise a post."""
    return f"[alert {alert_id} r{revision}]"


def metadata(alert_id: str, revision: int, part: str = "message") -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"alert_id": alert_id, "revision": revision, "part": part},
    }


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
        per_side = ", ".join(f"{escape(actor_name(a))} {n}" for a, n in sides)
        lines.append(f"*Killed per side:* {per_side}")
    return "\n".join(lines)


def place_text(inc: StoredIncident) -> str:
    loc = inc.location
    if loc is None:
        return "not reported"
    # English first: the line stays left-to-right whatever the client's direction guess.
    names = [escape(loc.name_en), isolate_rtl(escape(loc.name_ar))]
    line = " · ".join(n for n in names if n)
    gov = governorate_name(loc.admin1)
    if gov and loc.admin1:
        line += f"\n{escape(gov)} ({escape(loc.admin1)})"
    return line


def actors_text(inc: StoredIncident) -> str:
    targets = ", ".join(escape(actor_name(t)) for t in inc.targets) or "not reported"
    return f"{escape(actor_name(inc.perpetrator))} → {targets}"


def sources_text(inc: StoredIncident) -> str:
    names = ", ".join(escape(s) for s in inc.sources)
    links = " · ".join(safe_link(u) for u in inc.urls[:MAX_LINKS])
    if len(inc.urls) > MAX_LINKS:
        links += f" (+{len(inc.urls) - MAX_LINKS} more)"
    return "\n".join(p for p in (names, links) if p) or "not reported"


def header_text(alert: Alert) -> str:
    emoji = SEVERITY_EMOJI.get(alert.severity, "")
    summary = alert.summary_en or alert.summary_ar or alert.rule
    tag = " (merged)" if alert.merged_into else " (updated)" if alert.revision > 1 else ""
    return truncate(f"{emoji} {alert.severity.upper()} · {summary}{tag}".strip(), HEADER_MAX)


def merged_text(into: str) -> str:
    """The line a twin's last revision shows: the event goes on in the surviving alert."""
    return f":link: Merged into alert `{escape(into)}`: the same event; updates continue there."


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
    text = " — ".join(parts)
    return truncate(text, TEXT_MAX - 60) + " " + escape(marker(alert.id, alert.revision))


def _incident_blocks(inc: StoredIncident, rule: str) -> list[dict[str, Any]]:
    event = escape(inc.event_type)
    if inc.sub_event_type:
        event += f" — {escape(inc.sub_event_type)}"
    when = inc.occurred_on.isoformat() if inc.occurred_on else "not reported"
    fields = [
        _mrkdwn(truncate(toll_text(inc), FIELD_MAX)),
        _mrkdwn(truncate(f"*Place:*\n{place_text(inc)}", FIELD_MAX)),
        _mrkdwn(f"*Date:*\n{when}"),
        _mrkdwn(truncate(f"*Perpetrator → targets:*\n{actors_text(inc)}", FIELD_MAX)),
        _mrkdwn(f"*Event:*\n{event}"),
        _mrkdwn(f"*Rule:*\n`{escape(rule)}`"),
    ]
    blocks: list[dict[str, Any]] = [{"type": "section", "fields": fields}]
    blocks.append(
        {
            "type": "section",
            "text": _mrkdwn(truncate(f"*Sources:* {sources_text(inc)}", SECTION_MAX)),
        }
    )
    if inc.evidence.strip():
        blocks.append(
            {"type": "section", "text": _mrkdwn(truncate(quote(inc.evidence), SECTION_MAX))}
        )
    return blocks


def _when(value: Any) -> str:
    """An ISO timestamp as ``2024-03-15 06:00 UTC`` (anything else shown as it is)."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return escape(str(value))


def group_text(group_by: str, group: str) -> str:
    if group_by == "admin1":
        name = governorate_name(group)
        return f"{escape(name)} ({escape(group)})" if name and name != group else escape(group)
    if group_by == "perpetrator":
        return escape(actor_name(group))
    return escape(group)


def _window_blocks(alert: Alert) -> list[dict[str, Any]]:
    """Window and surge alerts: the period, the total against its threshold or baseline."""
    w = alert.window or {}
    metric = {"killed": "killed", "count": "incidents"}.get(str(w.get("metric")), "")
    total = f"{escape(str(w.get('total', '?')))} {metric}".strip()
    if "threshold" in w:
        total += f" (threshold {escape(str(w['threshold']))})"
    fields = [
        _mrkdwn(f"*Total:*\n{total}"),
        _mrkdwn(f"*Period:*\n{_when(w.get('start', '?'))} →\n{_when(w.get('end', '?'))}"),
    ]
    if w.get("group"):
        by = escape(str(w.get("group_by", "group")))
        fields.append(_mrkdwn(f"*By {by}:*\n{group_text(str(w.get('group_by')), str(w['group']))}"))
    if alert.kind == "surge":
        baseline = escape(str(w.get("baseline_mean", "?")))
        windows = escape(str(w.get("baseline_windows", "?")))
        factor = escape(str(w.get("factor", "?")))
        fields.append(
            _mrkdwn(f"*Baseline:*\nmean {baseline} over {windows} windows; ×{factor} fires")
        )
    fields.append(_mrkdwn(f"*Incidents:*\n{len(alert.incident_ids)}"))
    fields.append(_mrkdwn(f"*Rule:*\n`{escape(alert.rule)}`"))
    return [{"type": "section", "fields": fields}]


def render(alert: Alert) -> SlackMessage:
    """The full message for one alert revision."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(alert)}}
    ]
    if alert.merged_into:
        blocks.append({"type": "section", "text": _mrkdwn(merged_text(alert.merged_into))})
    if alert.summary_ar:
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(truncate(rtl_paragraph(escape(alert.summary_ar)), SECTION_MAX)),
            }
        )
    if alert.incident is not None:
        blocks.extend(_incident_blocks(alert.incident, alert.rule))
    else:
        blocks.extend(_window_blocks(alert))
    incidents = ", ".join(escape(i) for i in alert.incident_ids[:5]) or "—"
    context = (
        f"Marsad · alert `{escape(alert.id)}` · revision {alert.revision} · "
        f"incidents {incidents} · created {alert.created_at.isoformat(timespec='minutes')}"
    )
    blocks.append({"type": "context", "elements": [_mrkdwn(truncate(context, SECTION_MAX))]})
    return SlackMessage(
        text=fallback_text(alert), blocks=blocks, metadata=metadata(alert.id, alert.revision)
    )


def render_update_reply(alert: Alert, change_summary: str) -> SlackMessage:
    """The short threaded reply posted when a revision edits the original message."""
    text = escape(change_summary)
    return SlackMessage(
        text=f"{text} {escape(marker(alert.id, alert.revision))}",
        blocks=[{"type": "section", "text": _mrkdwn(f":arrows_counterclockwise: {text}")}],
        metadata=metadata(alert.id, alert.revision, part="reply"),
    )
