"""Alert rules: their schema, their loading (with clear errors), and the pure tests they apply.

Rules live in ``config/rules.yaml`` as data, apart from the code that applies them, so an
analyst can add "any suicide bombing in Idlib" without touching Python. The file is
validated once at start-up; a bad rule stops the worker with the YAML line, the rule's
index and name, and the field at fault, instead of silently never firing.

Three kinds of rule:

* ``incident``: one merged incident matches a filter (``killed_gte: 10``, any
  ``Suicide bomb``, civilians killed by an ``Air/drone strike`` …);
* ``window``: the sum of a metric (``count`` of incidents or ``killed``) over incidents
  matching a filter, grouped by ``admin1``/``perpetrator``/``event_type``/``all``, inside an
  event-time window (``tumbling`` or ``hopping``), reaches ``threshold``;
* ``surge``: a tumbling window's metric is at least ``factor`` times the mean of the
  ``baseline_windows`` windows before it (missing windows count 0, the mean is floored at
  ``baseline_floor``) and at least ``min_count``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marsad.config_files import ConfigFile, Loc, dotted
from marsad.errors import ConfigError
from marsad.records import ACTOR_CODES, SUB_EVENT_TYPES, EventType, Incident
from stream.merge import MergeConfig

__all__ = [
    "IncidentRule",
    "RuleSet",
    "RulesError",
    "SurgeRule",
    "WindowRule",
    "civilians_killed",
    "load_rules",
    "parse_rules",
]

Level = Literal["info", "warning", "critical"]
GroupBy = Literal["admin1", "perpetrator", "event_type", "all"]
Metric = Literal["count", "killed"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class RulesError(ConfigError):
    """``config/rules.yaml`` is missing, not YAML, or a rule in it is invalid (``file:line``)."""


def parse_duration(value: Any) -> float:
    """``"24h"``, ``"7d"``, ``"30m"``, ``"1w"`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '24h' or '7d'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"bad duration {value!r}: use a number and s/m/h/d/w, e.g. '24h'")
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


Duration = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filter(_Strict):
    """Which incidents a rule looks at; every given field must hold (lists mean "any of")."""

    event_type: list[EventType] | None = None
    sub_event_type: list[str] | None = None
    perpetrator: list[str] | None = None
    targets: list[str] | None = None
    admin1: list[str] | None = None
    killed_gte: int | None = Field(default=None, ge=0)
    injured_gte: int | None = Field(default=None, ge=0)
    civilians_killed_gte: int | None = Field(default=None, ge=0)
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    #: only incidents read with less confidence than this (the review channel's share)
    confidence_below: float | None = Field(default=None, ge=0, le=1)

    @field_validator("sub_event_type")
    @classmethod
    def _known_sub_event(cls, v: list[str] | None) -> list[str] | None:
        known = {s for subs in SUB_EVENT_TYPES.values() for s in subs}
        for s in v or []:
            if s not in known:
                raise ValueError(f"unknown sub_event_type {s!r}; known: {sorted(known)}")
        return v

    @field_validator("perpetrator", "targets")
    @classmethod
    def _known_actor(cls, v: list[str] | None) -> list[str] | None:
        for a in v or []:
            if a not in ACTOR_CODES:
                raise ValueError(f"unknown actor code {a!r}; known: {list(ACTOR_CODES)}")
        return v

    def matches(self, inc: Incident) -> bool:
        if self.event_type is not None and inc.event_type not in self.event_type:
            return False
        if self.sub_event_type is not None and inc.sub_event_type not in self.sub_event_type:
            return False
        if self.perpetrator is not None and inc.perpetrator not in self.perpetrator:
            return False
        if self.targets is not None and not set(self.targets) & set(inc.targets):
            return False
        if self.admin1 is not None:
            admin1 = inc.location.admin1 if inc.location else None
            if admin1 not in self.admin1:
                return False
        if self.killed_gte is not None and (inc.killed or 0) < self.killed_gte:
            return False
        if self.injured_gte is not None and (inc.injured or 0) < self.injured_gte:
            return False
        if (
            self.civilians_killed_gte is not None
            and civilians_killed(inc) < self.civilians_killed_gte
        ):
            return False
        if self.confidence_below is not None and inc.confidence >= self.confidence_below:
            return False
        return not (self.min_confidence is not None and inc.confidence < self.min_confidence)


def civilians_killed(inc: Incident) -> int:
    """Civilian dead: the breakdown's ``CIVILIANS`` when given, else the whole toll of an
    incident whose only targets are civilians (an air strike on a village, a massacre)."""
    if "CIVILIANS" in inc.killed_by_actor:
        return inc.killed_by_actor["CIVILIANS"]
    if inc.targets and set(inc.targets) == {"CIVILIANS"}:
        return inc.killed or 0
    return 0


class SeverityStep(_Strict):
    killed_gte: int = Field(ge=0)
    level: Level


class _RuleBase(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    description: str = ""


class IncidentRule(_RuleBase):
    kind: Literal["incident"]
    when: Filter = Field(default_factory=Filter)
    #: A fixed level, or steps by toll (highest matching ``killed_gte`` wins).
    severity: Level | list[SeverityStep] = "warning"

    def severity_for(self, inc: Incident) -> Level:
        if isinstance(self.severity, str):
            return self.severity
        level: Level = "info"
        best = -1
        for step in self.severity:
            if (inc.killed or 0) >= step.killed_gte and step.killed_gte > best:
                level, best = step.level, step.killed_gte
        return level


class WindowSpec(_Strict):
    type: Literal["tumbling", "hopping"] = "tumbling"
    size: Duration
    step: Duration | None = None

    @field_validator("size", "step", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> Any:
        return None if v is None else parse_duration(v)

    @model_validator(mode="after")
    def _step_fits(self) -> WindowSpec:
        if self.type == "hopping":
            if self.step is None:
                raise ValueError("a hopping window needs 'step'")
            if self.step > self.size:
                raise ValueError("'step' must not exceed 'size'")
            if self.size % self.step:
                raise ValueError("'size' must be a whole multiple of 'step'")
        elif self.step is not None and self.step != self.size:
            raise ValueError("a tumbling window has no 'step' (drop it or use type: hopping)")
        return self

    @property
    def hop(self) -> float:
        return self.step if self.step is not None else self.size


class WindowRule(_RuleBase):
    kind: Literal["window"]
    where: Filter = Field(default_factory=Filter)
    metric: Metric = "count"
    group_by: GroupBy = "admin1"
    window: WindowSpec
    threshold: int = Field(ge=1)
    severity: Level = "warning"


class SurgeWindow(_Strict):
    size: Duration

    @field_validator("size", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> Any:
        return parse_duration(v)


class SurgeRule(_RuleBase):
    kind: Literal["surge"]
    where: Filter = Field(default_factory=Filter)
    metric: Metric = "count"
    group_by: GroupBy = "admin1"
    window: SurgeWindow
    baseline_windows: int = Field(default=7, ge=1, le=366)
    factor: float = Field(default=3.0, gt=1)
    min_count: int = Field(default=5, ge=1)
    baseline_floor: float = Field(default=1.0, gt=0)
    severity: Level = "warning"

    def fires(self, current: int, baseline: Sequence[int]) -> tuple[bool, float]:
        """``(fires, baseline_mean)`` for a window's total and its predecessors' totals."""
        mean = sum(baseline) / self.baseline_windows
        bar = self.factor * max(mean, self.baseline_floor)
        return current >= self.min_count and current >= bar, mean


Rule = Annotated[IncidentRule | WindowRule | SurgeRule, Field(discriminator="kind")]


class RuleSet(_Strict):
    merge: MergeConfig = Field(default_factory=MergeConfig)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
        return self

    @property
    def incident_rules(self) -> list[IncidentRule]:
        return [r for r in self.rules if isinstance(r, IncidentRule)]

    @property
    def window_rules(self) -> list[WindowRule]:
        return [r for r in self.rules if isinstance(r, WindowRule)]

    @property
    def surge_rules(self) -> list[SurgeRule]:
        return [r for r in self.rules if isinstance(r, SurgeRule)]


def group_value(rule: WindowRule | SurgeRule, inc: Incident) -> str:
    """The group an incident is counted in (its governorate, perpetrator, type, or "all")."""
    if rule.group_by == "admin1":
        return (inc.location.admin1 if inc.location else None) or "UNKNOWN"
    if rule.group_by == "perpetrator":
        return inc.perpetrator
    if rule.group_by == "event_type":
        return inc.event_type
    return "all"


def metric_value(rule: WindowRule | SurgeRule, inc: Incident) -> int:
    return 1 if rule.metric == "count" else (inc.killed or 0)


# --------------------------------------------------------------------------- loading

_KINDS = ("incident", "window", "surge")


def _in_file(loc: Loc) -> Loc:
    """Drop the tag pydantic inserts for the tagged union ("rules.0.window.window.size")."""
    if len(loc) > 2 and loc[0] == "rules" and loc[2] in _KINDS:
        return loc[:2] + loc[3:]
    return loc


def _where(loc: Loc, data: Any) -> str:
    """``rule #1 (dy-24h) field 'threshold'``: the rule by index and name, then the field."""
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return dotted(loc, data)
    idx = loc[1]
    name = None
    with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
        name = data["rules"][idx].get("name")
    rule = f"rule #{idx} ({name or 'unnamed'})"
    return f"{rule} field '{dotted(loc[2:], data)}'" if loc[2:] else rule


RULES_FILE = ConfigFile(
    RuleSet,
    what="rules file",
    shape="a mapping with 'rules:' (and optional 'merge:')",
    error=RulesError,
    where=_where,
    in_file=_in_file,
    empty={},
)


def parse_rules(text: str, path: str = "<rules>") -> RuleSet:
    """Validate a rules document; raise :class:`RulesError` naming line, rule and field."""
    return RULES_FILE.parse(text, path)


def load_rules(path: Path) -> RuleSet:
    """Read and validate a rules file; raise :class:`RulesError` naming line, rule and field."""
    return RULES_FILE.load(path)
