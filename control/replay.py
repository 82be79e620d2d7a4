"""`marsad replay ARTICLES.jsonl`: back-test the rules on an archive through the real pipeline.

Publishes the articles, runs the stream processor and the notifier as child processes until
everything published has been processed, writes every alert revision the run produced as
JSON Lines, and exits. This is how a user back-tests rules on an archive and how outside
checks drive the pipeline end to end.

Isolation: a replay never writes to, nor is read from, the live pipeline's topics. Each run
has a namespace of its own, ``<MARSAD_TOPIC_PREFIX>replay-<run id>.`` (a
:class:`marsad.topics.Topics` prefix), holding its ``articles``, ``incident-candidates``,
``incidents``, ``alerts``, their dead-letter topics, the stream app's internal topics and
both consumer groups (``…marsad-stream``, ``…marsad-alerts``). The children get it as
``MARSAD_TOPIC_PREFIX``, so a live ``marsad stream`` never sees a 2019 article and a live
notifier never posts a replayed alert. The notifier child also has a ``MARSAD_HOME`` of its
own under the run directory (``$MARSAD_HOME/replay/<namespace>/home``): its delivery ledger
(and console JSONL) are the run's, so a back-test neither marks live alerts delivered nor is
skipped because of them. Fresh namespace, fresh state: a back-test never inherits merge or
"already fired" state from the live service or an earlier run.

Every replayed record is an ``articles`` record as the contract has it: ``feed_url``
(``replay:<file name>`` unless the line has one) and ``fetched_at`` (the replay's start
unless the line has one) are filled in, and the Kafka header ``marsad-replay`` names the
run. Afterwards the namespace's topics and groups are deleted (``--keep-state`` keeps them
for inspection); what went to the run's ``articles.dlq`` is copied to the run directory
first, and the logs stay there.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from control.workers import ServiceProcess, WorkerProcess, wait_drained, wait_for_members
from marsad.settings import get_settings
from marsad.topics import Topics

log = logging.getLogger(__name__)

#: Kafka header naming the replay run on every record it publishes.
RUN_HEADER = "marsad-replay"


def replay_topics(live_prefix: str, run_id: str) -> Topics:
    """The namespace of one replay run, nested in the live one: ``<prefix>replay-<run id>.``."""
    return Topics(f"{live_prefix}replay-{run_id}.")


def _read_lines(path: str, fetched_at: datetime | None = None) -> list[tuple[str | None, bytes]]:
    """``(key, raw value)`` per non-blank line. Lines that are not JSON objects are still
    published (keyed by nothing): the stream sends them to ``articles.dlq``, as it would in
    production, so a back-test sees the same failure handling.

    An article gets what the contract's ``articles`` topic carries besides the input shape:
    ``feed_url`` (``replay:<file name>``) and ``fetched_at`` (``fetched_at``, default now),
    unless the line has them."""
    feed_url = f"replay:{'stdin' if path == '-' else Path(path).name}"
    fetched = (fetched_at or datetime.now(UTC)).isoformat()
    stream: IO[str] = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    out: list[tuple[str | None, bytes]] = []
    try:
        for n, line in enumerate(stream, 1):
            line = line.strip()
            if not line:
                continue
            key: str | None = None
            try:
                data = json.loads(line)
                if isinstance(data, dict) and data.get("id") is not None:
                    key = str(data["id"])
                    data.setdefault("schema", 1)
                    if not data.get("feed_url"):
                        data["feed_url"] = feed_url
                    if not data.get("fetched_at"):
                        data["fetched_at"] = fetched
                    line = json.dumps(data, ensure_ascii=False)
            except json.JSONDecodeError:
                log.warning("line %d is not JSON; published as is (it will go to the DLQ)", n)
            out.append((key, line.encode("utf-8")))
    finally:
        if stream is not sys.stdin:
            stream.close()
    return out


def _publish(
    bootstrap: str,
    topic: str,
    lines: list[tuple[str | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20
    )
    try:
        for key, value in lines:
            producer.send(
                topic, key=key.encode() if key else None, value=value, headers=headers or []
            )
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)


def _cleanup(bootstrap: str, prefix: str, groups: list[str], grace_s: float = 30.0) -> None:
    """Delete the run's topics (every topic named ``<prefix>…``: its namespace, the stream
    app's internal topics and changelogs) and its consumer groups.

    A group still holding a member (a child that was killed, not stopped) cannot be deleted
    until the broker expires the member's session: that is retried for ``grace_s``."""
    from kafka.admin import KafkaAdminClient

    if not prefix:
        raise ValueError("refusing to clean up the un-prefixed (live) namespace")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="marsad-replay")
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
        left = list(groups)
        deadline = time.monotonic() + grace_s
        while left:
            # {group: "OK" | error class name}; a group that never committed does not exist.
            answers: dict[str, str] = admin.delete_groups(left)
            left = [g for g, res in answers.items() if res == "NonEmptyGroupError"]
            for group, res in answers.items():
                if res not in ("OK", "GroupIdNotFoundError", "NonEmptyGroupError"):
                    log.warning("could not delete group %s: %s", group, res)
            if left and time.monotonic() > deadline:
                log.warning("groups %s still have members; left behind", left)
                break
            if left:
                time.sleep(1.0)
        log.info("removed %d topic(s) and the groups of %s", len(mine), prefix)
    except Exception as exc:
        log.warning("could not clean up %s: %r", prefix, exc)
    finally:
        admin.close()


