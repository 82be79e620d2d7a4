"""Run ``marsad stream`` workers as child processes, and know when they are in the group.

Used by ``marsad replay``, the benchmark and the integration tests: a worker in its own
process is what production runs (one loop, real signals), and it can be stopped with
SIGTERM (graceful) or SIGKILL (a crash) like the real thing.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from control.services import marsad_executable, terminate
from marsad.kafka.probes import GroupProbe
from marsad.settings import PROJECT_ROOT
from marsad.topics import Topics

log = logging.getLogger(__name__)


class WorkerProcess:
    """One ``marsad stream`` child with its log file."""

    def __init__(
        self,
        bootstrap: str,
        app_id: str,
        log_path: Path,
        rules: Path | None = None,
        extractor: str | None = None,
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.bootstrap = bootstrap
        self.app_id = app_id
        self.log_path = log_path
        self.args = ["stream", "--bootstrap", bootstrap, "--app-id", app_id, *extra_args]
        if rules is not None:
            self.args += ["--rules", str(rules)]
        if extractor is not None:
            self.args += ["--extractor", extractor]
        self.env = {**os.environ, **(env or {})}
        # The worker must import this checkout (and tests' helper extractors) first.
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), self.env.get("PYTHONPATH", "")) if p
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*marsad_executable(), *self.args],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        log.info("started stream worker pid %d (app %s)", self.proc.pid, self.app_id)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait, SIGKILL if it hangs; returns the exit code."""
        if self.proc is None:
            return None
        terminate(self.proc, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, no commit, no goodbye to the group."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def wait_for_members(
    bootstrap: str,
    app_id: str,
    workers: Sequence[WorkerProcess],
    timeout: float = 120.0,
    articles: str = Topics().articles,
) -> None:
    """Wait until the group is stable with one member per worker, each owning ``articles``
    partitions (the contract's topic unless told). Raises ``RuntimeError`` (with the workers'
    log tails) on timeout or exit."""
    deadline = time.monotonic() + timeout
    last = ""
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            for w in workers:
                if not w.alive():
                    raise RuntimeError(
                        f"stream worker exited with {w.proc and w.proc.returncode}:\n"
                        f"{w.log_text()[-3000:]}"
                    )
            try:
                members = probe.members(app_id)
                state = probe.state(app_id)
            except Exception as exc:  # coordinator not ready yet
                last = repr(exc)
                members, state = [], ""
            owning = [m for m in members if any(t == articles for t, _ in m["assignment"])]
            if state == "Stable" and len(members) == len(workers) == len(owning):
                return
            last = f"state {state!r}, {len(members)} member(s), {len(owning)} owning articles"
            time.sleep(0.25)
    tails = "\n".join(w.log_text()[-1500:] for w in workers)
    raise RuntimeError(f"stream group {app_id} not ready after {timeout:.0f} s ({last})\n{tails}")


def wait_drained(
    bootstrap: str,
    app_id: str,
    topics: Sequence[str],
    timeout: float = 300.0,
    workers: Sequence[WorkerProcess] = (),
) -> None:
    """Wait until ``app_id`` has committed everything on ``topics`` (lag 0 twice in a row,
    since one stage's output is the next stage's input)."""
    deadline = time.monotonic() + timeout
    zero_streak = 0
    last: dict[str, int] = {}
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            for w in workers:
                if not w.alive():
                    raise RuntimeError(f"stream worker exited:\n{w.log_text()[-3000:]}")
            try:
                last = probe.lag(app_id, topics)
            except Exception as exc:
                log.debug("lag probe failed: %r", exc)
                last = {}
            zero_streak = zero_streak + 1 if last and not any(last.values()) else 0
            if zero_streak >= 2:
                return
            time.sleep(0.3)
    raise RuntimeError(f"stream app {app_id} still behind after {timeout:.0f} s: {last}")
