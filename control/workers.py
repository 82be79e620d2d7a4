"""Run ``marsad`` services as child processes, and know when stream workers are in the group.

Used by ``marsad replay``, the benchmark, the integration tests and the drills: a service in
its own process is what production runs (one loop, real signals), and it can be stopped with
SIGTERM (graceful) or SIGKILL (a crash) like the real thing. :class:`ServiceProcess` is any
``marsad <command>`` child; :class:`WorkerProcess` is a ``marsad stream`` worker.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from control.services import marsad_executable, terminate
from marsad.kafka.probes import GroupProbe
from marsad.settings import PROJECT_ROOT
from marsad.topics import Topics

log = logging.getLogger(__name__)


class ServiceProcess:
    """One ``marsad <args…>`` child with its own log file: SIGTERM to stop, SIGKILL to crash.

    Each start appends a ``===== start #n =====`` line to the log, so a restarted service's
    runs stay apart; the child owns the log file descriptor. ``env`` is the child's whole
    environment (default: this process's).
    """

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        grace_s: float = 30.0,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log_path
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.grace_s = grace_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            out.write(f"\n===== start #{self.starts + 1} at {time.time():.3f} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [*marsad_executable(), *self.args],
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        log.info("started %s pid %d", self.name, self.proc.pid)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, wait (``grace_s`` unless told), SIGKILL if it hangs; the exit code."""
        if self.proc is None:
            return None
        return terminate(self.proc, self.grace_s if timeout is None else timeout)

    def kill(self) -> None:
        """SIGKILL: a crash, no commit, no flush, no goodbye to the consumer group."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


class WorkerProcess(ServiceProcess):
    """One ``marsad stream`` worker of ``app_id``; ``env`` adds to this process's environment."""

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
        args = ["stream", "--bootstrap", bootstrap, "--app-id", app_id, *extra_args]
        if rules is not None:
            args += ["--rules", str(rules)]
        if extractor is not None:
            args += ["--extractor", extractor]
        full_env = {**os.environ, **(env or {})}
        # The worker must import this checkout (and tests' helper extractors) first.
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), full_env.get("PYTHONPATH", "")) if p
        )
        super().__init__(f"stream worker (app {app_id})", args, log_path, full_env)
        self.bootstrap = bootstrap
        self.app_id = app_id


def restarted_if_stalled(proc: ServiceProcess) -> bool:
    """Start ``proc`` again if it is a stream worker that stopped itself as stalled
    (``--exit-on-stall``), as compose's restart policy and ``marsad up`` do; False for any
    other exit (the caller's to report)."""
    from stream.cli import EXIT_STALLED

    if proc.returncode() != EXIT_STALLED:
        return False
    log.warning("%s stopped itself stalled: restarting it", proc.name)
    proc.start()
    return True


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
    since one stage's output is the next stage's input). A worker that stopped itself as
    stalled (``--exit-on-stall``: a known faust-streaming failure) is restarted, as compose's
    restart policy and ``marsad up`` do; any other exit is an error."""
    deadline = time.monotonic() + timeout
    zero_streak = 0
    last: dict[str, int] = {}
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            for w in workers:
                if not w.alive() and not restarted_if_stalled(w):
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
