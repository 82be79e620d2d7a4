"""Window and surge alerts: what one window update does to a group's windows.

The ``aggregate-windows`` agent keeps, per window/surge rule, a Faust windowed table whose
key is ``<rule>|<group>`` and whose value per window is ``{incident id: metric}``. Everything
about that state which is not Faust lives here as plain functions of plain values, so the
part that decides whether a window alerts (and a surge's baseline) is tested without a
broker:

* :func:`window_updates` — which window rules an incident counts in, and with what value
  (the ``window-updates`` messages the merge agent sends);
* :func:`set_member` — the window op: an incident's latest metric replaces its previous
  one, so a redelivered update or a revised toll cannot count twice;
* :func:`windows_to_forget` — the windows far enough behind in *event* time to drop;
* :func:`window_firing` — which window alert (if any) fires now, and the new "already
  fired" list for the group.

Window geometry (which windows contain a timestamp) is Faust's own: :func:`window_of` is
both the window of the rule's table and what these functions ask where windows start and
end, so the decisions and the table cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from faust.windows import HoppingWindow, TumblingWindow, Window

from marsad.records import Alert, StoredIncident
from stream.alerting import WindowRange, choose_window, window_alert
from stream.rules import RuleSet, SurgeRule, WindowRule, group_value, metric_value

__all__ = [
    "FIRED_KEPT",
    "Members",
    "WindowFiring",
    "WindowUpdate",
    "already_fired",
    "parse_window_update",
    "record_fired",
    "retention",
    "set_member",
    "surge_baseline_windows",
    "window_firing",
    "window_key",
    "window_of",
    "window_updates",
    "windowed_rules",
    "windows_at",
    "windows_to_forget",
]

AnyWindowRule = WindowRule | SurgeRule
#: Read one window's members, ``{incident id: metric}`` (``{}`` for a window never written).
Members = Callable[[WindowRange], Mapping[str, int]]

#: Windows remembered per group as "already alerted". Only windows that can still overlap
#: a new one matter, and those are the last few; the cap keeps the state's size bounded.
FIRED_KEPT = 64


def windowed_rules(rules: RuleSet) -> dict[str, AnyWindowRule]:
    """The window and surge rules by name: each has its own windowed table."""
    out: dict[str, AnyWindowRule] = {r.name: r for r in rules.window_rules}
    out.update({r.name: r for r in rules.surge_rules})
    return out


def window_key(rule: str, group: str) -> str:
    """``<rule>|<group>``: the Kafka key of a window update and the windowed table's key."""
    return f"{rule}|{group}"


def window_of(rule: AnyWindowRule) -> Window:
    """The Faust window of a rule's table: hopping when the rule says so, else tumbling
    (a surge compares whole, non-overlapping windows)."""
    if isinstance(rule, WindowRule) and rule.window.type == "hopping":
        assert rule.window.step is not None
        return HoppingWindow(rule.window.size, rule.window.step)
    return TumblingWindow(rule.window.size)


@dataclass(frozen=True)
class WindowUpdate:
    """One ``window-updates`` message: count ``incident_id`` as ``value`` in ``group``."""

    rule: str
    group: str
    incident_id: str
    value: int

    @property
    def key(self) -> str:
        return window_key(self.rule, self.group)

    def to_bytes(self) -> bytes:
        update = {
            "rule": self.rule,
            "group": self.group,
            "incident_id": self.incident_id,
            "value": self.value,
        }
        return json.dumps(update).encode()


def window_updates(rules: Iterable[AnyWindowRule], inc: StoredIncident) -> list[WindowUpdate]:
    """The update for every rule whose filter the incident passes, in rule order.

    Sent for every new incident and every change: the metric is the incident's latest
    (``killed`` after a revision), and :func:`set_member` replaces the old value."""
    return [
        WindowUpdate(rule.name, group_value(rule, inc), inc.id, metric_value(rule, inc))
        for rule in rules
        if rule.where.matches(inc)
    ]


def parse_window_update(
    raw: bytes, rules: Mapping[str, AnyWindowRule]
) -> tuple[AnyWindowRule, WindowUpdate]:
    """The rule and update a ``window-updates`` value names. Raises (``ValueError``,
    ``KeyError`` for an unknown rule or a missing field…) on anything else; the agent
    sends such a message to the dead-letter topic."""
    update = json.loads(raw)
    rule = rules[update["rule"]]
    return rule, WindowUpdate(
        rule.name, str(update["group"]), str(update["incident_id"]), int(update["value"])
    )


