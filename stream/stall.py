"""The stall guard: decide when a source partition's commit is stuck, and re-read it.

Why it exists: faust-streaming can lose track of a message fetched while it finishes table
recovery after a rebalance (seen here after a worker crash-restart): the partition's commit
then never advances past it (``stream.commit_hold`` makes sure of that: Faust alone commits
over a single such message), and that message is not processed until the next restart.
Seeking back to the committed offset makes Faust fetch it again; re-processing what follows
is harmless because every stage is idempotent.

The decision (:func:`check_stall`) is a pure function of offsets and a clock. Everything
that touches Faust's consumer is in :func:`partition_positions`, the one place that reads a
private attribute.

Liveness (:func:`check_progress`, :func:`is_stalled`): the same looks also say whether the
worker is alive in the sense that matters — its commit moves on every assigned partition
that has messages waiting. A partition behind its high-water mark whose commit has not
moved for :data:`LIVENESS_AFTER_S` (longer than the guard's re-read, which gets its chance
first) makes the worker *stalled*: ``stream.health`` exports it and answers 503 on
``/healthz``, and the supervisor restarts the worker.

Why a re-read cannot heal every stall (faust-streaming 0.15.3, read from its code): every
send, ``force=True`` included, goes through the producer buffer's single
``ProducerBuffer._handle_pending`` task. One failed publish (aiokafka's ``KafkaTimeoutError``
when its accumulator stays full, or metadata lost in a rebalance) ends that task: the
failed message's future is never resolved, nothing drains the buffer again ("producer
buffer full size N"), and the agents, which await delivery before recording state, wait
forever. Heartbeats go on, so the member stays in the group; seeking only re-fetches
messages no agent reads. Only a new worker process recovers, hence the restart.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LIVENESS_AFTER_S",
    "STALL_AFTER_S",
    "STALL_CHECK_S",
    "Progress",
    "Stall",
    "StallCheck",
    "check_progress",
    "check_stall",
    "is_stalled",
    "partition_positions",
]

#: How often the guard looks (seconds).
STALL_CHECK_S = 5.0
#: How long a commit may stay put, with messages behind it, before the partition is re-read.
STALL_AFTER_S = 20.0
#: How long a partition may have messages waiting with no commit progress before the worker
#: counts as stalled (the guard re-reads after ``STALL_AFTER_S`` first).
LIVENESS_AFTER_S = 45.0


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


@dataclass(frozen=True)
class Progress:
    """A partition's last look for liveness: its commit, its lag then, and ``since`` when
    it last made progress (commit moved, caught up, or first seen)."""

    committed: int
    lag: int
    since: float


def check_progress(
    seen: Progress | None, committed: int | None, high: int | None, now: float
) -> Progress | None:
    """One look at a partition for liveness (``None``: unknown, says nothing either way).

    Progress is a commit that moved, or no lag at all; a first sighting starts the clock.
    An unknown commit or high-water mark (``None``) is not evidence of a stall: Faust fills
    its committed offsets only once it has committed on a partition.
    """
    if committed is None or high is None:
        return None
    lag = max(high - committed, 0)
    if seen is None or seen.committed != committed or lag == 0:
        return Progress(committed, lag, now)
    return Progress(committed, lag, seen.since)


def is_stalled(progress: Progress | None, now: float, after: float = LIVENESS_AFTER_S) -> bool:
    """Messages waiting and no progress for ``after`` seconds."""
    return progress is not None and progress.lag > 0 and now - progress.since >= after


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
