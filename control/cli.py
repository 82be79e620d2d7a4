"""The ``marsad`` command: one entry point, each subcommand owned by the room that does the work.

Subcommands are imported lazily (click's documented LazyGroup pattern) so that
``marsad extract`` does not pay for importing Faust or Kafka clients, and so each room
keeps its own command next to its code.

This is the outermost edge: a :class:`marsad.errors.MarsadError` no command handled becomes
one line, ``marsad <cmd>: error: …`` (``configuration error`` for a ConfigError), and the
error's ``exit_code`` (:func:`marsad.commands.exit_on`), never a traceback. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from marsad.commands import exit_on
from marsad.errors import MarsadError
from marsad.logs import setup_logging
from marsad.settings import get_settings

#: name -> "module:attribute" of a click command.
COMMANDS: dict[str, str] = {
    "extract": "stream.extract.cli:extract_cmd",
    "eval": "stream.extract.cli:eval_cmd",
    "kafka": "marsad.kafka.cli:kafka_group",
    "ingest": "ingest.cli:ingest_cmd",
    "stream": "stream.cli:stream_cmd",
    "alerts": "alerts.cli:alerts_cmd",
    "up": "control.up:up_cmd",
    "replay": "control.replay:replay_cmd",
    "eval-merge": "control.eval_merge:eval_merge_cmd",
    "demo": "control.demo:demo_cmd",
    "status": "control.status:status_cmd",
    "check": "control.check:check_cmd",
    "store": "desk.store.cli:store_cmd",
    "export": "desk.export:export_cmd",
    "web": "desk.web.cli:web_cmd",
    "digest": "alerts.digest.cli:digest_cmd",
    "feedback": "alerts.interactive.cli:feedback_group",
}

HELP = {
    "extract": "Extract incidents from articles (JSON Lines in, JSON Lines out).",
    "eval": "Score the extractor against a gold file.",
    "kafka": "Manage the embedded local Kafka broker.",
    "ingest": "Poll feeds and publish articles.",
    "stream": "Run the Faust stream processor.",
    "alerts": "Run the Slack notifier.",
    "up": "Run broker, ingest, stream and alerts together.",
    "replay": "Back-test: push an archive through the pipeline, write alerts.",
    "eval-merge": "Score incident merging against gold events (through the stream).",
    "demo": "Offline end-to-end showcase with a bundled feed.",
    "status": "Health, consumer lag and DLQ counts.",
    "check": "Can this deployment run? Config, environment, broker, topics, Slack, feeds.",
    "store": "Keep incidents, alerts and articles in the database (every revision).",
    "export": "Export stored incidents (ACLED CSV, GeoJSON, JSON Lines).",
    "web": "Serve the analyst's desk: map, timeline, incident pages (read-only).",
    "digest": "Post (or preview) the daily Slack digest.",
    "feedback": "Analysts' corrections from Slack, exported as gold cases.",
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MarsadError as exc:
            exit_on(ctx, exc, ctx.invoked_subcommand or "")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return _missing(cmd_name)
            raise
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _missing(name: str) -> click.Command:
    @click.command(name=name)
    def _cmd() -> None:
        raise click.ClickException(f"'{name}' is not available in this build")

    return _cmd


@click.group(cls=LazyGroup)
@click.option("--log-level", default=None, help="[default: $MARSAD_LOG_LEVEL or INFO]")
@click.option("--log-json/--no-log-json", default=None, help="[default: $MARSAD_LOG_JSON or off]")
def main(log_level: str | None, log_json: bool | None) -> None:
    """Marsad (مرصد): Arabic conflict-incident monitor."""
    settings = get_settings()  # the environment is read there, and only there
    setup_logging(
        log_level or settings.log_level, settings.log_json if log_json is None else log_json
    )
