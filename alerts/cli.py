"""``marsad alerts``: run the notifier (Kafka ``alerts`` → Slack / webhook / console).

A bad routing file stops it before anything is consumed (``marsad alerts: configuration
error: routing.yaml:LINE: …``, exit 2); so do unusable Slack credentials (exit 1).

With ``--metrics-port`` (or ``MARSAD_ALERTS_METRICS_PORT``) it serves ``/metrics`` and
``/healthz`` (503 when alerts wait and none has been done with for 5 minutes:
``alerts.health``).

With ``SLACK_APP_TOKEN`` (an app-level token; the bot token too) it also handles the alerts'
buttons and ``/marsad mutes`` over Socket Mode, beside the Kafka loop
(:mod:`alerts.interactive.service`); a token Slack refuses stops it at start-up (exit 1).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click

from marsad.commands import (
    Command,
    bootstrap_option,
    check_option,
    config_file_option,
    metrics_options,
    stop_on_signals,
)
from marsad.settings import get_settings

log = logging.getLogger(__name__)


@click.command("alerts", cls=Command)
@bootstrap_option()
@config_file_option("--routing", "routing_file", "routing.yaml", "Routing file")
@click.option("--group", default=None, help="consumer group (default: marsad-alerts, prefixed)")
@click.option("--once", is_flag=True, help="stop once the topic has been idle for --max-idle.")
@click.option(
    "--max-idle",
    type=float,
    default=None,
    help="stop after this many seconds without an alert (default with --once: 5).",
)
@metrics_options("MARSAD_ALERTS_METRICS_PORT")
@check_option("routing and credentials")
def alerts_cmd(
    bootstrap: str | None,
    routing_file: Path,
    group: str | None,
    once: bool,
    max_idle: float | None,
    metrics_port: int | None,
    metrics_host: str,
    check: bool,
) -> None:
    """Turn alerts into Slack messages: each revision delivered once, committed after Slack."""
    from alerts.delivery import PermanentDeliveryError, TransientDeliveryError
    from alerts.health import HealthServer, NotifierHealth
    from alerts.service import build_dispatcher, build_interactivity, run_notifier

    settings = get_settings()
    dispatcher = build_dispatcher(settings, routing_file)  # a RoutingError ends it at file:line
    health = NotifierHealth(dispatcher.ledger.path)
    health.instrument(dispatcher.sink)  # before check(): auth.test is a Slack call too
    server: HealthServer | None = None
    desk = build_interactivity(settings, dispatcher)  # SLACK_APP_TOKEN: buttons, Socket Mode
    try:
        try:
            log.info("delivering to %s", dispatcher.sink.check())
        except PermanentDeliveryError as exc:
            raise click.ClickException(
                f"{exc}. No alert was consumed: they wait on Kafka until this is fixed."
            ) from exc
        except TransientDeliveryError as exc:
            log.warning("Slack not reachable at start-up (%s); will retry per alert", exc)
        log.info(
            "routing: default %s, %d routes; ledger %s",
            dispatcher.routing.default_channel,
            len(dispatcher.routing.routes),
            dispatcher.ledger.path,
        )
        identity = desk[0].check() if desk is not None else None  # a refused token: exit 1
        if check:
            click.echo("alerts: configuration OK")
            return
        if once and max_idle is None:
            max_idle = 5.0
        from marsad.kafka.broker import kafka_address

        servers = kafka_address(settings, bootstrap)
        stop = threading.Event()
        stop_on_signals(stop, log, "finishing the current alert, then stopping")
        topics = settings.topics
        group = group or topics.alerts_group
        log.info("consuming %s from %s as group %s", topics.alerts, servers, group)
        port = settings.alerts_metrics_port if metrics_port is None else metrics_port
        if port:
            server = HealthServer(health, port, metrics_host).start()
            log.info("metrics and health on http://%s:%d/metrics, /healthz", server.host, port)
        if desk is not None:
            desk[0].start(identity)
        # The loop logs its one closing line ("notifier stopped: <outcomes>").
        run_notifier(
            dispatcher,
            servers,
            stop,
            topics=topics,
            group_id=group,
            max_idle_s=max_idle,
            observer=health,
            gate=desk[1] if desk is not None else None,
        )
    finally:
        if desk is not None:
            desk[0].close()
            desk[0].store.close()
        if server is not None:
            server.stop()
        dispatcher.ledger.close()
