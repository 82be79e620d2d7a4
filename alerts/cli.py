"""``marsad alerts``: run the notifier (Kafka ``alerts`` → Slack / webhook / console)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from marsad.settings import get_settings

log = logging.getLogger(__name__)


@click.command("alerts")
@click.option("--bootstrap", help="Kafka bootstrap servers (default: MARSAD_KAFKA_BOOTSTRAP).")
@click.option(
    "--routing",
    "routing_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="routing YAML (default: MARSAD_CONFIG_DIR/routing.yaml).",
)
@click.option("--group", default=None, help="consumer group (default: marsad-alerts, prefixed)")
@click.option("--once", is_flag=True, help="stop once the topic has been idle for --max-idle.")
@click.option(
    "--max-idle",
    type=float,
    default=None,
    help="stop after this many seconds without an alert (default with --once: 5).",
)
@click.option("--check", is_flag=True, help="validate routing and credentials, then exit.")
def alerts_cmd(
    bootstrap: str | None,
    routing_file: Path | None,
    group: str | None,
    once: bool,
    max_idle: float | None,
    check: bool,
) -> None:
    """Turn alerts into Slack messages: each revision delivered once, committed after Slack."""
    from alerts.delivery import PermanentDeliveryError, TransientDeliveryError
    from alerts.routing import RoutingError
    from alerts.service import build_dispatcher, run_notifier

    settings = get_settings()
    try:
        dispatcher = build_dispatcher(settings, routing_file)
    except RoutingError as exc:
        raise click.ClickException(str(exc)) from exc
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
        if check:
            click.echo("alerts: configuration OK")
            return
        if once and max_idle is None:
            max_idle = 5.0
        from marsad.kafka.broker import kafka_address

        servers = kafka_address(settings, bootstrap)
        stop = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("%s: finishing the current alert, then stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        topics = settings.topics
        group = group or topics.alerts_group
        log.info("consuming %s from %s as group %s", topics.alerts, servers, group)
        stats = run_notifier(
            dispatcher, servers, stop, topics=topics, group_id=group, max_idle_s=max_idle
        )
        click.echo(f"alerts: {stats}", err=True)
    finally:
        dispatcher.ledger.close()
