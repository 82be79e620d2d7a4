"""What every ``marsad`` command shares: its common options, how it stops, how an error ends it.

Each room owns its command (``ingest/cli.py``, ``stream/cli.py``, ``alerts/cli.py``); what
they have in common is decided here once:

* the options: ``--bootstrap`` (resolved by :func:`marsad.kafka.broker.kafka_address`, the
  one place that knows where Kafka is), a config file with its default in the config dir
  (``--feeds``, ``--rules``, ``--routing``), any other file, and ``--check``;
* stopping: SIGINT and SIGTERM set a stop event, logged once, and the command finishes what
  it is doing (:func:`stop_on_signals`);
* errors: a :class:`marsad.errors.MarsadError` that reaches a command's edge becomes one
  line, ``marsad <cmd>: <kind>: <what>``, and the error's ``exit_code``, with no traceback
  (:class:`Command`, and the ``marsad`` group for commands that are not one).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from marsad.errors import MarsadError

__all__ = [
    "Command",
    "bootstrap_option",
    "check_option",
    "config_file_option",
    "exit_on",
    "file_option",
    "stop_on_signals",
]

F = TypeVar("F", bound=Callable[..., Any])

#: the signals that ask a command to stop gracefully (Ctrl-C, ``docker stop``, systemd)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# --------------------------------------------------------------------------- options


def bootstrap_option() -> Callable[[F], F]:
    """``--bootstrap HOST:PORT``, ``None`` when not given: pass it to ``kafka_address``."""
    return click.option(
        "--bootstrap",
        default=None,
        metavar="HOST:PORT",
        help="Kafka bootstrap servers [default: $MARSAD_KAFKA_BOOTSTRAP, else the local broker].",
    )


def metrics_options(env: str) -> Callable[[F], F]:
    """``--metrics-port`` (``None`` when not given: the service reads ``$env``) and
    ``--metrics-host``: where a long-running service serves ``/metrics`` and ``/healthz``."""
    port = click.option(
        "--metrics-port",
        type=int,
        default=None,
        help=f"Port for /metrics and /healthz (0 = off; default ${env}).",
    )
    host = click.option(
        "--metrics-host",
        default="127.0.0.1",
        show_default=True,
        help="Address the metrics endpoint binds (0.0.0.0 inside a container).",
    )

    def both(fn: F) -> F:
        return port(host(fn))

    return both


def file_option(flag: str, dest: str, help: str, *, exists: bool = False) -> Callable[[F], F]:
    """A file path option (a :class:`~pathlib.Path`, ``None`` when not given)."""
    return click.option(
        flag,
        dest,
        type=click.Path(dir_okay=False, exists=exists, path_type=Path),
        default=None,
        help=help,
    )


def config_file_option(flag: str, dest: str, name: str, what: str) -> Callable[[F], F]:
    """A config file option whose default is ``name`` in the configured config dir; the
    command always receives a :class:`~pathlib.Path`."""

    def _default(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
        from marsad.settings import get_settings

        return value if value is not None else get_settings().config_dir / name

    return click.option(
        flag,
        dest,
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        callback=_default,
        help=f"{what} [default: $MARSAD_CONFIG_DIR/{name}].",
    )


def check_option(what: str) -> Callable[[F], F]:
    """``--check``: validate, report, exit without running."""
    return click.option("--check", is_flag=True, help=f"Validate {what}, then exit.")


# --------------------------------------------------------------------------- stopping


def stop_on_signals(
    stop: threading.Event | asyncio.Event, log: logging.Logger, then: str = "stopping"
) -> None:
    """SIGINT and SIGTERM set ``stop``; ``then`` says in the log what the command does next.

    A :class:`threading.Event` is set from a signal handler (call this from the main thread);
    an :class:`asyncio.Event` from the running loop (call this inside it), so the loop wakes.
    """

    def _on_signal(signum: int, _frame: FrameType | None = None) -> None:
        log.info("%s: %s", signal.Signals(signum).name, then)
        stop.set()

    if isinstance(stop, asyncio.Event):
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, _on_signal, sig)
    else:
        for sig in STOP_SIGNALS:
            signal.signal(sig, _on_signal)


# --------------------------------------------------------------------------- errors


def exit_on(ctx: click.Context, exc: MarsadError, command: str) -> NoReturn:
    """End the command with ``marsad <command>: <kind>: <what>`` and the error's exit code."""
    click.echo(f"marsad {command}: {exc.kind}: {exc}", err=True)
    ctx.exit(exc.exit_code)


def command_name(ctx: click.Context) -> str:
    """``stream``, ``kafka start``: the command's path below ``marsad``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names)) or (ctx.info_name or "")


class Command(click.Command):
    """A room's command (``@click.command(cls=Command)``): a MarsadError it raises ends it
    through :func:`exit_on`, also when the command is invoked on its own (tests)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MarsadError as exc:
            exit_on(ctx, exc, command_name(ctx))
