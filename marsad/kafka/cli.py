"""``marsad kafka fetch|start|stop|status``: manage the embedded local broker from the shell.

Defaults come from settings (MARSAD_HOME, MARSAD_LOCAL_KAFKA_PORT, ...), so these commands act
on the same broker that ``marsad up`` starts.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from marsad.kafka.broker import LocalBroker
from marsad.kafka.cluster import LocalCluster
from marsad.kafka.errors import BrokerError
from marsad.kafka.jars import fetch_jars
from marsad.settings import Settings

#: Exit status of ``status`` when no broker runs (0 = running), like LSB ``status`` actions.
EXIT_NOT_RUNNING = 3


def _broker(
    settings: Settings, data_dir: Path | None, port: int | None, cport: int | None, heap: str
) -> LocalBroker:
    return LocalBroker(
        data_dir or settings.home / "kafka",
        port=port or settings.local_kafka_port,
        controller_port=cport or settings.local_kafka_controller_port,
        heap=heap,
        cache_dir=settings.cache_dir,
    )


def _broker_options(func: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Broker data dir [default: $MARSAD_HOME/kafka].",
        ),
        click.option(
            "--port",
            type=int,
            default=None,
            help="Client port [default: $MARSAD_LOCAL_KAFKA_PORT].",
        ),
        click.option(
            "--controller-port",
            type=int,
            default=None,
            help="KRaft controller port [default: $MARSAD_LOCAL_KAFKA_CONTROLLER_PORT].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(name="kafka")
def kafka_group() -> None:
    """Manage the embedded local Kafka 3.9.1 broker (KRaft, single node)."""


@kafka_group.command("fetch")
def fetch_cmd() -> None:
    """Download the broker jars from Maven Central into the cache (once)."""
    settings = Settings()
    started = time.monotonic()
    try:
        libs = fetch_jars(settings.cache_dir)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    count = len(list(libs.glob("*.jar")))
    click.echo(f"{count} jars in {libs} ({time.monotonic() - started:.1f} s)")


@kafka_group.command("start")
@_broker_options
@click.option("--heap", default="512m", show_default=True, help="JVM heap (-Xmx/-Xms).")
@click.option(
    "--timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds to wait for the broker to serve.",
)
@click.option(
    "--topics/--no-topics",
    default=True,
    show_default=True,
    help="Create the contract topics with MARSAD_PARTITIONS partitions.",
)
@click.option(
    "--brokers",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="Nodes: 3 gives the production shape (replication 3, min.insync.replicas 2) on "
    "ports PORT, PORT+2, PORT+4 (controllers +1), data in DATA_DIR/node-N.",
)
def start_cmd(
    data_dir: Path | None,
    port: int | None,
    controller_port: int | None,
    heap: str,
    timeout: float,
    topics: bool,
    brokers: int,
) -> None:
    """Start the broker in the background; return once it answers metadata requests."""
    settings = Settings()
    if brokers > 1:
        _start_cluster(settings, data_dir, port, heap, timeout, topics, brokers)
        return
    broker = _broker(settings, data_dir, port, controller_port, heap)
    started = time.monotonic()
    try:
        status = broker.start(timeout=timeout)
        if topics:
            from marsad.topics import ensure_topics

            ensure_topics(
                broker.bootstrap,
                settings.partitions,
                settings.topics,
                replication=settings.replication_factor,
            )
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Kafka ready at {status.bootstrap} (pid {status.pid}, {time.monotonic() - started:.1f} s)"
    )
    click.echo(f"log: {status.log_path}")
    click.echo(f"data: {status.data_dir}")


def _cluster(
    settings: Settings, data_dir: Path | None, port: int | None, heap: str, brokers: int
) -> LocalCluster:
    return LocalCluster(
        data_dir or settings.home / "kafka-cluster",
        brokers,
        port=port or settings.local_kafka_port,
        heap=heap,
        cache_dir=settings.cache_dir,
    )


def _start_cluster(
    settings: Settings,
    data_dir: Path | None,
    port: int | None,
    heap: str,
    timeout: float,
    topics: bool,
    brokers: int,
) -> None:
    cluster = _cluster(settings, data_dir, port, heap, brokers)
    started = time.monotonic()
    try:
        bootstrap = cluster.start(timeout=timeout)
        if topics:
            from marsad.topics import ensure_topics, replication_for

            # The cluster's own size, not what the first node to answer has heard of yet.
            ensure_topics(
                bootstrap,
                settings.partitions,
                settings.topics,
                replication=max(settings.replication_factor, replication_for(cluster.size)),
            )
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Kafka cluster of {brokers} ready at {bootstrap} ({time.monotonic() - started:.1f} s); "
        f"set MARSAD_KAFKA_BOOTSTRAP={bootstrap} and MARSAD_REPLICATION_FACTOR=3"
    )
    click.echo(f"data: {cluster.data_dir}")


@kafka_group.command("stop")
@_broker_options
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait after SIGTERM before SIGKILL.",
)
@click.option("--brokers", type=click.IntRange(1, 9), default=1, help="Stop a cluster's nodes.")
def stop_cmd(
    data_dir: Path | None,
    port: int | None,
    controller_port: int | None,
    timeout: float,
    brokers: int,
) -> None:
    """Stop the broker cleanly (SIGTERM, then SIGKILL after the timeout)."""
    if brokers > 1:
        cluster = _cluster(Settings(), data_dir, port, "384m", brokers)
        running = len(cluster.running())
        cluster.stop(timeout=timeout)
        click.echo(f"stopped {running} node(s) of the cluster in {cluster.data_dir}")
        return
    broker = _broker(Settings(), data_dir, port, controller_port, "512m")
    if broker.stop(timeout=timeout):
        click.echo(f"stopped the broker in {broker.data_dir}")
    else:
        click.echo(f"no broker running in {broker.data_dir}")


@kafka_group.command("status")
@_broker_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_cmd(
    data_dir: Path | None, port: int | None, controller_port: int | None, as_json: bool
) -> None:
    """Say whether the broker runs (exit 0) or not (exit 3), with its pid, address and log."""
    broker = _broker(Settings(), data_dir, port, controller_port, "512m")
    status = broker.status()
    if as_json:
        click.echo(json.dumps(status.as_dict()))
    else:
        state = f"running (pid {status.pid})" if status.running else "not running"
        click.echo(f"broker:    {state}")
        click.echo(f"bootstrap: {status.bootstrap}")
        click.echo(f"data dir:  {status.data_dir}")
        click.echo(f"log:       {status.log_path}")
        if status.rss_mb is not None:
            click.echo(f"memory:    {status.rss_mb:.0f} MB resident")
    sys.exit(0 if status.running else EXIT_NOT_RUNNING)


@kafka_group.command("topics")
@click.option("--bootstrap", default=None, help="Broker [default: $MARSAD_KAFKA_BOOTSTRAP].")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the broker.")
def topics_cmd(bootstrap: str | None, timeout: float) -> None:
    """Create the contract topics (and DLQs) with explicit partition counts; idempotent.

    The compose deployment runs this once before the services start, because the broker
    never auto-creates topics (Faust tables need the partition counts to match).
    """
    from marsad.kafka.broker import kafka_address
    from marsad.topics import ensure_topics

    settings = Settings()
    try:
        target = kafka_address(settings, bootstrap, start=False)
    except BrokerError as exc:
        raise click.ClickException(f"{exc}, or pass --bootstrap") from exc
    deadline = time.monotonic() + timeout
    while True:
        try:
            created = ensure_topics(
                target,
                settings.partitions,
                settings.topics,
                replication=settings.replication_factor,
            )
            break
        except Exception as exc:  # broker still starting: retry until the deadline
            if time.monotonic() > deadline:
                raise click.ClickException(f"cannot create topics on {target}: {exc}") from exc
            time.sleep(2.0)
    click.echo(f"topics ready on {target} ({len(created)} created)")
