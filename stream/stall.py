"""The stall guard: decide when a source partition's commit is stuck, and re-read it.

Why it exists: faust-streaming can lose track of a message fetched while it finishes table
recovery after a rebalance (seen here after a worker crash-restart): the partition's commit
then never advances past it, and that message is not processed until the next restart.
Seeking back to the committed offset makes Faust fetch it again; re-processing what follows
is harmless because every stage is idempotent.

The decision (:func:`check_stall`) is a pure function of offsets and a clock. Everything
that touches Faust's consumer is in :func:`partition_positions`, the one place that reads a
private attribute.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STALL_AFTER_S",
    "STALL_CHECK_S",
    "Stall",
    "StallCheck",
    "check_stall",
    "partition_positions",
]

#: How often the guard looks (seconds).
STALL_CHECK_S = 5.0
#: How long a commit may stay put, with messages behind it, before the partition is re-read.
STALL_AFTER_S = 20.0


@dataclass(frozen=True)
class Stall:
    """A partition seen behind its high-water mark with its commit at ``committed`` since
    ``since`` (a ``time.monotonic()`` reading)."""

    committed: int
    since: float


@dataclass(frozen=True)
class StallCheck:
    """The guard's state for the partition after this look (``None``: not behind), and
    whether to re-read it from ``watch.committed`` now."""

    watch: Stall | None
    reread: bool = False
    #: Seconds the commit had not moved, when ``reread``.
    stuck_for: float = 0.0


def check_stall(
    seen: Stall | None,
    committed: int | None,
    high: int | None,
    now: float,
    after: float = STALL_AFTER_S,
) -> StallCheck:
    """One look at a partition: ``seen`` is the previous look's state, ``committed`` the
    committed offset, ``high`` the high-water mark (either ``None`` when unknown).

    Not behind (or unknown): forget it. A commit that moved, or a first sighting: start
    the clock at ``now``. The same commit for ``after`` seconds: re-read, and start over.
    """
    if committed is None or high is None or committed >= high:
        return StallCheck(watch=None)
    if seen is None or seen.committed != committed:
        return StallCheck(watch=Stall(committed, now))
    if now - seen.since >= after:
        return StallCheck(watch=Stall(committed, now), reread=True, stuck_for=now - seen.since)
    return StallCheck(watch=seen)


def partition_positions(
    consumer: Any, topics: Collection[str]
) -> Iterator[tuple[Any, int | None, int | None]]:
    """``(topic partition, committed offset, high-water mark)`` for each assigned partition
    of ``topics``, read as the caller iterates (so a seek in between is seen).

    faust-streaming 0.15 exposes no committed offset per partition; its consumer keeps them
    in the private ``_committed_offset`` dict, read here (an empty dict if a version drops
    it, which turns the guard off rather than breaking the worker). A partition whose
    high-water mark cannot be read is skipped this time.
    """
    committed = getattr(consumer, "_committed_offset", {})
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        try:
            high = consumer.highwater(tp)
        except Exception:
            continue
        yield tp, committed.get(tp), high
