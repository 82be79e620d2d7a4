"""The clean stop: closing aiokafka's fetcher with a fetch in flight does not raise.

Checked on aiokafka's own ``Fetcher`` (a subclass, state set by hand, no broker): the stock
``close`` raises the cancelled fetch's ``CancelledError``; with the wrap it returns, every
task it had is cancelled, and a cancel of the closing coroutine itself still propagates.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.consumer.fetcher import Fetcher

from stream import clean_stop


def _unpatched() -> Any:
    """aiokafka's own ``close``, whether or not a stream app installed the wrap already."""
    return getattr(Fetcher.close, "__wrapped__", Fetcher.close)


async def _forever() -> None:
    await asyncio.sleep(3600)


def _fetcher(cls: type) -> tuple[Any, list[asyncio.Task[None]]]:
    """A fetcher with only the state ``close`` reads: its routine and one retrying fetch."""
    f: Any = object.__new__(cls)
    f._closed = False
    f._fetch_task = asyncio.ensure_future(_forever())
    f._fetch_waiters = set()
    in_flight = [asyncio.ensure_future(_forever())]
    f._pending_tasks = set(in_flight)
    return f, in_flight


def test_the_stock_close_raises_when_a_fetch_is_in_flight() -> None:
    class Stock(Fetcher):  # type: ignore[misc]
        close = _unpatched()

    async def run() -> None:
        f, _ = _fetcher(Stock)
        with pytest.raises(asyncio.CancelledError):
            await f.close()

    asyncio.run(run())


def test_the_wrapped_close_returns_and_cancels_everything() -> None:
    class Wrapped(Fetcher):  # type: ignore[misc]
        close = _unpatched()

    assert clean_stop.install(Wrapped) is True
    assert clean_stop.install(Wrapped) is False  # once

    async def run() -> None:
        f, in_flight = _fetcher(Wrapped)
        await f.close()
        assert f._closed and f._fetch_task.cancelled()
        assert all(t.cancelled() for t in in_flight)

    asyncio.run(run())


def test_a_cancel_of_the_closer_still_propagates() -> None:
    class Wrapped(Fetcher):  # type: ignore[misc]
        close = _unpatched()

    clean_stop.install(Wrapped)

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)  # a fetch that takes its time to wind down

    async def run() -> None:
        f, _ = _fetcher(Wrapped)
        f._pending_tasks = {asyncio.ensure_future(stubborn())}
        closing = asyncio.ensure_future(f.close())
        await asyncio.sleep(0.05)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing

    asyncio.run(run())


def test_the_stream_app_installs_it() -> None:
    from stream.app import _faust_app

    _faust_app("clean-stop-test", "127.0.0.1:1", 1, None)
    assert getattr(Fetcher.close, "_marsad_clean_stop", False)
