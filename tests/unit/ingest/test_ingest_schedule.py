import random

from ingest import schedule
from ingest.schedule import Bounds

B = Bounds(start=60, low=30, high=600)


def rng() -> random.Random:
    return random.Random(1)


def test_busy_feed_speeds_up_to_low_bound() -> None:
    interval = 60.0
    for _ in range(5):
        interval = schedule.adapt(interval, 3, B)
    assert interval == 30


def test_quiet_feed_slows_to_high_bound() -> None:
    interval = 60.0
    for _ in range(40):
        interval = schedule.adapt(interval, 0, B)
    assert interval == 600


def test_jitter_stays_within_ten_percent() -> None:
    r = rng()
    delays = [schedule.jittered(100, r) for _ in range(200)]
    assert min(delays) >= 90 and max(delays) <= 110
    assert len(set(delays)) > 100


def test_backoff_doubles_and_is_capped() -> None:
    assert schedule.backoff(1, B) == 120
    assert schedule.backoff(2, B) == 240
    assert schedule.backoff(30, B) == 3600
    one_second = Bounds(1, 1, 4)
    assert schedule.backoff(50, one_second) == 64


def test_retry_after_is_a_floor() -> None:
    d = schedule.after_error(60, 1, B, rng(), retry_after=1000)
    assert d.delay == 1000 and "Retry-After" in d.reason
    short = schedule.after_error(60, 1, B, rng(), retry_after=5)
    assert short.delay >= 108  # backoff (120 +- 10 %) wins over a shorter Retry-After


def test_max_age_honoured_but_bounded_by_high() -> None:
    d = schedule.after_success(60, 0, B, rng(), max_age=300)
    assert d.delay == 300
    capped = schedule.after_success(60, 0, B, rng(), max_age=86400)
    assert capped.delay == 600


def test_publish_error_retries_soon() -> None:
    d = schedule.after_publish_error(60, B, rng())
    assert 27 <= d.delay <= 33
    fast = schedule.after_publish_error(1, Bounds(1, 1, 4), rng())
    assert fast.delay <= 1.1
