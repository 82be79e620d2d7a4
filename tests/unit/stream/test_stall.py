"""The stall guard's decision (``stream.stall``) and its one read of Faust's consumer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream.stall import STALL_AFTER_S, Stall, check_stall, partition_positions


def test_not_behind_or_unknown_forgets_the_partition() -> None:
    seen = Stall(committed=5, since=0.0)
    assert check_stall(seen, committed=10, high=10, now=100.0).watch is None
    assert check_stall(seen, committed=None, high=10, now=100.0).watch is None
    assert check_stall(seen, committed=5, high=None, now=100.0).watch is None


def test_first_sighting_and_a_moving_commit_start_the_clock() -> None:
    first = check_stall(None, committed=5, high=9, now=100.0)
    assert first.watch == Stall(5, 100.0) and not first.reread
    moved = check_stall(Stall(5, 100.0), committed=7, high=9, now=150.0)
    assert moved.watch == Stall(7, 150.0) and not moved.reread


def test_a_commit_stuck_for_long_enough_is_reread_and_the_clock_restarts() -> None:
    seen = Stall(5, 100.0)
    waiting = check_stall(seen, committed=5, high=9, now=100.0 + STALL_AFTER_S - 0.5)
    assert waiting.watch == seen and not waiting.reread
    stuck = check_stall(seen, committed=5, high=9, now=100.0 + STALL_AFTER_S)
    assert stuck.reread
    assert stuck.watch == Stall(5, 100.0 + STALL_AFTER_S)
    assert stuck.stuck_for == STALL_AFTER_S
    assert check_stall(seen, committed=5, high=9, now=103.0, after=3.0).reread


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class FakeConsumer:
    def __init__(self) -> None:
        self._committed_offset: dict[TP, int] = {TP("articles", 0): 3, TP("articles", 1): 8}
        self.high = {TP("articles", 0): 9, TP("articles", 1): 8, TP("other", 0): 4}

    def assignment(self) -> list[TP]:
        return [TP("articles", 0), TP("other", 0), TP("articles", 1), TP("articles", 2)]

    def highwater(self, tp: TP) -> int:
        return self.high[tp]  # KeyError for articles[2]: not known yet


def test_partition_positions_reads_assigned_source_partitions() -> None:
    consumer = FakeConsumer()
    out = list(partition_positions(consumer, {"articles"}))
    assert out == [(TP("articles", 0), 3, 9), (TP("articles", 1), 8, 8)]


def test_partition_positions_reads_the_live_commits_as_it_goes() -> None:
    consumer = FakeConsumer()
    it = partition_positions(consumer, {"articles"})
    assert next(it) == (TP("articles", 0), 3, 9)
    consumer._committed_offset[TP("articles", 1)] = 6  # a commit during the previous seek
    assert next(it) == (TP("articles", 1), 6, 8)


def test_partition_positions_without_the_private_attribute_turns_the_guard_off() -> None:
    consumer: Any = FakeConsumer()
    del consumer._committed_offset
    positions = list(partition_positions(consumer, {"articles"}))
    assert [c for _, c, _ in positions] == [None, None]
    assert all(check_stall(None, c, h, 0.0).watch is None for _, c, h in positions)
