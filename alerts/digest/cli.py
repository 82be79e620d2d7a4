"""``marsad digest``: post, or with ``--dry-run`` only show, the daily digest now.

Which channels: ``--channel``, else every channel of the routing file's ``digest:`` section
(its time zone; a channel not listed there gets the defaults, 08:00 Asia/Damascus). The 24 h
end at ``--at`` (an ISO time; without a zone, in the channel's), else now. A post by hand is
the day's digest as far as the ledger goes: ``marsad alerts`` will not post that channel's
digest again that local day, and a second ``marsad digest`` says it is already out.
``--dry-run`` reads and builds exactly the same, then prints the message (its text, then the
Block Kit payload as JSON, ready for Slack's Block Kit Builder) and writes nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from marsad.commands import Command, bootstrap_option, config_file_option, file_option
from marsad.settings import get_settings

log = logging.getLogger(__name__)


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO time (2026-12-02T08:00)") from exc


@click.command("digest", cls=Command)
@bootstrap_option()
@config_file_option("--routing", "routing_file", "routing.yaml", "Routing file")
@click.option(
    "--channel", "channels", multiple=True, help="A channel (repeatable) [default: digest:]."
)
@click.option("--at", "at_text", default=None, help="ISO time the 24 h end at [default: now].")
@click.option("--dry-run", is_flag=True, help="Print the message; post nothing, write nothing.")
@file_option("--incidents", "incidents_file", "Incidents (JSON Lines) instead of the topic.")
def digest_cmd(
    bootstrap: str | None,
    routing_file: Path,
    channels: tuple[str, ...],
    at_text: str | None,
    dry_run: bool,
    incidents_file: Path | None,
) -> None:
    """Post (or preview) the daily Slack digest."""
    from alerts import routing
    from alerts.digest.layout import digest_message
    from alerts.digest.schedule import key
    from alerts.digest.scheduler import DigestScheduler, make_digest
    from alerts.digest.source import ActionStoreFeedback, IncidentSource, JsonlIncidentSource

    settings = get_settings()
    config = routing.load(routing_file)  # a RoutingError ends it at file:line
    configured = {c.channel: c for c in config.digest.channels}
    try:
        chosen = [configured.get(c) or routing.DigestChannel(channel=c) for c in channels]
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--channel") from exc
    if not chosen:
        fallback = routing.DigestChannel(channel=config.default_channel)
        chosen = list(configured.values()) or [fallback]
    source: IncidentSource
    if incidents_file is not None:
        source = JsonlIncidentSource(incidents_file)
    else:
        from alerts.digest.source import KafkaIncidentSource
        from marsad.kafka.broker import kafka_address

        source = KafkaIncidentSource(kafka_address(settings, bootstrap), settings.topics.incidents)
    feedback = ActionStoreFeedback(settings.home)
    asked = _at(at_text)
    now = datetime.now(UTC)

    def moment(channel: routing.DigestChannel) -> datetime:
        if asked is None:
            return now
        return asked if asked.tzinfo else asked.replace(tzinfo=channel.zone)

    if dry_run:
        for channel in chosen:
            at = moment(channel)
            digest = make_digest(channel, at, source, feedback)
            message = digest_message(digest, key(channel.channel, digest.local_date))
            click.echo(f"── {channel.channel} · {digest.local_date} (dry run: not posted) ──")
            click.echo(message.text)
            click.echo(json.dumps(message.as_payload(), ensure_ascii=False, indent=2))
        return

    from alerts.ledger import Ledger
    from alerts.service import LEDGER_FILE, build_sink

    sink = build_sink(settings)
    with Ledger(settings.home / LEDGER_FILE) as ledger:
        scheduler = DigestScheduler(config.digest, sink, ledger, source, feedback)
        for channel in chosen:
            done = scheduler.post(channel, moment(channel))
            click.echo(f"{done.channel}: {done.key} {done.outcome}")
