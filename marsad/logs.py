"""Logging set-up: one line per event, to stderr, plain or JSON (for log shippers).

Client libraries repeat themselves while a broker is away (aiokafka logs each failed connect,
fetch, metadata and coordinator request, about twenty lines a second): :class:`Repeats` lets
the first of each kind through and then one line per ``window_s`` that says how many it
held back, so an outage reads as a few lines and what the services say stays visible.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

#: Loggers of the client libraries (quiet below WARNING; their repeats are folded).
LIBRARIES = ("kafka", "aiokafka", "faust", "mode", "httpx", "httpcore", "slack_sdk")


class Repeats(logging.Filter):
    """Fold a library's repeated message: a record whose logger and message template were
    let through less than ``window_s`` ago is held back and counted; the next one after the
    window passes, saying how many were held. Our own loggers are never folded."""

    def __init__(
        self,
        window_s: float = 30.0,
        libraries: tuple[str, ...] = LIBRARIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self._libraries = libraries
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        root = record.name.split(".", 1)[0]
        if root not in self._libraries:
            return True
        key = (record.name, str(record.msg))
        now = self._clock()
        with self._lock:
            shown, held = self._last.get(key, (float("-inf"), 0))
            if now - shown < self.window_s:
                self._last[key] = (shown, held + 1)
                return False
            self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {self.window_s:.0f} s]"
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO", as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Client libraries are chatty at INFO; their warnings still show.
    for noisy in LIBRARIES:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
