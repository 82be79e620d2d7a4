"""``marsad ingest``: poll the configured feeds and publish new articles to Kafka.

``--once`` polls each feed one time, prints one line per feed (name, outcome, new items,
duplicates, next poll) and exits: for cron, debugging and outside checks.  Without it the
poller runs until SIGINT/SIGTERM, then finishes in-flight polls and flushes the producer.
Exit status: 0 when the run went through (individual feed failures are reported on their
line), 2 (``CONFIG_EXIT``) when nothing could be published because of a configuration error,
reported as ``marsad ingest: configuration error: feeds.yaml:LINE: …``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import click

from ingest.errors import ConfigError
from ingest.feeds_config import IngestConfig, load_config
from ingest.fetch import FetchLimits
from ingest.metrics import HealthServer, IngestMetrics
from ingest.poller import FeedOutcome, Poller
from ingest.publish import KafkaPublisher, Publisher
from ingest.state import StateStore
from ingest.websub import WebSub, WebSubConfig, parse_listen
from marsad.commands import (
    Command,
    bootstrap_option,
    config_file_option,
    file_option,
    metrics_options,
    stop_on_signals,
)
from marsad.settings import Settings

log = logging.getLogger(__name__)

STATE_FILE = "ingest-state.sqlite"
#: exit status for a bad feeds file: a ConfigError's, as for every config error
CONFIG_EXIT = ConfigError.exit_code


def state_path(home: Path) -> Path:
    return home / STATE_FILE


def _ensure_topics(bootstrap: str, settings: Settings) -> None:
    """Create the namespace's topics if missing, so broker auto-create never picks the
    partition count (the stream processor needs ``partitions``)."""
    from marsad.topics import ensure_topics

    ensure_topics(
        bootstrap,
        settings.partitions,
        settings.topics,
        timeout_s=15,
        replication=settings.replication_factor,
    )


async def _run(
    config: IngestConfig,
    publisher: Publisher,
    state: StateStore,
    *,
    once: bool,
    metrics_port: int,
    metrics_host: str,
    limits: FetchLimits,
    concurrency: int,
    websub: WebSubConfig | None = None,
) -> list[FeedOutcome]:
    metrics = IngestMetrics()
    health = HealthServer(metrics, metrics_port, metrics_host).start() if metrics_port else None
    if health:
        log.info("metrics and health on http://%s:%d/metrics, /healthz", metrics_host, health.port)
    poller = Poller(
        config, publisher, state, metrics=metrics, limits=limits, concurrency=concurrency,
        websub=WebSub(websub) if websub is not None and not once else None,
    )  # fmt: skip
    try:
        if once:
            return await poller.run_once()
        stop = asyncio.Event()
        stop_on_signals(stop, log, "finishing in-flight polls, then stopping")
        await poller.run(stop)
        return []
    finally:
        await poller.aclose()
        if health:
            health.stop()


def _websub_config(
    settings: Settings, listen: str | None, public_url: str | None
) -> WebSubConfig | None:
    """Push delivery's settings, the options overriding the environment; None when off."""
    updates = {}
    if listen is not None:
        updates["websub_listen"] = listen
    if public_url is not None:
        updates["websub_public_url"] = public_url
    try:
        if updates.get("websub_listen", settings.websub_listen).strip():
            parse_listen(updates.get("websub_listen", settings.websub_listen))
        return WebSubConfig.from_settings(settings.model_copy(update=updates))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--websub-listen") from exc


@click.command(name="ingest", cls=Command)
@click.option("--once", is_flag=True, help="Poll each feed once, print one line per feed, exit.")
@config_file_option("--feeds", "feeds_file", "feeds.yaml", "Feeds file")
@bootstrap_option()
@metrics_options("MARSAD_METRICS_PORT")
@click.option("--concurrency", type=int, default=64, show_default=True, help="Polls in flight.")
@click.option("--per-host", type=int, default=4, show_default=True, help="Requests per host.")
@file_option("--state", "state_file", f"State file [default: $MARSAD_HOME/{STATE_FILE}].")
@click.option(
    "--websub-listen",
    default=None,
    metavar="HOST:PORT",
    help="WebSub callback address; push delivery is off when empty "
    "(default $MARSAD_WEBSUB_LISTEN).",
)
@click.option(
    "--websub-public-url",
    default=None,
    metavar="URL",
    help="Base URL hubs reach the callback at (default $MARSAD_WEBSUB_PUBLIC_URL).",
)
def ingest_cmd(
    once: bool,
    feeds_file: Path,
    bootstrap: str | None,
    metrics_port: int | None,
    metrics_host: str,
    concurrency: int,
    per_host: int,
    state_file: Path | None,
    websub_listen: str | None,
    websub_public_url: str | None,
) -> None:
    """Poll feeds and publish new articles to the `articles` topic."""
    from marsad.settings import get_settings

    settings = get_settings()
    websub = _websub_config(settings, websub_listen, websub_public_url)
    config = load_config(feeds_file)  # a ConfigError ends the command: file:line, CONFIG_EXIT
    state = StateStore(state_file or state_path(settings.home))
    try:
        from marsad.kafka.broker import kafka_address

        servers = kafka_address(settings, bootstrap)
        _ensure_topics(servers, settings)
        publisher = KafkaPublisher(servers, topic=settings.topics.articles)
    except Exception as exc:  # kafka-python raises NoBrokersAvailable & co. at construction
        state.close()
        raise click.ClickException(f"cannot connect to Kafka: {type(exc).__name__}: {exc}") from exc
    started = time.time()
    try:
        outcomes = asyncio.run(
            _run(
                config,
                publisher,
                state,
                once=once,
                metrics_port=settings.metrics_port if metrics_port is None else metrics_port,
                metrics_host=metrics_host,
                limits=FetchLimits(per_host=per_host),
                concurrency=concurrency,
                websub=websub,
            )
        )
    finally:
        state.close()
    if once:
        for outcome in outcomes:
            click.echo(outcome.line())
        new = sum(o.new for o in outcomes)
        failed = sum(o.failed for o in outcomes)
        click.echo(
            f"# {len(outcomes)} feeds, {new} new articles published, {failed} failed,"
            f" {time.time() - started:.1f}s",
            err=True,
        )
