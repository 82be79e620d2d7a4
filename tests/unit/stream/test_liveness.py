"""The worker's liveness decision (``stream.stall.check_progress`` / ``is_stalled``)."""

from __future__ import annotations

from stream.stall import LIVENESS_AFTER_S, STALL_AFTER_S, Progress, check_progress, is_stalled


def test_unknown_offsets_say_nothing() -> None:
    assert check_progress(None, None, 10, 0.0) is None
    assert check_progress(Progress(3, 7, 0.0), 3, None, 100.0) is None
    assert not is_stalled(None, 1e9)


def test_first_sighting_and_a_moving_commit_are_progress() -> None:
    first = check_progress(None, 5, 9, 100.0)
    assert first == Progress(5, 4, 100.0)
    moved = check_progress(first, 6, 9, 130.0)
    assert moved == Progress(6, 3, 130.0)
    assert not is_stalled(moved, 130.0 + LIVENESS_AFTER_S - 1)


def test_no_lag_is_live_however_long_the_commit_stays() -> None:
    caught_up = check_progress(Progress(9, 0, 0.0), 9, 9, 1000.0)
    assert caught_up == Progress(9, 0, 1000.0)
    assert not is_stalled(caught_up, 10_000.0)


def test_lag_with_a_commit_that_does_not_move_is_a_stall() -> None:
    seen = Progress(5, 4, 100.0)
    later = check_progress(seen, 5, 12, 100.0 + LIVENESS_AFTER_S)
    assert later == Progress(5, 7, 100.0)  # the clock keeps running; the lag is refreshed
    assert not is_stalled(later, 100.0 + LIVENESS_AFTER_S - 0.1)
    assert is_stalled(later, 100.0 + LIVENESS_AFTER_S)
    assert is_stalled(later, 103.0, after=3.0)


def test_the_guard_rereads_before_the_worker_counts_as_stalled() -> None:
    assert LIVENESS_AFTER_S > STALL_AFTER_S
