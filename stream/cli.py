"""`marsad stream`: run the Faust stream processor as one worker, in this process.

Start more workers (same ``--app-id``) to share the partitions; SIGINT/SIGTERM stop the
worker gracefully (Faust finishes the current events, commits offsets, leaves the group).
A bad rules file stops it before Kafka is touched, as ``marsad stream: configuration error:
rules.yaml:LINE: rule #N (name) field '…': …`` (exit 2).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import shutil
import tempfile
from pathlib import Path

import click

from marsad.commands import Command, bootstrap_option, check_option, config_file_option
from marsad.settings import Settings, get_settings
from marsad.topics import create_missing_topics, dlq
from stream.app import (
    Extractor,
    candidates_topic_name,
    create_app,
    window_updates_topic_name,
)
from stream.rules import RuleSet, load_rules

log = logging.getLogger(__name__)


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


def run_worker(
    settings: Settings,
    bootstrap: str,
    rules: RuleSet,
    app_id: str,
    extractor: Extractor | None = None,
) -> None:
    """Run one Faust worker until SIGINT/SIGTERM (raises SystemExit like any CLI)."""
    import faust

    # The app's own topics exist before Faust starts: with a non-default app id, Faust was
    # seen to "ignore missing topic" on first assignment and never run the merge agent.
    app_topics = [
        candidates_topic_name(settings.topics, app_id),
        window_updates_topic_name(app_id),
    ]
    create_missing_topics(bootstrap, [*app_topics, *map(dlq, app_topics)], settings.partitions)
    datadir = tempfile.mkdtemp(prefix="marsad-faust-")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stream_app = create_app(
        settings, rules, bootstrap=bootstrap, app_id=app_id, extractor=extractor, datadir=datadir
    )
    worker = faust.Worker(
        stream_app.app,
        loop=loop,
        override_logging=False,
        quiet=True,
        loglevel=logging.getLevelName(logging.getLogger().level),
    )
    log.info(
        "stream worker: app %s on %s, %d rule(s), %d partitions",
        app_id,
        bootstrap,
        len(rules.rules),
        settings.partitions,
    )
    try:
        worker.execute_from_commandline()
    finally:
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
@check_option("the rules")
def stream_cmd(
    bootstrap: str | None,
    rules_path: Path,
    app_id: str | None,
    extractor: str,
    client_log_level: str | None,
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
    ensure_topics(servers, settings.partitions, settings.topics)
    run_worker(settings, servers, rules, app_id or settings.topics.stream_app_id, fn)
