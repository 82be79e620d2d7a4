"""The timeline: incidents and deaths per day, stacked by governorate or actor, as SVG bars.

Pure layout: the store's :class:`~desk.store.records.DailyCount` rows and the thresholds in,
rectangles, axis ticks and threshold lines out; the template only writes them. Why laid out
here and not in JavaScript: the page needs no script to show a chart, and the layout is
tested like any function.

Stacks: the keys with the largest totals get their own colour (:data:`PALETTE`, readable on
white and told apart by most colour-blind readers), the rest are summed as "other", so a
busy fortnight does not turn into thirty shades.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from desk.store.records import DailyCount
from desk.web.thresholds import Metric, Threshold

#: Okabe–Ito and Tableau colours: distinct for most colour-blind readers
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#8c564b",
    "#7f7f7f",
)
OTHER = "other"
OTHER_COLOUR = "#c7c7c7"
UNKNOWN = "not said"

WIDTH = 960.0
HEIGHT = 260.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 12.0, 14.0, 30.0
#: the most days one chart draws (a longer range shows its last days)
MAX_DAYS = 400


@dataclass(frozen=True)
class Bar:
    day: date
    key: str
    x: float
    y: float
    width: float
    height: float
    fill: str
    value: int
    title: str


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class DayTick:
    label: str
    x: float


@dataclass(frozen=True)
class Line:
    rule: str
    value: float
    y: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    key: str
    name: str
    fill: str


@dataclass(frozen=True)
class Chart:
    metric: Metric
    title: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    days: tuple[DayTick, ...]
    lines: tuple[Line, ...]
    legend: tuple[LegendEntry, ...]
    total: int
    width: float = WIDTH
    height: float = HEIGHT
    left: float = LEFT
    bottom: float = HEIGHT - BOTTOM


def day_range(counts: Sequence[DailyCount], since: date | None, until: date | None) -> list[date]:
    """Every day of the view: the filter's bounds, else the data's, at most :data:`MAX_DAYS`."""
    days = [c.day for c in counts]
    first = since or (min(days) if days else until or date.today())
    last = until or max([*days, first])
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _nice_max(value: float) -> float:
    """A round top for the axis (5, 10, 20, 50 … at or above ``value``): its five ticks are
    whole numbers, as counts of incidents and deaths are."""
    if value <= 5:
        return 5.0
    step = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return float(m * step)
    return float(10 * step)


def colours(
    counts: Iterable[DailyCount], metric: Metric, slots: int = len(PALETTE)
) -> dict[str, str]:
    """Each key's colour: the ``slots`` biggest by total (then by name), the rest "other"."""
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        totals[c.key or UNKNOWN] += c.incidents if metric == "incidents" else c.deaths
    ranked = sorted((k for k, v in totals.items() if v > 0), key=lambda k: (-totals[k], k))
    named = {k: PALETTE[i] for i, k in enumerate(ranked[:slots])}
    named.update({k: OTHER_COLOUR for k in ranked[slots:]})
    return named


def chart(
    counts: Sequence[DailyCount],
    metric: Metric,
    days: Sequence[date],
    thresholds: Iterable[Threshold] = (),
    name: Callable[[str], str] = str,
    fills: dict[str, str] | None = None,
) -> Chart:
    """One stacked bar chart of ``metric`` per day; ``name`` turns a key into its label;
    ``fills`` gives the keys' colours (default: ranked by this metric), so that two charts
    of one view can colour a governorate alike."""
    fills = fills if fills is not None else colours(counts, metric)
    index = {d: i for i, d in enumerate(days)}
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        value = c.incidents if metric == "incidents" else c.deaths
        if c.day in index and value > 0:
            key = c.key or UNKNOWN
            per_day[c.day][OTHER if fills.get(key) == OTHER_COLOUR else key] += value
    daily = [t for t in thresholds if t.metric == metric and t.daily]
    peak = max([sum(v.values()) for v in per_day.values()] + [t.value for t in daily] + [0])
    top = _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    order = [*dict.fromkeys(k for k in fills if fills[k] != OTHER_COLOUR), OTHER]
    bars = []
    for day, stack in sorted(per_day.items()):
        base = 0
        for key in order:
            value = stack.get(key, 0)
            if not value:
                continue
            label = "other" if key == OTHER else name(key)
            bars.append(
                Bar(
                    day=day,
                    key=key,
                    x=round(LEFT + index[day] * slot + slot * 0.1, 1),
                    y=y_of(base + value),
                    width=round(max(slot * 0.8, 1.0), 1),
                    height=round(plot_h * value / top, 1),
                    fill=OTHER_COLOUR if key == OTHER else fills[key],
                    value=value,
                    title=f"{day}: {label} {value}",
                )
            )
            base += value
    every = max(1, math.ceil(len(days) / 12))
    day_ticks = tuple(
        DayTick(label=d.strftime("%d %b"), x=round(LEFT + i * slot + slot / 2, 1))
        for i, d in enumerate(days)
        if i % every == 0
    )
    ticks = tuple(Tick(value=top * i / 5, y=y_of(top * i / 5)) for i in range(6))
    lines = tuple(
        Line(
            rule=t.rule,
            value=t.value,
            y=y_of(t.value),
            label=f"{t.rule} ≥ {t.value:g}"
            + (f" ({t.scope})" if t.scope else "")
            + (f" and {t.factor:g}× its mean" if t.factor else ""),
        )
        for t in daily
    )
    used = {b.key for b in bars}
    legend = tuple(
        LegendEntry(
            key=k,
            name="other" if k == OTHER else name(k),
            fill=OTHER_COLOUR if k == OTHER else fills[k],
        )
        for k in order
        if k in used
    )
    title = "Incidents per day" if metric == "incidents" else "Deaths per day"
    return Chart(
        metric=metric,
        title=title,
        bars=tuple(bars),
        ticks=ticks,
        days=day_ticks,
        lines=lines,
        legend=legend,
        total=sum(b.value for b in bars),
    )


@dataclass(frozen=True)
class TollDot:
    revision: int
    killed: int
    x: float
    y: float


@dataclass(frozen=True)
class TollChart:
    """An incident's toll over its revisions: a step line (the toll holds until revised)."""

    dots: tuple[TollDot, ...]
    #: the SVG polyline's ``points``
    line: str
    top: int
    width: float = 320.0
    height: float = 90.0


def toll_chart(revisions: Sequence[tuple[int, int | None]]) -> TollChart | None:
    """``(revision, killed)`` oldest first → the chart, or ``None`` with fewer than two
    reported tolls (nothing to compare)."""
    known = [(r, k) for r, k in revisions if k is not None]
    if len(known) < 2:
        return None
    width, height, pad = 320.0, 90.0, 14.0
    top = int(_nice_max(max(k for _, k in known)))
    step = (width - 2 * pad) / (len(known) - 1)

    def y(k: int) -> float:
        return round(height - pad - (height - 2 * pad) * k / top, 1)

    dots = tuple(
        TollDot(revision=r, killed=k, x=round(pad + i * step, 1), y=y(k))
        for i, (r, k) in enumerate(known)
    )
    points = [f"{dots[0].x},{dots[0].y}"]
    for before, after in itertools.pairwise(dots):
        points += [f"{after.x},{before.y}", f"{after.x},{after.y}"]
    return TollChart(dots=dots, line=" ".join(points), top=top, width=width, height=height)
