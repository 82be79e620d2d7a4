"""An inter-process lock on a file, so two ``marsad`` commands never fetch or start at once."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

from marsad.kafka.errors import BrokerError


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 600.0, what: str = "this operation") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the ``with`` body.

    Polls rather than blocking, so a stuck holder turns into a clear error after ``timeout``.
    The lock dies with its process: a crash never leaves it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BrokerError(
                        f"another process has held {path} for {timeout:.0f} s during {what}"
                    ) from None
                time.sleep(0.1)  # polling the lock, bounded by the deadline
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
