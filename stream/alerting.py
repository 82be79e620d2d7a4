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
* A renamed event: an incident is named by its earliest-published report, so a report
  published earlier but read later renames the event it joins (the old incident becomes a
  twin of the new name). An alert already posted for the twin, under a rule the survivor
  matches and has no alert of its own for, *lives on*: the survivor's revision continues it
  (same alert id, next revision, the changes since the twin: an edit and a thread note, no
  new post), and ``fired-alerts`` remembers ``<rule>:<survivor> → {"as": <living id>}`` so
  the survivor's later revisions continue it too. One event, one alert, in any order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from marsad.records import Alert, StoredIncident
from stream.merge import changes_between
from stream.rules import IncidentRule, Level, SurgeRule, WindowRule
from stream.summary import (
    incident_summary_ar,
    incident_summary_en,
    window_summary_ar,
    window_summary_en,
)

__all__ = [
    "choose_window",
    "fired_entries",
    "incident_alert_id",
    "incident_alert_ids",
    "incident_alerts",
    "known_alerts",
    "living_alerts",
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


def known_alerts(
    fired: Mapping[str, Mapping[str, Any]], ids: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """The ``fired-alerts`` entries of ``ids``, and of the living alerts they point to."""
    was: dict[str, Mapping[str, Any]] = {aid: fired[aid] for aid in ids if aid in fired}
    for entry in list(was.values()):
        target = entry.get("as")
        if target and target in fired:
            was[str(target)] = fired[target]
    return was


def _resolve(fired: Mapping[str, Mapping[str, Any]], aid: str) -> str:
    """The id of the alert that speaks for ``aid``: itself, or the one it continues."""
    entry = fired.get(aid)
    return str(entry["as"]) if entry is not None and entry.get("as") else aid


@dataclass(frozen=True)
class Living:
    """The alert that speaks for an incident under one rule, and the twin it came from."""

    alert_id: str
    #: the absorbed incident whose alert the survivor continues (None: its own alert)
    twin: StoredIncident | None = None


def living_alerts(
    rules: Sequence[IncidentRule],
    survivor: StoredIncident,
    twins: Sequence[StoredIncident],
    fired: Mapping[str, Mapping[str, Any]],
) -> dict[str, Living]:
    """Rule name → the alert that lives on for ``survivor`` after it absorbed ``twins``.

    Its own alert if it has one; else, for a rule it matches, the first twin's alert already
    posted (and not merged away); else none (a new alert fires under the survivor's id).
    ``fired`` must hold the entries :func:`known_alerts` reads for the survivor and twins.
    """
    out: dict[str, Living] = {}
    for rule in rules:
        own = incident_alert_id(rule.name, survivor.id)
        if own in fired:
            out[rule.name] = Living(_resolve(fired, own))
            continue
        if survivor.merged_into or survivor.background or not rule.when.matches(survivor):
            continue
        for twin in twins:
            aid = _resolve(fired, incident_alert_id(rule.name, twin.id))
            prev = fired.get(aid)
            if prev is not None and not prev.get("merged"):
                out[rule.name] = Living(aid, twin)
                break
    return out


def fired_entries(alert: Alert, state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``fired-alerts`` writes for one emitted alert: its state, and for a continued
    alert the survivor's pointer to it."""
    entry = {k: v for k, v in state.items() if k != "alias"}
    out: dict[str, dict[str, Any]] = {alert.id: entry}
    if state.get("alias"):
        out[str(state["alias"])] = {"as": alert.id}
    return out


def incident_alerts(
    rules: Sequence[IncidentRule],
    inc: StoredIncident,
    fired: Mapping[str, Mapping[str, Any]],
    changes: Sequence[str],
    now: datetime,
    living: Mapping[str, Living] | None = None,
) -> list[tuple[Alert, dict[str, Any]]]:
    """Alerts to emit for this incident revision, each with its new fired-state entry
    (written with :func:`fired_entries`).

    ``fired`` maps alert id -> ``{"revision": alert revision, "incident_revision": n}`` (or
    ``{"as": living alert id}``). ``living`` is :func:`living_alerts` for the merge step's
    survivor (and passed unchanged for its twins). Background incidents never fire (they
    should not reach here; this is the last guard).
    """
    living = living or {}
    if inc.merged_into:
        return merged_alerts(rules, inc, inc.merged_into, fired, now, living)
    if inc.background:
        return []
    out: list[tuple[Alert, dict[str, Any]]] = []
    for rule in rules:
        if not rule.when.matches(inc):
            continue
        own = incident_alert_id(rule.name, inc.id)
        lives = living.get(rule.name)
        aid = lives.alert_id if lives is not None else _resolve(fired, own)
        prev = fired.get(aid)
        state: dict[str, Any]
        if prev is not None and prev.get("merged"):
            continue  # the twin's alert already pointed to the survivor: its last revision
        if prev is None:
            revision, alert_changes = 1, []
        elif lives is not None and lives.twin is not None:
            # the survivor continues a twin's alert: an update, whatever its own revision
            revision = int(prev["revision"]) + 1
            alert_changes = changes_between(lives.twin, inc) or ["an earlier report joined"]
        elif inc.revision > int(prev["incident_revision"]):
            revision, alert_changes = int(prev["revision"]) + 1, list(changes)
        else:
            continue  # this incident revision was already alerted (redelivery, restart)
        alert = _incident_alert(aid, rule, inc, revision, now, alert_changes)
        state = {"revision": revision, "incident_revision": inc.revision}
        if aid != own and own not in fired:
            state["alias"] = own
        out.append((alert, state))
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
    living: Mapping[str, Living] | None = None,
) -> list[tuple[Alert, dict[str, Any]]]:
    """The last revision of each alert already fired for ``twin``, absorbed by ``survivor_id``.

    Whether the rule still matches does not matter (the message must stop claiming a
    separate event); a rule that never fired for the twin stays silent, and an alert the
    survivor continues (``living``) is not closed but updated by the survivor's revision. It
    points to the alert that lives on for the survivor. Once recorded (``"merged": 1``), a
    redelivery of the same revision yields nothing.
    """
    living = living or {}
    out: list[tuple[Alert, dict[str, Any]]] = []
    for rule in rules:
        aid = _resolve(fired, incident_alert_id(rule.name, twin.id))
        prev = fired.get(aid)
        if prev is None or prev.get("merged"):
            continue
        lives = living.get(rule.name)
        if lives is not None and lives.alert_id == aid:
            continue  # the survivor's revision continues this alert
        into = lives.alert_id if lives is not None else incident_alert_id(rule.name, survivor_id)
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
