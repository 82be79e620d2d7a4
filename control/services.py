"""Run Marsad services as child processes: the supervisor behind `marsad up` and `marsad demo`.

Each service (`marsad ingest|stream|alerts`) runs in its own process, as in the compose
deployment, so a crash in one is visible and restartable without taking the others down.
Children run in their own session: a terminal Ctrl-C reaches only the supervisor, which then
asks each child to stop with SIGTERM (each finishes its current message and commits) and
kills only what is still alive after the grace period.

A child may also be given a health URL (a stream worker's ``/healthz``): one that answers 503
(stalled: it runs, stays in its consumer group, and makes no progress) is restarted like one
that exited, within the same restart budget.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


def marsad_executable() -> list[str]:
    """The command that runs this very installation's ``marsad`` (same venv, same code)."""
    exe = Path(sys.executable).with_name("marsad")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "marsad"]


@dataclass
class Service:
    name: str
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    #: ``http://…/healthz`` to poll while it runs (None: only its exit is watched).
    health_url: str | None = None
    last_health: float = 0.0


def probe_health(url: str, timeout_s: float = 3.0) -> tuple[int | None, str]:
    """``(HTTP status, body)`` of a health URL; ``(None, reason)`` when nothing answers
    (starting, or gone: its exit is seen by ``poll``)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return int(resp.status), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        return None, str(exc)


class ServiceGroup:
    """Start, watch (restart with a budget) and stop a set of ``marsad`` subcommands."""

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path | None = None,
        max_restarts: int = 5,
        restart_window_s: float = 300.0,
        health_every_s: float = 5.0,
    ) -> None:
        self.env = env
        self.log_dir = log_dir
        self.max_restarts = max_restarts
        self.restart_window_s = restart_window_s
        self.health_every_s = health_every_s
        self.services: dict[str, Service] = {}

    def add(self, name: str, *args: str, health_url: str | None = None) -> None:
        """Run ``marsad <name> <args…>`` as the service ``name`` (``health_url``: restart it
        when that answers 503)."""
        self.services[name] = Service(
            name, [*marsad_executable(), name, *args], health_url=health_url
        )

    def _spawn(self, svc: Service) -> None:
        out: int | object = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{svc.name}.log", "ab")  # noqa: SIM115 - owned by child
        svc.proc = subprocess.Popen(
            svc.args,
            env=self.env,
            start_new_session=True,
            stdout=out,  # type: ignore[arg-type]
            stderr=subprocess.STDOUT if out is not None else None,
        )
        log.info("started %s (pid %d)", svc.name, svc.proc.pid)

    def start(self) -> None:
        for svc in self.services.values():
            self._spawn(svc)

    def check(self) -> None:
        """Restart a child that died or whose health URL says it is stalled; give up (raise)
        when one keeps failing."""
        now = time.monotonic()
        for svc in self.services.values():
            if svc.proc is None:
                continue
            if svc.proc.poll() is None:
                why = self._unhealthy(svc, now)
                if why is None:
                    continue
                self._budget(svc, now, why)
                log.warning("service %s is %s; restarting it", svc.name, why)
                terminate(svc.proc)
            else:
                why = f"exited with code {svc.proc.returncode}"
                self._budget(svc, now, why)
                log.warning("service %s %s; restarting", svc.name, why)
            svc.restarts.append(now)
            self._spawn(svc)

    def _budget(self, svc: Service, now: float, why: str) -> None:
        svc.restarts = [t for t in svc.restarts if now - t < self.restart_window_s]
        if len(svc.restarts) >= self.max_restarts:
            raise RuntimeError(
                f"service {svc.name} {why}: restarted {len(svc.restarts)} times in "
                f"{self.restart_window_s:.0f}s; giving up"
            )

    def _unhealthy(self, svc: Service, now: float) -> str | None:
        """Why a running child needs a restart (its health URL answered 503), else None."""
        if svc.health_url is None or now - svc.last_health < self.health_every_s:
            return None
        svc.last_health = now
        status, body = probe_health(svc.health_url)
        if status is None or status < 500:
            return None
        return f"not progressing ({svc.health_url} answered {status}: {body[:200]})"

    def alive(self) -> dict[str, bool]:
        return {n: s.proc is not None and s.proc.poll() is None for n, s in self.services.items()}

    def stop(self, grace_s: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every child, wait up to ``grace_s``, SIGKILL the rest; return exit codes."""
        for svc in self.services.values():
            if svc.proc is not None and svc.proc.poll() is None:
                log.info("stopping %s (pid %d)", svc.name, svc.proc.pid)
                svc.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        codes: dict[str, int | None] = {}
        for svc in self.services.values():
            if svc.proc is None:
                continue
            try:
                codes[svc.name] = svc.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop within %.0fs; killing it", svc.name, grace_s)
                svc.proc.kill()
                codes[svc.name] = svc.proc.wait()
        return codes


def terminate(proc: subprocess.Popen[bytes], grace_s: float = 30.0) -> int:
    """Ask a child to stop (SIGTERM: it finishes its message and commits), wait up to
    ``grace_s``, then SIGKILL it; return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            log.error("pid %d did not stop within %.0fs; killing it", proc.pid, grace_s)
            proc.kill()
    return proc.wait()


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment with Marsad variables overridden for the children."""
    env = dict(os.environ)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
