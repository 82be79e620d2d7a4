"""The alert thresholds the timeline draws, read from ``config/rules.yaml``.

Why a reader of its own: the rules' schema and matching belong to the stream room, and a room
never imports another (``lint-imports``). The desk needs only a few fields of the window and
surge rules — name, metric, window size, threshold (or a surge's ``min_count``) and the
governorate or actor it is limited to — so it reads just those through the kernel's one way
of reading config files (:mod:`marsad.config_files`), ignoring everything else in the file.
The stream stays the judge of whether the file is valid; a file it accepts reads here too.

What is drawn: a rule whose window is at most one day is a line on a per-day chart (its
threshold is a daily amount). A longer window (``isis-attacks-7d``) is listed beside the chart
and not drawn: a weekly count on a daily axis would be a line no day has to reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marsad.config_files import ConfigFile

DAY = 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def seconds(value: str | float | int) -> float:
    """``"24h"`` → 86400 (the rules file's durations: s, m, h, d, w, or plain seconds)."""
    if isinstance(value, int | float):
        return float(value)
    found = _DURATION.match(value)
    if found is None:
        raise ValueError(f"not a duration: {value!r}")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


class _Window(BaseModel):
    model_config = ConfigDict(extra="ignore")
    #: seconds
    size: float = DAY

    @field_validator("size", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return seconds(value) if isinstance(value, str | int | float) else value


class _Where(BaseModel):
    model_config = ConfigDict(extra="ignore")
    admin1: list[str] = Field(default_factory=list)
    perpetrator: list[str] = Field(default_factory=list)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    kind: str = "incident"
    metric: str = "count"
    threshold: float | None = None
    min_count: float | None = None
    factor: float | None = None
    window: _Window = Field(default_factory=_Window)
    where: _Where = Field(default_factory=_Where)
    description: str = ""


class _Rules(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rules: list[_Rule] = Field(default_factory=list)


RULES_FILE = ConfigFile(model=_Rules, what="rules file", shape="a mapping with 'rules'")

Metric = Literal["incidents", "deaths"]


@dataclass(frozen=True)
class Threshold:
    rule: str
    #: which chart: incidents per day or deaths per day
    metric: Metric
    value: float
    #: the governorates / actors the rule is limited to ("" = all)
    scope: str
    window_seconds: float
    description: str
    #: a surge's factor over its baseline (the line is then its minimum count, not all of it)
    factor: float | None = None

    @property
    def daily(self) -> bool:
        """Drawn as a line on a per-day chart (the window is at most a day)."""
        return self.window_seconds <= DAY


def _threshold(rule: _Rule) -> Threshold | None:
    if rule.kind == "window" and rule.threshold is not None:
        value = rule.threshold
    elif rule.kind == "surge" and rule.min_count is not None:
        value = rule.min_count
    else:
        return None
    metric: Metric = "deaths" if rule.metric == "killed" else "incidents"
    scope = ", ".join(rule.where.admin1 + rule.where.perpetrator)
    return Threshold(
        rule=rule.name,
        metric=metric,
        value=value,
        scope=scope,
        window_seconds=rule.window.size,
        description=rule.description,
        factor=rule.factor if rule.kind == "surge" else None,
    )


def thresholds(data: Any) -> list[Threshold]:
    """The window and surge rules of an already-loaded rules document."""
    rules = RULES_FILE.validate(data, "rules.yaml").rules
    return [t for t in map(_threshold, rules) if t is not None]


def load_thresholds(path: Path) -> list[Threshold]:
    """The window and surge rules of ``path`` (a ConfigError names the file and line)."""
    rules = RULES_FILE.load(path).rules
    return [t for t in map(_threshold, rules) if t is not None]