def set_member(members: dict[str, int] | None, item: tuple[str, int]) -> dict[str, int]:
    """Window op: record an incident's latest metric (a fresh dict, so the changelog sees it)."""
    out = dict(members or {})
    out[item[0]] = item[1]
    return out


def retention(rule: AnyWindowRule) -> float:
    """How far behind an update's event time a window may still matter (then it is dropped).

    A surge looks back ``baseline_windows`` windows, a window rule only at the windows
    containing the update. Faust's own window expiry runs on wall-clock time, which would
    drop every window of an archive replay at once; this is event time, like everything
    else here.
    """
    if isinstance(rule, SurgeRule):
        return rule.window.size * (rule.baseline_windows + 2)
    return rule.window.size * 3


def windows_at(rule: AnyWindowRule, ts: float) -> list[WindowRange]:
    """The rule's windows that contain ``ts``, oldest first (Faust's ``Window.ranges``)."""
    return [(r[0], r[1]) for r in window_of(rule).ranges(ts)]


def windows_to_forget(rule: AnyWindowRule, ts: float) -> list[WindowRange]:
    """The windows containing ``ts - retention(rule)``. Deleting them on every update, as
    events move on, keeps a group's windowed state to a few windows."""
    return windows_at(rule, ts - retention(rule))


def surge_baseline_windows(rule: SurgeRule, current: WindowRange) -> list[WindowRange]:
    """The ``baseline_windows`` windows before ``current``, nearest first.

    Each is found by its midpoint (``k`` sizes back, plus half a size), so float starts
    cannot put it in a neighbouring window."""
    size = rule.window.size
    return [
        windows_at(rule, current[0] - k * size + size / 2)[-1]
        for k in range(1, rule.baseline_windows + 1)
    ]


def already_fired(rng: WindowRange, fired: Sequence[Sequence[float]]) -> bool:
    """A surge window fires once: a window with this start is already in ``fired``."""
    return any(abs(f[0] - rng[0]) < 1e-6 for f in fired)


def record_fired(fired: Sequence[Sequence[float]], rng: WindowRange) -> list[list[float]]:
    """The group's new "already alerted" list: ``rng`` appended, the last ``FIRED_KEPT`` kept."""
    return [*(list(f) for f in fired), list(rng)][-FIRED_KEPT:]


@dataclass(frozen=True)
class WindowFiring:
    """A window alert to send, and the group's "already alerted" list to store once the
    alert's delivery is confirmed."""

    alert: Alert
    window: WindowRange
    fired: list[list[float]]


def window_firing(
    rule: AnyWindowRule,
    group: str,
    ts: float,
    members: Members,
    fired: Sequence[Sequence[float]],
    now: datetime,
) -> WindowFiring | None:
    """The alert an update at event time ``ts`` fires for ``group``, if any.

    * window rule: among the windows containing ``ts``, the earliest at or over the
      threshold that overlaps no window already alerted (:func:`choose_window`);
    * surge rule: the (tumbling) window containing ``ts``, unless it already fired, when
      its total is at least ``min_count`` and ``factor`` times the mean of the
      ``baseline_windows`` windows before it (:meth:`SurgeRule.fires`; windows never
      written count 0).
    """
    ranges = windows_at(rule, ts)
    if isinstance(rule, WindowRule):
        totals = [(r, sum(members(r).values())) for r in ranges]
        rng = choose_window(totals, rule.threshold, fired)
        if rng is None:
            return None
        chosen = members(rng)
        alert = window_alert(rule, group, rng, sum(chosen.values()), list(chosen), now)
    else:
        rng = ranges[-1]
        if already_fired(rng, fired):
            return None
        current = members(rng)
        baseline = [sum(members(r).values()) for r in surge_baseline_windows(rule, rng)]
        total = sum(current.values())
        fires, mean = rule.fires(total, baseline)
        if not fires:
            return None
        alert = window_alert(rule, group, rng, total, list(current), now, baseline_mean=mean)
    return WindowFiring(alert=alert, window=rng, fired=record_fired(fired, rng))
