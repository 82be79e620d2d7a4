"""``config/feeds.yaml``: the list of feeds, validated once at start-up with clear errors.

Why pydantic: every bad field is reported as ``feeds.yaml:12: feeds[3].url: …`` (with the
feed's name when it has one) instead of a KeyError deep inside the poll loop an hour later.
Reading and reporting are the kernel's :class:`marsad.config_files.ConfigFile`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ingest.errors import ConfigError
from marsad.config_files import ConfigFile, Loc

#: Bounds of the adaptive interval when neither the feed nor the file sets them.
DEFAULT_INTERVAL_S = 300.0
DEFAULT_MIN_INTERVAL_S = 60.0
DEFAULT_MAX_INTERVAL_S = 1800.0


class FeedConfig(BaseModel):
    """One feed. ``interval`` is the slowest it is polled; busy feeds are polled faster, down
    to ``min_interval`` (see :meth:`IngestConfig.bounds`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    url: str
    language: str | None = Field(default=None, min_length=2, max_length=8)
    interval: float | None = Field(default=None, ge=0.1, le=86400)
    min_interval: float | None = Field(default=None, ge=0.1, le=86400)
    max_interval: float | None = Field(default=None, ge=0.1, le=86400)
    full_text: bool = False
    #: Subscribe to the feed's WebSub hub when it announces one and push is on
    #: (``MARSAD_WEBSUB_LISTEN``, see :mod:`ingest.websub`); ``false``: always poll.
    push: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"only http and https URLs are polled, got {value!r}")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {value!r}")
        return value.strip()

    @model_validator(mode="after")
    def _bounds_ordered(self) -> FeedConfig:
        if (
            self.min_interval is not None
            and self.max_interval is not None
            and self.min_interval > self.max_interval
        ):
            raise ValueError("min_interval is larger than max_interval")
        return self


class IngestConfig(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Hosts or addresses (IPs, CIDRs or names) that may be private, e.g. ["127.0.0.1"] in tests.
    allowed_private_hosts: list[str] = Field(default_factory=list)
    default_interval: float = Field(default=DEFAULT_INTERVAL_S, ge=0.1, le=86400)
    min_interval: float = Field(default=DEFAULT_MIN_INTERVAL_S, ge=0.1, le=86400)
    max_interval: float = Field(default=DEFAULT_MAX_INTERVAL_S, ge=0.1, le=86400)
    feeds: list[FeedConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> IngestConfig:
        seen: dict[str, int] = {}
        for index, feed in enumerate(self.feeds):
            if feed.name in seen:
                raise ValueError(
                    f"feeds[{index}].name: duplicate feed name {feed.name!r} "
                    f"(first used by feeds[{seen[feed.name]}])"
                )
            seen[feed.name] = index
        return self

    def bounds(self, feed: FeedConfig) -> tuple[float, float, float]:
        """(start, low, high) of ``feed``'s adaptive interval.

        Without an ``interval`` a feed starts at ``default_interval`` and drifts within
        ``[min_interval, max_interval]``.  An explicit ``interval`` is a promise: the feed is
        never polled more slowly than that, only faster while it publishes often (down to
        ``min_interval``, or the interval itself if that is smaller) — so a feed configured
        for 1-second polling is polled every second.  ``min_interval``/``max_interval`` on
        the feed override both bounds.
        """
        start = feed.interval if feed.interval is not None else self.default_interval
        low = feed.min_interval if feed.min_interval is not None else min(self.min_interval, start)
        if feed.max_interval is not None:
            high = feed.max_interval
        elif feed.interval is not None:
            high = start
        else:
            high = max(self.max_interval, start)
        return min(max(start, low), high), low, high


def _where(loc: Loc, raw: Any) -> str:
    """``feeds[3].url (feed 'Enab Baladi')``: the position, and the feed's name when it has one."""
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    if len(loc) >= 2 and loc[0] == "feeds" and isinstance(loc[1], int):
        feeds = raw.get("feeds")
        if isinstance(feeds, list) and loc[1] < len(feeds) and isinstance(feeds[loc[1]], dict):
            name = feeds[loc[1]].get("name")
            if name:
                where += f" (feed {name!r})"
    return where


FEEDS_FILE = ConfigFile(
    IngestConfig,
    what="feeds file",
    shape="a mapping with a 'feeds' list at the top",
    error=ConfigError,
    where=_where,
)


def parse_config(raw: Any, source: str = "feeds.yaml") -> IngestConfig:
    """Validate an already-loaded YAML document (errors name the file, not a line)."""
    return FEEDS_FILE.validate(raw, source)


def load_config(path: Path) -> IngestConfig:
    """Read and validate ``path``; every problem becomes one :class:`ConfigError` at file:line."""
    return FEEDS_FILE.load(path)
