"""`marsad up`: the whole monitor on one machine — broker, ingest, stream, alerts, store and the
desk's read-only web pages (`marsad web` on ``MARSAD_WEB_LISTEN``).

With no ``MARSAD_KAFKA_BOOTSTRAP`` the embedded local broker is started (or reused) first and
stopped again on exit if this command started it. Ctrl-C / SIGTERM stops the services
gracefully: each finishes its current message and commits its offsets.

The stream worker serves ``/healthz`` (on ``MARSAD_STREAM_METRICS_PORT``, else a free port
chosen here): when it answers 503 — the worker runs but has stopped progressing, a known
faust-streaming failure — it is restarted, like a service that exits.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import click

from control.services import ServiceGroup, child_env
from marsad.commands import file_option, stop_on_signals
from marsad.settings import get_settings

log = logging.getLogger(__name__)


#: What ``marsad up`` runs, in start order (the store keeps the desk's database).
SERVICES = ("ingest", "stream", "alerts", "store", "web")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@click.command("up")
@file_option("--feeds", "feeds", "feeds.yaml to poll (passed to `marsad ingest`)", exists=True)
@click.option("--keep-broker/--stop-broker", default=False, help="leave the local broker running")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(SERVICES),
    help="run only these services (repeatable)",
)
def up_cmd(feeds: Path | None, keep_broker: bool, only: tuple[str, ...]) -> None:
    """Run broker + ingest + stream + alerts + store + web until Ctrl-C."""
    from marsad.kafka.broker import LocalBroker, kafka_address

    settings = get_settings()
    local = None if settings.kafka_bootstrap else LocalBroker.from_settings(settings)
    started_broker = local is not None and not local.is_running()
    bootstrap = kafka_address(settings)
    log.info("kafka at %s", bootstrap)

    overrides = {"MARSAD_KAFKA_BOOTSTRAP": bootstrap}
    if "web" in (only or SERVICES) and not settings.public_url:
        # the desk runs here: alerts link to it (MARSAD_PUBLIC_URL names a public address)
        overrides["MARSAD_PUBLIC_URL"] = f"http://{settings.web_listen}"
    group = ServiceGroup(child_env(**overrides))
    for name in only or SERVICES:
        args: list[str] = []
        health_url = None
        if name == "ingest" and feeds:
            args += ["--feeds", str(feeds)]
        if name == "stream":
            port = settings.stream_metrics_port or free_port()
            args += ["--metrics-port", str(port)]
            health_url = f"http://127.0.0.1:{port}/healthz"
        group.add(name, *args, health_url=health_url)

    stop = threading.Event()
    stop_on_signals(stop, log, "shutting down")
    group.start()
    mode = "Slack" if settings.slack_bot_token or settings.slack_webhook_url else "console+JSONL"
    web = f"; desk on http://{settings.web_listen}/" if "web" in group.services else ""
    click.echo(f"marsad up: kafka {bootstrap}; alerts → {mode}{web}; Ctrl-C to stop", err=True)
    failed: Exception | None = None
    try:
        while not stop.wait(1.0):
            group.check()
    except RuntimeError as exc:
        failed = exc
        log.error("%s", exc)
    codes = group.stop()
    log.info("services stopped: %s", codes)
    if started_broker and not keep_broker and local is not None:
        local.stop()
        log.info("local broker stopped")
    if failed is not None:
        raise click.ClickException(str(failed))
