"""The commit hold: a source partition never commits past a message no agent finished.

Checked on Faust's own consumer class (state set by hand, no broker): the drill that found
it (drill 3, SIGKILL and restart) shows the same through the real broker.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import Consumer
from intervaltree import IntervalTree

from stream import commit_hold
from stream.commit_hold import holds_commit

TP = ("articles", 1)


def _consumer(cls: type, committed: int | None, acked: list[int], gaps: IntervalTree | None) -> Any:
    """A Faust consumer with only the state ``_new_offset`` reads."""
    c: Any = object.__new__(cls)
    c._committed_offset = defaultdict(lambda: None, {TP: committed})
    c._acked = defaultdict(list, {TP: list(acked)})
    c._acked_index = defaultdict(set, {TP: set(acked)})
    c._gap = defaultdict(IntervalTree)
    if gaps is not None:
        c._gap[TP] = gaps
    return c


def _unpatched(cls: Any) -> Any:
    method = cls._new_offset
    return getattr(method, "__wrapped__", method)


@pytest.fixture
def held_cls() -> type:
    """A subclass of Faust's consumer with the hold installed (the base is left alone)."""

    class Held(Consumer):
        # Faust's own method, whether or not another test has patched the base already.
        _new_offset = _unpatched(Consumer)

    assert commit_hold.install(Held) is True
    return Held


def test_faust_alone_commits_over_an_unfinished_head_message() -> None:
    # What the hold is for: committed 5 (next to read), 6 and 7 acked, 5 never acked.
    c = _consumer(Consumer, 5, [6, 7], None)
    assert _unpatched(Consumer)(c, TP) == 8, "this Faust no longer commits over the head"


def test_the_hold_commits_nothing_while_the_head_message_is_unfinished(held_cls: type) -> None:
    c = _consumer(held_cls, 5, [6, 7], None)
    assert c._new_offset(TP) is None
    assert c._acked[TP] == [6, 7], "the acked offsets are kept for when the head is done"


def test_once_the_head_is_acked_the_whole_run_commits(held_cls: type) -> None:
    c = _consumer(held_cls, 5, [6, 7, 5], None)
    assert c._new_offset(TP) == 8


def test_a_run_from_the_head_commits_as_before(held_cls: type) -> None:
    c = _consumer(held_cls, 5, [5, 6, 7, 9], None)
    assert c._new_offset(TP) == 8


def test_a_registered_gap_over_the_head_is_skipped_as_faust_does(held_cls: type) -> None:
    gaps = IntervalTree()
    gaps.addi(5, 6)  # offset 5 is a compacted-away or control record
    c = _consumer(held_cls, 5, [6, 7], gaps)
    assert c._new_offset(TP) == 8


def test_install_is_idempotent_and_refuses_a_faust_without_new_offset(held_cls: type) -> None:
    assert commit_hold.install(held_cls) is False
    with pytest.raises(RuntimeError, match="_new_offset"):
        commit_hold.install(type("NoOffsets", (), {}))


@pytest.mark.parametrize(
    ("committed", "acked", "held"),
    [
        (None, [6, 7], False),  # never committed: nothing to compare with
        (5, [], False),  # nothing acked
        (5, [5, 6], False),  # the head is done
        (5, [6], True),  # one unfinished message at the head
        (5, [9, 10], True),  # several
    ],
)
def test_holds_commit(committed: int | None, acked: list[int], held: bool) -> None:
    assert holds_commit(committed, acked, None) is held


def test_the_stream_app_installs_the_hold(tmp_path: Path) -> None:
    from faust.transport.consumer import Consumer as Base

    from stream.app import _faust_app

    _faust_app("hold-test", "127.0.0.1:1", 1, str(tmp_path))
    assert getattr(Base._new_offset, "_marsad_commit_hold", False)
