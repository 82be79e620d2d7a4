"""Which Slack channel an alert goes to: ``config/routing.yaml``, validated at start-up.

Why a file and first-match rules: operators change routing without touching code, and an
ordered list is easy to reason about ("critical first, then the east, then the default").
A bad file fails loudly at start-up with the file, the line and the offending key, never at
3 a.m. on the first alert that hits the bad route.

A route matches when every condition it names matches (AND); each condition is a list of
accepted values (OR).  ``actors`` matches the perpetrator or any target.

A route may also say how its messages look (``style: compact``: one section, for a review
channel where a person checks a reading rather than acts on an event), and the file may name
the channels that get the daily digest (``digest:``, read by :mod:`alerts.digest`), each at a
local time in a time zone: the same file, because it is the same question ("which channel
gets what"), answered by the same operators.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marsad.config_files import ConfigFile
from marsad.errors import ConfigError
from marsad.records import ACTOR_CODES, Alert

Severity = Literal["info", "warning", "critical"]
#: how a route's messages are laid out: the full alert, or one compact section (review)
Style = Literal["full", "compact"]
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9_\-]{0,79}|[CGD][A-Z0-9]{6,})$")
_ADMIN1 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


class RoutingError(ConfigError):
    """The routing file is missing, not YAML, or does not describe valid routes (``file:line``)."""


def _check_channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(
            f"{value!r} is not a channel: use '#name' (lower case) or a channel id like C0123ABCD"
        )
    return value


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    governorates: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)

    @field_validator("governorates")
    @classmethod
    def _governorates(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _ADMIN1.match(v)]
        if bad:
            raise ValueError(f"not ISO 3166-2 codes (like SY-DY): {bad}")
        return values

    @field_validator("actors")
    @classmethod
    def _actors(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if v not in ACTOR_CODES]
        if bad:
            raise ValueError(f"unknown actor codes {bad}; known: {', '.join(ACTOR_CODES)}")
        return values

    def matches(self, alert: Alert) -> bool:
        if self.rules and alert.rule not in self.rules:
            return False
        if self.severities and alert.severity not in self.severities:
            return False
        if self.governorates and _admin1(alert) not in self.governorates:
            return False
        return not (self.actors and not _actors(alert) & set(self.actors))


def _window_group(alert: Alert, group_by: str) -> str | None:
    w = alert.window or {}
    return str(w["group"]) if w.get("group_by") == group_by and w.get("group") else None


def _admin1(alert: Alert) -> str | None:
    """Where an alert is: its incident's governorate, or a window grouped by governorate."""
    inc = alert.incident
    if inc is not None:
        return inc.location.admin1 if inc.location else None
    return _window_group(alert, "admin1")


def _actors(alert: Alert) -> set[str]:
    inc = alert.incident
    if inc is not None:
        return {inc.perpetrator, *inc.targets}
    group = _window_group(alert, "perpetrator")
    return {group} if group else set()


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    match: Match
    channel: str
    style: Style = "full"

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _check_channel(value)


#: The digest's defaults: the morning, where the desk is.
DIGEST_TIME = dt.time(8, 0)
DIGEST_TZ = "Asia/Damascus"


class DigestChannel(BaseModel):
    """One channel's daily digest: posted once per local day at ``time`` in ``tz``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    #: local wall-clock time, ``"08:00"``
    time: dt.time = DIGEST_TIME
    #: an IANA time zone name
    tz: str = DIGEST_TZ

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _check_channel(value)

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (like Asia/Damascus)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class DigestConfig(BaseModel):
    """Which channels get the daily digest (none: no digest is posted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[DigestChannel] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _once_each(cls, values: list[DigestChannel]) -> list[DigestChannel]:
        names = [c.channel for c in values]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"a channel gets one digest a day; listed twice: {twice}")
        return values


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_channel: str
    routes: list[Route] = Field(default_factory=list)
    digest: DigestConfig = Field(default_factory=DigestConfig)

    @field_validator("default_channel")
    @classmethod
    def _default(cls, value: str) -> str:
        return _check_channel(value)

    def route_for(self, alert: Alert) -> Route | None:
        """The first matching route; ``None`` when the default channel applies."""
        return next((r for r in self.routes if r.match.matches(alert)), None)

    def channel_for(self, alert: Alert) -> str:
        """The first matching route's channel, else the default."""
        route = self.route_for(alert)
        return route.channel if route is not None else self.default_channel

    def style_for(self, alert: Alert) -> Style:
        """How the alert's message is laid out: its route's style (the default: full)."""
        route = self.route_for(alert)
        return route.style if route is not None else "full"

    def channels(self) -> list[str]:
        """Every channel the bot posts to: routes, the default, and the digests'."""
        digests = (d.channel for d in self.digest.channels)
        return sorted({self.default_channel, *(r.channel for r in self.routes), *digests})


ROUTING_FILE = ConfigFile(
    RoutingConfig,
    what="routing file",
    shape="a mapping with 'default_channel' and 'routes'",
    error=RoutingError,
)


def parse(text: str, source: str = "<routing>") -> RoutingConfig:
    """Validate a routing document; raise :class:`RoutingError` at ``file:line`` and key."""
    return ROUTING_FILE.parse(text, source)


def load(path: Path) -> RoutingConfig:
    """Read and validate a routing file; raise :class:`RoutingError` at ``file:line`` and key."""
    return ROUTING_FILE.load(path)
