"""What changed between two revisions of an alert, in words for the thread reply.

Why keep "facts": the ledger stores this small dict per delivered revision, so the notifier
can say "toll 30 → 64, 2 new sources" even when the upstream alert carries no ``changes``,
without keeping whole alerts around or reaching back into the stream room.
"""

from __future__ import annotations

from typing import Any

from alerts.mrkdwn import escape, slack_len, truncate
from marsad.records import Alert

#: the reply's sentence, escaped, fits one section after its emoji (Slack: 3,000)
SUMMARY_MAX = 2900
#: one phrase, escaped (upstream ``changes`` are free text)
PHRASE_MAX = 300


def facts(alert: Alert) -> dict[str, Any]:
    """The few figures a reader compares between revisions."""
    inc = alert.incident
    sources: set[str] = set()
    if inc is not None:
        sources.update(inc.sources)
        sources.update(inc.urls)
    return {
        "severity": alert.severity,
        "killed": inc.killed if inc else None,
        "injured": inc.injured if inc else None,
        "place": inc.location.name_en if inc and inc.location else None,
        "sources": sorted(sources),
    }


def _num(value: Any) -> str:
    return "?" if value is None else str(value)


def describe(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Phrases such as ``toll 30 → 64`` and ``2 new sources``; empty if nothing visible moved."""
    if not previous:
        return []
    out: list[str] = []
    if previous.get("killed") != current.get("killed"):
        out.append(f"toll {_num(previous.get('killed'))} → {_num(current.get('killed'))}")
    if previous.get("injured") != current.get("injured"):
        out.append(f"injured {_num(previous.get('injured'))} → {_num(current.get('injured'))}")
    if previous.get("severity") != current.get("severity"):
        out.append(f"severity {previous.get('severity')} → {current.get('severity')}")
    if previous.get("place") != current.get("place") and current.get("place"):
        out.append(f"place {previous.get('place') or '?'} → {current.get('place')}")
    new_sources = set(current.get("sources") or []) - set(previous.get("sources") or [])
    if new_sources:
        n = len(new_sources)
        out.append(f"{n} new source{'s' if n != 1 else ''}")
    return out


def summary(alert: Alert, previous: dict[str, Any] | None) -> str:
    """The thread reply's sentence: upstream's own ``changes`` if given, else our diff."""
    phrases = list(alert.changes) or describe(previous, facts(alert))
    head = f"Updated to revision {alert.revision}: "
    body = _within(phrases, SUMMARY_MAX - len(head)) if phrases else "details revised"
    return head + body


def _more_changes(n: int) -> str:
    return f" (+{n} more change{'s' if n != 1 else ''})"


def _within(phrases: list[str], limit: int) -> str:
    """Whole phrases, each capped, within ``limit`` once escaped for Slack, then the note
    for the rest ("(+N more changes)"), which is always kept."""
    capped = [_cap(p) for p in phrases]
    kept = used = 0
    for k, phrase in enumerate(capped, 1):
        used += slack_len(escape(phrase)) + (2 if k > 1 else 0)
        if used > limit:
            break
        rest = len(capped) - k
        if used + (len(_more_changes(rest)) if rest else 0) <= limit:
            kept = k
    rest = len(capped) - kept
    return (", ".join(capped[:kept]) + (_more_changes(rest) if rest else "")).strip()


def _cap(phrase: str) -> str:
    """A phrase whose escaped form is at most :data:`PHRASE_MAX` (cut between escapes)."""
    if slack_len(escape(phrase)) <= PHRASE_MAX:
        return phrase
    cut = truncate(escape(phrase), PHRASE_MAX)
    return cut.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
