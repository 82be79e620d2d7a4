"""A stream worker stops in seconds, even when its broker is gone.

Why this exists (aiokafka 0.14.0, read from its code; upstream issue #647, open): the
consumer's ``Fetcher.close`` cancels each fetch task still in flight and then awaits it
bare (``x.cancel(); await x``). Awaiting a task one has just cancelled raises
``CancelledError`` in the awaiting coroutine, so ``close`` ends there whenever a fetch was
running: always while the broker is unreachable (the fetch sits in its retry back-off). The
error escapes ``AIOKafkaConsumer.stop`` before it closes its client, and escapes Faust's
consumer thread before the thread reports that it stopped, so the worker's SIGTERM waited
out mode's 60-second stop timeout, logged three tracebacks ("Error while stopping child
<AIOKafkaConsumerThread>: TimeoutError") and left the client's metadata task pending.

The fix: :func:`install` wraps ``Fetcher.close`` so the tasks it cancels are awaited with
``asyncio.gather(..., return_exceptions=True)``: each cancelled task's own ``CancelledError``
is collected, not raised, while a cancel of the coroutine running ``close`` still
propagates. Everything else ``close`` does is aiokafka's own code (the original runs first
with an emptied task set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["install"]

_MARK = "_marsad_clean_stop"


def install(fetcher_cls: Any = None) -> bool:
    """Wrap ``fetcher_cls.close`` (aiokafka's consumer ``Fetcher`` by default); True when it
    was installed now, False when it already was."""
    if fetcher_cls is None:
        from aiokafka.consumer.fetcher import Fetcher

        fetcher_cls = Fetcher
    original: Callable[[Any], Awaitable[None]] | None = getattr(fetcher_cls, "close", None)
    if original is None:
        raise RuntimeError(
            f"{fetcher_cls.__qualname__} has no close: this aiokafka is not the one "
            "stream.clean_stop was written for (see its docstring)"
        )
    if getattr(original, _MARK, False):
        return False

    async def close(self: Any) -> None:
        pending = list(getattr(self, "_pending_tasks", ()))
        if hasattr(self, "_pending_tasks"):
            self._pending_tasks = set()
        await original(self)  # the fetch routine and waiters, as aiokafka closes them
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    setattr(close, _MARK, True)
    close.__doc__ = original.__doc__
    close.__wrapped__ = original  # type: ignore[attr-defined]
    fetcher_cls.close = close
    return True
