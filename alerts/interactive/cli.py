"""``marsad feedback export``: the desk's corrections as evaluation cases (JSON Lines).

The corrections and the alerts they are about are read from the action store in
``MARSAD_HOME`` (``alerts-actions.sqlite``, written by ``marsad alerts`` with Socket Mode); see
:mod:`alerts.interactive.export` for what a case holds and what it cannot (the article text).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from marsad.commands import file_option
from marsad.settings import get_settings


def _when(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date or time") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@click.group("feedback")
def feedback_group() -> None:
    """What the desk said about the alerts (corrections made from Slack)."""


@feedback_group.command("export")
@file_option("--out", "out", "Write here instead of standard output.")
@click.option("--since", default=None, help="Corrections made at or after (ISO; UTC if no zone).")
@click.option("--until", default=None, help="Corrections made before (ISO; UTC if no zone).")
@click.option(
    "--merges",
    is_flag=True,
    help="Export the 'Duplicate of…' corrections as merge-set lines instead of gold-set lines.",
)
def export_cmd(out: Path | None, since: str | None, until: str | None, merges: bool) -> None:
    """Corrections as JSON Lines in the gold-set format (or the merge-set format)."""
    from alerts.interactive.actions import ACTIONS_FILE, ActionStore
    from alerts.interactive.export import gold_lines, merge_lines

    path = get_settings().home / ACTIONS_FILE
    start = _when(since, datetime.fromtimestamp(0, UTC))
    end = _when(until, datetime.now(UTC))
    if not path.exists():
        click.echo(f"no action store at {path}: nothing to export", err=True)
        lines = []
    else:
        with ActionStore(path) as store:
            corrections = store.corrections(start, end)
            build = merge_lines if merges else gold_lines
            lines = list(build(corrections, store.alert))
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
    click.echo(f"{len(lines)} case(s) exported", err=True)
