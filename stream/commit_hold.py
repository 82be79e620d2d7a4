"""When a source partition may not commit yet: never past a message no agent has finished.

Why this exists (faust-streaming 0.15.3, read from its code; seen in the SIGKILL drill,
about one restart in five): Faust commits the end of the first run of consecutive acked
offsets, and it keeps a run that starts *after* the committed offset from being committed
only when the hole before it is wider than one offset (``min(acked) - committed > 1`` in
``Consumer._new_offset``; upstream issue #606). A single unfinished message at the head is
therefore committed over. In the drill the message was one that arrived while a restarted
worker was still rebuilding its tables; the likely path is Faust's drain loop, which marks a
message read even when the flow is suspended before an agent takes it
(``wait_first(callback(message), suspend_flow.wait())``), so it is never handed out again.
With the off-by-one the offsets after it are committed, the lag reads 0, and the article is
never extracted: an incident and its alert silently missing (drill 3: committed 5 at the
restart, offsets 6 and 7 processed, 8 committed, offset 5 never seen by an agent).

The hold: :func:`holds_commit` says the partition's head is unfinished (the lowest acked
offset is past the committed one, and no gap Faust registered for a compacted or
transactional topic covers it), and :func:`install` makes Faust's ``_new_offset`` return
"nothing to commit" then. The commit stays where it is, so the stall guard
(``stream.stall``) sees it stuck behind waiting messages and re-reads the partition from
the committed offset within ``STALL_AFTER_S``; re-processing what follows is harmless
because every stage is idempotent. A message that is merely slow holds the commit until it
is acked, which is the at-least-once promise itself.

Not covered: a partition that has never committed (Faust keeps its committed offset as
``None``, and also for offset 0) has no head to compare with; only the very first message of
a new group could be lost that way.

The one place that touches Faust's private consumer state besides the stall guard's read of
``_committed_offset``; :func:`install` refuses to patch a Faust without ``_new_offset``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["holds_commit", "install"]

_MARK = "_marsad_commit_hold"


def holds_commit(committed: int | None, acked: Sequence[int], gaps: Any) -> bool:
    """True when the message at ``committed`` (the next offset to read) is not finished:
    offsets after it are acked, it is not, and no registered gap (``gaps``, Faust's
    ``IntervalTree`` of offsets a compacted or transactional topic skips) covers it.

    ``None`` or nothing acked: nothing to say (Faust's own rules apply)."""
    if committed is None or not acked:
        return False
    return min(acked) > committed and not (gaps and gaps.overlaps(committed))


def install(consumer_cls: Any = None) -> bool:
    """Wrap ``consumer_cls._new_offset`` (Faust's base ``Consumer`` by default) so a held
    head commits nothing; True when it was installed now, False when it already was."""
    if consumer_cls is None:
        from faust.transport.consumer import Consumer

        consumer_cls = Consumer
    original: Callable[[Any, Any], int | None] | None = getattr(consumer_cls, "_new_offset", None)
    if original is None:
        raise RuntimeError(
            f"{consumer_cls.__qualname__} has no _new_offset: this Faust is not the one "
            "stream.commit_hold was written for (see its docstring)"
        )
    if getattr(original, _MARK, False):
        return False

    def _new_offset(self: Any, tp: Any) -> int | None:
        if holds_commit(self._committed_offset[tp], self._acked[tp], self._gap.get(tp)):
            return None
        return original(self, tp)

    setattr(_new_offset, _MARK, True)
    _new_offset.__doc__ = original.__doc__
    _new_offset.__wrapped__ = original  # type: ignore[attr-defined]
    consumer_cls._new_offset = _new_offset
    return True
