"""Repeated library messages are folded; our own lines never are."""

from __future__ import annotations

import logging

from marsad.logs import Repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_library_repeat_is_held_back_then_counted() -> None:
    clock = Clock()
    f = Repeats(window_s=30, clock=clock)
    template = "Unable connect to node with id %s: %s"
    assert f.filter(_record("aiokafka", template, 1, "refused"))
    held = [f.filter(_record("aiokafka", template, 1, "refused")) for _ in range(199)]
    assert not any(held)
    clock.now = 31.0
    after = _record("aiokafka", template, 1, "refused")
    assert f.filter(after)
    assert after.getMessage() == (
        "Unable connect to node with id 1: refused [199 more like this in the last 30 s]"
    )
    # the window starts again from the line that was let through
    assert not f.filter(_record("aiokafka", template, 1, "refused"))


def test_kinds_and_loggers_are_told_apart() -> None:
    f = Repeats(window_s=30, clock=Clock())
    assert f.filter(_record("aiokafka", "Unable connect to node %s", 1))
    assert f.filter(_record("aiokafka", "Unable to update metadata from %s", [1]))
    assert f.filter(_record("aiokafka.consumer.fetcher", "Unable connect to node %s", 1))


def test_our_own_lines_are_never_folded() -> None:
    f = Repeats(window_s=30, clock=Clock())
    assert all(f.filter(_record("ingest.poller", "publish_error %s", i)) for i in range(5))
    assert all(f.filter(_record("stream.stall", "commit stuck at %d", i)) for i in range(5))