def _wait_group_drained(
    bootstrap: str, group: str, topic: str, proc: ServiceProcess, timeout: float
) -> None:
    from marsad.kafka.probes import GroupProbe

    deadline = time.monotonic() + timeout
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"the notifier exited with {proc.returncode()}")
            try:
                if probe.lag(group, [topic]).get(topic, 1) == 0:
                    return
            except Exception as exc:
                log.debug("lag probe: %r", exc)
            time.sleep(0.3)
    raise RuntimeError(f"the notifier did not drain {topic} within {timeout:.0f} s")


@dataclass(frozen=True)
class ReadBack:
    """What one pass through the stream produced, and when (``time.monotonic()`` clock)."""

    #: every alert revision of this run (picked out of ``alerts`` by the app header)
    alerts: list[dict[str, Any]]
    #: ``(key, value)`` of what went to ``articles.dlq`` during the run
    dead: list[tuple[bytes | None, Any]]
    published_at: float
    published_s: float
    drained_at: float


@dataclass
class StreamRun:
    """One isolated pass of articles through ``marsad stream`` workers (and the notifier).

    The steps ``marsad replay`` and the stream benchmark share: :meth:`position` a fresh app
    id's consumer group (and the notifier's) at the current end of its input, note where
    the output topics end now, :meth:`start` the workers as child processes, wait until they
    are all in the group and until everything published has been processed, read back what
    this run produced, :meth:`stop`. :func:`run_through_stream` does them in order.

    The children run in ``topics``' namespace (``MARSAD_TOPIC_PREFIX`` is set to its prefix,
    whatever this process's environment says); the notifier with ``MARSAD_HOME`` = ``home``
    when given (its own ledger). What is published carries the header ``marsad-replay`` =
    ``run_id`` (default: the app id).
    """

    bootstrap: str
    topics: Topics
    app_id: str
    run_dir: Path
    workers: int = 1
    rules: Path | None = None
    extractor: str | None = None
    #: run the notifier too, in this consumer group
    notify_group: str | None = None
    #: the notifier's MARSAD_HOME (its ledger and console JSONL); None: this process's
    home: Path | None = None
    #: the value of the ``marsad-replay`` header on what is published (default: the app id)
    run_id: str | None = None
    procs: list[WorkerProcess] = field(default_factory=list)
    notifier: ServiceProcess | None = None
    #: per read-back topic: its end offsets when the run was positioned
    starts: dict[str, dict[Any, int]] = field(default_factory=dict)

    @property
    def stream_topics(self) -> list[str]:
        """What the app consumes: ``articles`` and its own internal topics."""
        from stream.app import candidates_topic_name, window_updates_topic_name

        return [
            self.topics.articles,
            candidates_topic_name(self.topics, self.app_id),
            window_updates_topic_name(self.app_id),
        ]

    def position(self) -> None:
        """Start the run's groups at the current ends, so it sees exactly what it publishes."""
        from marsad.kafka.probes import GroupProbe
        from marsad.topics import dlq

        with GroupProbe(self.bootstrap) as probe:
            probe.start_group_at_end(self.app_id, [self.topics.articles])
            for topic in (self.topics.alerts, dlq(self.topics.articles), self.topics.incidents):
                self.starts[topic] = probe.end_offsets(probe.partitions([topic]))
            if self.notify_group is not None:
                probe.start_group_at_end(self.notify_group, [self.topics.alerts])

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers of every record this run publishes."""
        return [(RUN_HEADER, (self.run_id or self.app_id).encode())]

    def start(self) -> None:
        """The stream workers (and the notifier) as child processes, logs in ``run_dir``."""
        namespace = {"MARSAD_TOPIC_PREFIX": self.topics.prefix}
        self.procs = [
            WorkerProcess(
                self.bootstrap,
                self.app_id,
                self.run_dir / f"stream-{i}.log",
                rules=self.rules,
                extractor=self.extractor,
                env=namespace,
                extra_args=["--exit-on-stall"],
            ).start()
            for i in range(self.workers)
        ]
        if self.notify_group is not None:
            args = ["alerts", "--bootstrap", self.bootstrap, "--group", self.notify_group]
            env = {**os.environ, **namespace}
            if self.home is not None:
                env["MARSAD_HOME"] = str(self.home)
            self.notifier = ServiceProcess("notifier", args, self.run_dir / "alerts.log", env)
            self.notifier.start()

    def wait_ready(self, timeout: float) -> None:
        """Every worker is a member of the group and owns ``articles`` partitions."""
        wait_for_members(
            self.bootstrap, self.app_id, self.procs, timeout=timeout, articles=self.topics.articles
        )

    def wait_processed(self, timeout: float) -> None:
        """The app has committed everything it was given, and the notifier every alert."""
        wait_drained(
            self.bootstrap, self.app_id, self.stream_topics, timeout=timeout, workers=self.procs
        )
        if self.notifier is not None and self.notify_group is not None:
            _wait_group_drained(
                self.bootstrap, self.notify_group, self.topics.alerts, self.notifier, timeout=300
            )

    def read_back(self, topic: str, mine: bool = False) -> list[tuple[bytes | None, Any]]:
        """``topic`` from where it ended at :meth:`position` (``mine``: this app's records)."""
        from marsad.kafka.probes import read_topic
        from stream.app import APP_HEADER

        header = (APP_HEADER, self.app_id) if mine else None
        return read_topic(self.bootstrap, topic, self.starts.get(topic), header)

    def stop(self) -> None:
        for w in self.procs:
            w.stop()
        if self.notifier is not None:
            self.notifier.stop(30.0)


def run_through_stream(
    run: StreamRun,
    lines: list[tuple[str | None, bytes]],
    timeout: float,
    *,
    ready_timeout: float = 300.0,
    publish_when_ready: bool = False,
) -> ReadBack:
    """Publish ``lines`` to ``run.topics.articles``, run ``run``'s workers until all is
    processed, and read back its alerts and dead letters. ``run`` must be positioned; the
    caller stops it.

    By default the articles are published first and the workers started after them (what
    ``marsad replay`` does); ``publish_when_ready`` waits for the workers to be in the group
    before publishing, so the time to drain measures processing alone (the benchmark).
    Raises ``RuntimeError`` when a worker dies or a wait times out.
    """
    if not publish_when_ready:
        published_at = time.monotonic()
        _publish(run.bootstrap, run.topics.articles, lines, run.headers)
        published_s = time.monotonic() - published_at
    run.start()
    run.wait_ready(min(timeout, ready_timeout))
    if publish_when_ready:
        published_at = time.monotonic()
        _publish(run.bootstrap, run.topics.articles, lines, run.headers)
        published_s = time.monotonic() - published_at
    run.wait_processed(timeout)
    drained_at = time.monotonic()
    from marsad.topics import dlq

    alerts = [v for _k, v in run.read_back(run.topics.alerts, mine=True)]
    dead = run.read_back(dlq(run.topics.articles))
    return ReadBack(alerts, dead, published_at, published_s, drained_at)


@click.command("replay")
@click.argument("articles", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--alerts-out",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="where to write every alert revision (JSON Lines)",
)
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--extractor", default=None, help="MODULE:FUNCTION to extract with")
@click.option("--workers", type=click.IntRange(1, 8), default=1, show_default=True)
@click.option("--notify/--no-notify", default=True, help="run the notifier too (default: yes)")
@click.option("--timeout", type=float, default=1800.0, show_default=True, help="seconds")
@click.option("--keep-state", is_flag=True, help="keep the run's topics and consumer groups")
@click.option("--keep-broker", is_flag=True, help="leave a local broker this command started")
def replay_cmd(
    articles: str,
    alerts_out: str,
    rules_path: str | None,
    extractor: str | None,
    workers: int,
    notify: bool,
    timeout: float,
    keep_state: bool,
    keep_broker: bool,
) -> None:
    """Publish ARTICLES.jsonl, run stream + notifier until processed, write the alerts."""
    from marsad.kafka.broker import LocalBroker, kafka_address
    from marsad.topics import dlq, ensure_topics
    from stream.rules import RulesError, load_rules

    settings = get_settings()
    rules_file = Path(rules_path) if rules_path else settings.config_dir / "rules.yaml"
    try:
        load_rules(rules_file)  # fail before starting anything
    except RulesError as exc:
        raise click.ClickException(str(exc)) from exc
    lines = _read_lines(articles)

    local = None if settings.kafka_bootstrap else LocalBroker.from_settings(settings)
    started_broker = local is not None and not local.is_running()
    bootstrap = kafka_address(settings)
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
    topics = replay_topics(settings.topic_prefix, run_id)  # never the live namespace

    app_id = topics.stream_app_id
    notify_group = topics.alerts_group
    run_dir = settings.home / "replay" / topics.prefix.rstrip(".")
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    run = StreamRun(
        bootstrap,
        topics,
        app_id,
        run_dir,
        workers=workers,
        rules=rules_file,
        extractor=extractor,
        notify_group=notify_group if notify else None,
        home=run_dir / "home",
        run_id=topics.prefix.rstrip("."),
    )
    try:
        ensure_topics(
            bootstrap, settings.partitions, topics, replication=settings.replication_factor
        )
        run.position()
        click.echo(
            f"replay {app_id}: {len(lines)} article(s) -> {bootstrap}; namespace {topics.prefix};"
            f" logs in {run_dir}",
            err=True,
        )
        try:
            got = run_through_stream(run, lines, timeout)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        elapsed = got.drained_at - t0
        alerts = got.alerts
        _write_alerts(alerts, alerts_out)
        dead_file = run_dir / "articles.dlq.jsonl"
        _write_alerts([v for _k, v in got.dead], str(dead_file))
        click.echo(
            f"replay {app_id}: {len(lines)} article(s) in {elapsed:.1f} s "
            f"({len(lines) / max(elapsed, 1e-9):.1f}/s), {len(alerts)} alert revision(s) "
            f"({len({a['id'] for a in alerts})} alert(s)), {len(got.dead)} to "
            f"{dlq(Topics().articles)} (copied to {dead_file})",
            err=True,
        )
    finally:
        run.stop()
        if not keep_state:
            _cleanup(bootstrap, topics.prefix, [app_id, notify_group])
        if started_broker and not keep_broker and local is not None:
            local.stop()
            log.info("local broker stopped")


def _write_alerts(alerts: list[dict[str, Any]], target: str) -> None:
    text = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in alerts)
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).write_text(text, encoding="utf-8")
