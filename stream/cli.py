"""`marsad stream`: run the Faust stream processor as one worker, in this process.

Start more workers (same ``--app-id``) to share the partitions; SIGINT/SIGTERM stop the
worker gracefully (Faust finishes the current events, commits offsets, leaves the group).
With ``--metrics-port`` (or ``MARSAD_STREAM_METRICS_PORT``) the worker serves ``/metrics``
and ``/healthz`` (503 when it has stopped progressing: ``stream.health``); with
``--exit-on-stall`` a stalled worker also stops itself (exit 3, ``EXIT_STALLED``) so that
whatever supervises it (docker's restart policy, systemd) starts a fresh one.
A bad rules file stops it before Kafka is touched, as ``marsad stream: configuration error:
rules.yaml:LINE: rule #N (name) field '…': …`` (exit 2).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click

from marsad.commands import (
    Command,
    bootstrap_option,
    check_option,
    config_file_option,
    metrics_options,
)
from marsad.settings import Settings, get_settings
from marsad.topics import create_missing_topics, dlq
from stream.app import (
    WINDOW_UPDATES_CONFIG,
    Extractor,
    candidates_topic_name,
    changelog_topics,
    create_app,
    window_updates_topic_name,
)
from stream.health import StreamHealth
from stream.rules import RuleSet, load_rules

log = logging.getLogger(__name__)

#: Exit status of a worker that stopped itself because it had stalled (``--exit-on-stall``).
EXIT_STALLED = 3


class StallWatchdog:
    """With ``--exit-on-stall``: when the worker's liveness says stalled (or its guard has
    stopped looking), log it once and SIGTERM this process, so Faust stops gracefully and
    the worker exits with ``EXIT_STALLED``."""

    def __init__(self, health: StreamHealth, every_s: float = 5.0) -> None:
        self.health = health
        self.every_s = every_s
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watchdog", daemon=True)

    def start(self) -> StallWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            status, details = self.health.verdict(time.time())
            if status != "ok":
                self.fired = True
                log.error("stream worker %s (%s): stopping it so it is restarted", status, details)
                os.kill(os.getpid(), signal.SIGTERM)
                return


def load_extractor(spec: str) -> Extractor:
    """``module:function`` -> the function (lets a back-test compare extractors)."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise click.BadParameter(
            f"expected MODULE:FUNCTION, got {spec!r}", param_hint="--extractor"
        )
    try:
        fn: Extractor = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {spec!r}: {exc}", param_hint="--extractor") from exc
    return fn


def prepare_topics(bootstrap: str, settings: Settings, app: Any, app_id: str) -> list[str]:
    """Create the app's own topics and its tables' changelogs before Faust starts, and make
    ``window-updates`` kept by size, not age (``stream.app.WINDOW_UPDATES_CONFIG``), even when
    an older release created it; return the topics created.

    Why before Faust: it was seen to "ignore missing topic" on first assignment and then
    never run the merge agent (internal topics) or fail every table write (changelogs)."""
    updates = window_updates_topic_name(app_id)
    app_topics = [candidates_topic_name(settings.topics, app_id), updates]
    changelogs = changelog_topics(app)
    return create_missing_topics(
        bootstrap,
        [*app_topics, *map(dlq, app_topics), *changelogs],
        settings.partitions,
        configs={**changelogs, updates: WINDOW_UPDATES_CONFIG},
        replication=settings.replication_factor,
        enforced=[updates],
    )


def run_worker(
    settings: Settings,
    bootstrap: str,
    rules: RuleSet,
    app_id: str,
    extractor: Extractor | None = None,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
    exit_on_stall: bool = False,
) -> None:
    """Run one Faust worker until SIGINT/SIGTERM (raises SystemExit like any CLI)."""
    import faust

    from stream.health import HealthServer

    datadir = tempfile.mkdtemp(prefix="marsad-faust-")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stream_app = create_app(
        settings, rules, bootstrap=bootstrap, app_id=app_id, extractor=extractor, datadir=datadir
    )
    prepare_topics(bootstrap, settings, stream_app.app, app_id)
    worker = faust.Worker(
        stream_app.app,
        loop=loop,
        override_logging=False,
        quiet=True,
        loglevel=logging.getLevelName(logging.getLogger().level),
    )
    # Faust's start-up spinner writes terminal escapes ("\x1b[?25h") into the log at stop.
    worker.spinner = None
    log.info(
        "stream worker: app %s on %s, %d rule(s), %d partitions",
        app_id,
        bootstrap,
        len(rules.rules),
        settings.partitions,
    )
    server = HealthServer(stream_app.health, metrics_port, metrics_host) if metrics_port else None
    if server is not None:
        server.start()
        log.info("metrics and health on http://%s:%d/metrics, /healthz", server.host, server.port)
    watchdog = StallWatchdog(stream_app.health).start() if exit_on_stall else None
    try:
        worker.execute_from_commandline()
    finally:
        if watchdog is not None:
            watchdog.stop()
        if server is not None:
            server.stop()
        c = stream_app.counters
        log.info(
            "stream worker stopped: %d articles, %d candidates, %d incident updates, "
            "%d alerts, %d to DLQ",
            c.articles,
            c.candidates,
            c.incidents,
            c.alerts,
            c.dlq,
        )
        shutil.rmtree(datadir, ignore_errors=True)
        if watchdog is not None and watchdog.fired:
            raise SystemExit(EXIT_STALLED)


@click.command("stream", cls=Command)
@bootstrap_option()
@config_file_option("--rules", "rules_path", "rules.yaml", "Rules file")
@click.option(
    "--app-id",
    default=None,
    help="Faust app id = consumer group and table namespace; workers sharing it share the work "
    "[default: <topic prefix>marsad-stream]",
)
@click.option(
    "--extractor",
    default="stream.extract:extract",
    show_default=True,
    help="MODULE:FUNCTION taking an Article and returning an Extraction",
)
@click.option(
    "--client-log-level",
    default=None,
    help="log level for faust/aiokafka/mode (default: WARNING) when debugging rebalances",
)
@metrics_options("MARSAD_STREAM_METRICS_PORT")
@click.option(
    "--exit-on-stall",
    is_flag=True,
    help="Stop (exit 3) when the worker has stopped progressing, for a supervisor to restart.",
)
@check_option("the rules")
def stream_cmd(
    bootstrap: str | None,
    rules_path: Path,
    app_id: str | None,
    extractor: str,
    client_log_level: str | None,
    metrics_port: int | None,
    metrics_host: str,
    exit_on_stall: bool,
    check: bool,
) -> None:
    """Run the Faust stream processor: articles -> incidents -> alerts."""
    if client_log_level:
        for name in ("faust", "aiokafka", "mode"):
            logging.getLogger(name).setLevel(client_log_level.upper())
    settings = get_settings()
    rules = load_rules(rules_path)  # a RulesError ends the command at its file:line
    if check:
        click.echo(
            f"{rules_path}: {len(rules.rules)} rule(s) OK: {', '.join(r.name for r in rules.rules)}"
        )
        return
    fn = load_extractor(extractor)
    from marsad.kafka.broker import kafka_address
    from marsad.topics import ensure_topics

    servers = kafka_address(settings, bootstrap)
    ensure_topics(
        servers, settings.partitions, settings.topics, replication=settings.replication_factor
    )
    port = settings.stream_metrics_port if metrics_port is None else metrics_port
    run_worker(
        settings,
        servers,
        rules,
        app_id or settings.topics.stream_app_id,
        fn,
        metrics_port=port,
        metrics_host=metrics_host,
        exit_on_stall=exit_on_stall,
    )
