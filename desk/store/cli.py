"""``marsad store``: keep every incident, alert and article revision in the desk's database.

``--migrate`` brings the database to the shipped schema and exits; the service migrates at
start as well, so a fresh ``$MARSAD_HOME`` or an empty PostgreSQL database just works.

With ``--metrics-port`` (or ``MARSAD_STORE_METRICS_PORT``) it serves ``/metrics`` and
``/healthz`` (503 when records wait and none was written for 5 minutes:
``desk.store.health``).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import click

from marsad.commands import Command, bootstrap_option, metrics_options, stop_on_signals
from marsad.settings import get_settings

if TYPE_CHECKING:
    from marsad.health_server import HealthServer

log = logging.getLogger(__name__)


@click.command("store", cls=Command)
@bootstrap_option()
@click.option(
    "--database",
    "database_url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL [default: $MARSAD_DATABASE_URL, else SQLite in $MARSAD_HOME].",
)
@click.option("--migrate", is_flag=True, help="Migrate the database to the current schema, exit.")
@click.option("--group", default=None, help="consumer group (default: marsad-store, prefixed)")
@click.option("--once", is_flag=True, help="stop once the topics have been idle for --max-idle.")
@click.option(
    "--max-idle",
    type=float,
    default=None,
    help="stop after this many seconds without a record (default with --once: 5).",
)
@metrics_options("MARSAD_STORE_METRICS_PORT")
def store_cmd(
    bootstrap: str | None,
    database_url: str | None,
    migrate: bool,
    group: str | None,
    once: bool,
    max_idle: float | None,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Consume incidents, alerts and articles into the database; commit after each write."""
    from desk.store.engine import open_engine, redacted
    from desk.store.migrate import ready

    settings = get_settings()
    engine = open_engine(database_url, settings=settings)
    server: HealthServer | None = None
    try:
        revision = ready(engine)
        log.info("store database %s at schema %s", redacted(engine), revision)
        if migrate:
            click.echo(f"store: database at schema {revision}")
            return
        from desk.store.health import StoreHealth
        from desk.store.service import run_store, store_group
        from marsad.health_server import HealthServer
        from marsad.kafka.broker import kafka_address

        if once and max_idle is None:
            max_idle = 5.0
        servers = kafka_address(settings, bootstrap)
        topics = settings.topics
        group = group or store_group(topics)
        stop = threading.Event()
        stop_on_signals(stop, log, "finishing the current batch, then stopping")
        log.info(
            "consuming %s, %s, %s from %s as group %s",
            topics.incidents,
            topics.alerts,
            topics.articles,
            servers,
            group,
        )
        health = StoreHealth()
        port = settings.store_metrics_port if metrics_port is None else metrics_port
        if port > 0:
            server = HealthServer(health.render, health.health, port, metrics_host, "store-health")
            server.start()
            log.info(
                "metrics and health on http://%s:%d/metrics, /healthz", server.host, server.port
            )
        run_store(
            engine,
            servers,
            stop,
            topics=topics,
            group_id=group,
            max_idle_s=max_idle,
            observer=health,
        )
    finally:
        if server is not None:
            server.stop()
        engine.dispose()
