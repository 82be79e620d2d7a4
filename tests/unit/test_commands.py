"""What every command shares (marsad.commands): errors end a command as one line and their
exit code, SIGINT/SIGTERM set the stop event, config files default to the config dir."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import control.cli
from marsad.commands import config_file_option, stop_on_signals
from marsad.errors import MarsadError
from marsad.settings import get_settings


class _Boom(MarsadError):
    exit_code = 5


@click.command("boom")
def boom_cmd() -> None:
    """A plain click command (not marsad.commands.Command) that raises a MarsadError."""
    raise _Boom("the thing broke")


def test_the_marsad_group_turns_an_uncaught_marsad_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(control.cli.COMMANDS, "boom", f"{__name__}:boom_cmd")
    result = CliRunner().invoke(control.cli.main, ["boom"])
    assert result.exit_code == 5
    assert result.stderr == "marsad boom: error: the thing broke\n"
    assert isinstance(result.exception, SystemExit)  # no traceback


def test_a_bad_rules_file_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n- name: x\n  kind: incident\n  when: {killed_gte: -1}\n", "utf-8")
    result = CliRunner().invoke(control.cli.main, ["stream", "--rules", str(bad), "--check"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"marsad stream: configuration error: {bad}:4: rule #0 (x) field 'when.killed_gte': "
        "Input should be greater than or equal to 0 (got -1)\n"
    )


def test_a_bad_routing_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text('default_channel: "#a"\nroutes:\n  - match: {actors: [NATO]}\n', "utf-8")
    result = CliRunner().invoke(control.cli.main, ["alerts", "--routing", str(bad), "--check"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"marsad alerts: configuration error: {bad}:3: routes.0.")


def test_a_config_file_option_defaults_to_the_config_dir(tmp_path: Path) -> None:
    @click.command()
    @config_file_option("--rules", "rules_path", "rules.yaml", "Rules file")
    def show(rules_path: Path) -> None:
        click.echo(str(rules_path))

    assert CliRunner().invoke(show, []).output.strip() == str(
        get_settings().config_dir / "rules.yaml"
    )
    given = tmp_path / "r.yaml"
    assert CliRunner().invoke(show, ["--rules", str(given)]).output.strip() == str(given)
    assert "[default: $MARSAD_CONFIG_DIR/rules.yaml]" in CliRunner().invoke(show, ["--help"]).output


@pytest.fixture
def _handlers_restored() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.usefixtures("_handlers_restored")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sets_a_threading_stop_event(sig: signal.Signals) -> None:
    stop = threading.Event()
    stop_on_signals(stop, logging.getLogger("test"), "stopping")
    os.kill(os.getpid(), sig)
    assert stop.wait(5)


def test_a_signal_sets_an_asyncio_stop_event_and_wakes_the_loop() -> None:
    async def run() -> bool:
        stop = asyncio.Event()
        stop_on_signals(stop, logging.getLogger("test"), "stopping")
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 5)
        return stop.is_set()

    assert asyncio.run(run())


@pytest.mark.parametrize("name", sorted(control.cli.COMMANDS))
def test_every_listed_command_imports_and_has_help(name: str) -> None:
    """A command the table names but whose module is gone would answer "not available in
    this build": every one the project ships must load and describe itself."""
    group = control.cli.main
    assert isinstance(group, click.Group)
    command = group.get_command(click.Context(group), name)
    assert command is not None
    result = CliRunner().invoke(control.cli.main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "not available in this build" not in result.output
    assert name in control.cli.HELP
