"""The inter-process file lock that serialises jar fetches and broker starts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from marsad.kafka.errors import BrokerError
from marsad.kafka.locks import file_lock


def test_second_holder_times_out_with_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "sub" / "x.lock"
    with (
        file_lock(lock),
        pytest.raises(BrokerError, match="another process has held"),
        file_lock(lock, timeout=0.3, what="a test"),
    ):
        pass  # pragma: no cover - must not be reached


def test_lock_is_released_after_the_block(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with file_lock(lock):
        pass
    with file_lock(lock, timeout=0.5):
        assert lock.exists()


def test_waiter_gets_the_lock_once_released(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with file_lock(lock):
            holding.set()
            release.wait(5)
            order.append("holder done")

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(5)
    release.set()
    with file_lock(lock, timeout=5):
        order.append("waiter in")
    thread.join(5)
    assert order == ["holder done", "waiter in"]
