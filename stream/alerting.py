"""When to fire, and what: pure decisions over the "already fired" state the agents keep.

Why this is separate from the Faust agents: alert idempotency is the part that must be
right under redelivery, rebalances and restarts (Faust is at-least-once), so it is a plain
function of (rule, incident or window, fired state) that unit tests can hammer.

* An incident alert's id is ``"<rule>:<incident id>"``. It fires once (revision 1); a later
  *revision* of the incident that still matches re-emits the same id with the alert's
  revision + 1 and the list of changes. Processing the same incident revision twice
  yields nothing, so a redelivered message cannot ping twice.
* A window alert's id is ``"<rule>:<group>:<window start, ISO>"``; it fires once per
  window. With hopping windows, one surge crosses many overlapping windows at once, so
  a window that overlaps one already alerted for the same rule and group stays silent:
  one episode, one alert.
* A twin: when the stream finds two open incidents are one event, the absorbed one's last
  revision carries ``merged_into: <surviving incident id>``. Each alert already fired for
  it gets one last revision with ``merged_into: <the same rule's alert id for the
  survivor>`` (the notifier edits the message to point there, without a thread ping);
  nothing new fires for a twin, and nothing fires for it after that revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from marsad.records import Alert, StoredIncident
from stream.rules import IncidentRule, Level, SurgeRule, WindowRule
from stream.summary import (
    incident_summary_ar,
    incident_summary_en,
    window_summary_ar,
    window_summary_en,
)

__all__ = [
    "choose_window",
    "incident_alert_id",
    "incident_alert_ids",
    "incident_alerts",
    "merged_alerts",
    "window_alert",
    "window_alert_id",
]

WindowRange = tuple[float, float]


def incident_alert_id(rule: str, incident_id: str) -> str:
    return f"{rule}:{incident_id}"


def incident_alert_ids(rules: Sequence[IncidentRule], incident_id: str) -> list[str]:
    """Every id an incident's alerts can have: the ``fired-alerts`` entries to read before
    :func:`incident_alerts` decides."""
    return [incident_alert_id(rule.name, incident_id) for rule in rules]


def window_alert_id(rule: str, group: str, start: float) -> str:
    stamp = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{rule}:{group}:{stamp}"


def incident_alerts(
    rules: Sequence[IncidentRule],
    inc: StoredIncident,
    fired: Mapping[str, Mapping[str, Any]],
    changes: Sequence[str],
    now: datetime,
) -> list[tuple[Alert, dict[str, int]]]:
    """Alerts to emit for this incident revision, each with its new fired-state entry.

    ``fired`` maps alert id -> ``{"revision": alert revision, "incident_revision": n}``.
    Background incidents never fire (they should not reach here; this is the last guard).
    """
    if inc.merged_into:
        return merged_alerts(rules, inc, inc.merged_into, fired, now)
    if inc.background:
        return []
    out: list[tuple[Alert, dict[str, int]]] = []
    for rule in rules:
        if not rule.when.matches(inc):
            continue
        aid = incident_alert_id(rule.name, inc.id)
        prev = fired.get(aid)
        if prev is not None and prev.get("merged"):
            continue  # the twin's alert already pointed to the survivor: its last revision
        if prev is None:
            revision, alert_changes = 1, []
        elif inc.revision > int(prev["incident_revision"]):
            revision, alert_changes = int(prev["revision"]) + 1, list(changes)
        else:
            continue  # this incident revision was already alerted (redelivery, restart)
        alert = _incident_alert(aid, rule, inc, revision, now, alert_changes)
        out.append((alert, {"revision": revision, "incident_revision": inc.revision}))
    return out


def _incident_alert(
    aid: str,
    rule: IncidentRule,
    inc: StoredIncident,
    revision: int,
    now: datetime,
    changes: list[str],
    merged_into: str | None = None,
) -> Alert:
    """An incident alert revision, its summaries built from the incident's fields now."""
    return Alert(
        id=aid,
        rule=rule.name,
        severity=rule.severity_for(inc),
        incident_ids=[inc.id],
        summary_ar=incident_summary_ar(inc),
        summary_en=incident_summary_en(inc),
        revision=revision,
        created_at=now,
        kind="incident",
        incident=inc,
        changes=changes,
        merged_into=merged_into,
    )


def merged_alerts(
    rules: Sequence[IncidentRule],
    twin: StoredIncident,
    survivor_id: str,
    fired: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> list[tuple[Alert, dict[str, int]]]:
    """The last revision of each alert already fired for ``twin``, absorbed by ``survivor_id``.

    Whether the rule still matches does not matter (the message must stop claiming a
    separate event); a rule that never fired for the twin stays silent. Once recorded
    (``"merged": 1``), a redelivery of the same revision yields nothing.
    """
    out: list[tuple[Alert, dict[str, int]]] = []
    for rule in rules:
        aid = incident_alert_id(rule.name, twin.id)
        prev = fired.get(aid)
        if prev is None or prev.get("merged"):
            continue
        into = incident_alert_id(rule.name, survivor_id)
        revision = int(prev["revision"]) + 1
        alert = _incident_alert(
            aid, rule, twin, revision, now, [f"merged into {into}"], merged_into=into
        )
        state = {"revision": revision, "incident_revision": twin.revision, "merged": 1}
        out.append((alert, state))
    return out


def _overlaps(a: WindowRange, b: Sequence[float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def choose_window(
    totals: Sequence[tuple[WindowRange, int]],
    threshold: int,
    fired: Sequence[Sequence[float]],
) -> WindowRange | None:
    """The window to alert: the earliest-starting one at or over ``threshold`` that does
    not overlap a window already alerted for the same rule and group."""
    for rng, total in sorted(totals, key=lambda t: t[0][0]):
        if total >= threshold and not any(_overlaps(rng, f) for f in fired):
            return rng
    return None


def window_alert(
    rule: WindowRule | SurgeRule,
    group: str,
    rng: WindowRange,
    total: int,
    incident_ids: Sequence[str],
    now: datetime,
    baseline_mean: float | None = None,
) -> Alert:
    start, end = rng
    extra_en = extra_ar = ""
    kind: Literal["window", "surge"] = "window"
    window: dict[str, Any] = {
        "group_by": rule.group_by,
        "group": group,
        "metric": rule.metric,
        "start": datetime.fromtimestamp(start, UTC).isoformat(),
        "end": datetime.fromtimestamp(end, UTC).isoformat(),
        "total": total,
    }
    severity: Level = rule.severity
    if isinstance(rule, SurgeRule):
        kind = "surge"
        window.update(
            baseline_mean=round(baseline_mean or 0.0, 3),
            baseline_windows=rule.baseline_windows,
            factor=rule.factor,
        )
        extra_en = f"surge: {rule.factor:g}x over a baseline of {baseline_mean or 0:.1f}"
        extra_ar = f"ارتفاع حاد: المعدل السابق {baseline_mean or 0:.1f}"
    else:
        window["threshold"] = rule.threshold
    return Alert(
        id=window_alert_id(rule.name, group, start),
        rule=rule.name,
        severity=severity,
        incident_ids=sorted(incident_ids),
        summary_ar=window_summary_ar(rule.metric, group, total, start, end, extra_ar),
        summary_en=window_summary_en(rule.name, rule.metric, group, total, start, end, extra_en),
        revision=1,
        created_at=now,
        kind=kind,
        window=window,
    )
