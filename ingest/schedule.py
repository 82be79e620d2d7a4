"""When to poll a feed next: pure functions of what the last poll saw.

- Adaptive: a poll that found new items halves the interval, a quiet one (or a 304) grows it
  by a quarter, always within the feed's ``[low, high]`` bounds — busy feeds are polled often,
  quiet ones politely.
- Errors back off exponentially (base x 2^errors, capped), never faster than the interval;
  a broker failure is not the feed's fault and is retried soon without feed backoff.
- ``Retry-After`` (429/503) is honoured as a floor; ``Cache-Control: max-age`` is honoured as
  a floor too, but never beyond ``high`` (a feed saying "cache for a day" is still polled).
- Jitter (+-10 %) spreads feeds that started together so they do not stay in lock-step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SPEED_UP = 0.5
SLOW_DOWN = 1.25
JITTER = 0.1
MAX_BACKOFF_S = 3600.0
MAX_BACKOFF_FACTOR = 64
PUBLISH_RETRY_MAX_S = 30.0
MAX_RETRY_AFTER_S = 6 * 3600.0


@dataclass(frozen=True)
class Bounds:
    start: float
    low: float
    high: float


@dataclass(frozen=True)
class Decision:
    """Next interval (without jitter) and the delay actually scheduled (with it)."""

    interval: float
    delay: float
    reason: str


def adapt(interval: float, new_items: int, bounds: Bounds) -> float:
    """The next base interval after a successful poll."""
    factor = SPEED_UP if new_items > 0 else SLOW_DOWN
    return min(bounds.high, max(bounds.low, interval * factor))


def backoff(errors: int, bounds: Bounds) -> float:
    """Delay after ``errors`` consecutive failures (1 = first failure): the interval doubled
    per failure, capped at 64x the start interval (and at an hour, but never below ``high``),
    so a 1-second feed that fails is retried within a minute, not an hour later."""
    base = max(bounds.start, bounds.low)
    cap = max(bounds.high, min(MAX_BACKOFF_S, base * MAX_BACKOFF_FACTOR))
    return float(min(cap, base * (2 ** min(max(0, errors), 32))))


def after_publish_error(interval: float, bounds: Bounds, rng: random.Random) -> Decision:
    """The broker, not the feed, failed: retry soon (the feed did nothing wrong), at the
    feed's interval bounded to [1 s, 30 s]."""
    delay = jittered(min(PUBLISH_RETRY_MAX_S, max(1.0, bounds.start)), rng)
    return Decision(interval=interval, delay=delay, reason="retry publish")


def jittered(delay: float, rng: random.Random, spread: float = JITTER) -> float:
    return max(0.0, delay * (1.0 + rng.uniform(-spread, spread)))


def after_success(
    interval: float,
    new_items: int,
    bounds: Bounds,
    rng: random.Random,
    *,
    max_age: float | None = None,
) -> Decision:
    nxt = adapt(interval, new_items, bounds)
    delay = jittered(nxt, rng)
    reason = "new items" if new_items else "quiet"
    if max_age is not None and max_age > delay:
        delay = min(max_age, bounds.high)
        reason += f", max-age {max_age:g}s"
    return Decision(interval=nxt, delay=delay, reason=reason)


def after_error(
    interval: float,
    errors: int,
    bounds: Bounds,
    rng: random.Random,
    *,
    retry_after: float | None = None,
) -> Decision:
    delay = jittered(backoff(errors, bounds), rng)
    reason = f"backoff after {errors} error(s)"
    if retry_after is not None:
        floor = min(retry_after, MAX_RETRY_AFTER_S)
        if floor > delay:
            delay = floor
            reason = f"Retry-After {retry_after:g}s"
    return Decision(interval=interval, delay=delay, reason=reason)
