"""`marsad replay ARTICLES.jsonl`: back-test the rules on an archive through the real pipeline.

Publishes the articles to ``articles``, runs the stream processor and the notifier as child
processes until everything published has been processed, writes every alert revision the
run produced as JSON Lines, and exits. This is how a user back-tests rules on an archive
and how outside checks drive the pipeline end to end.

Isolation, and why a fresh app id per run: the run's stream app is
``marsad-replay-<time>-<random>``. Its consumer group is positioned at the *current end* of
``articles`` before publishing, so it processes exactly this archive (not what earlier
runs or live feeds left in the topic); its tables and internal topics start empty, so a
back-test never inherits merge or "already fired" state from the live service or an
earlier run; and its alerts carry the ``marsad-app`` header, so they can be picked out of
the shared ``alerts`` topic. The run's internal topics and groups are deleted afterwards
(``--keep-state`` keeps them for inspection).
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from marsad.settings import get_settings

log = logging.getLogger(__name__)


def _read_lines(path: str) -> list[tuple[str | None, bytes]]:
    """``(key, raw value)`` per non-blank line. Lines that are not JSON objects are still
    published (keyed by nothing): the stream sends them to ``articles.dlq``, as it would in
    production, so a back-test sees the same failure handling."""
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
                    line = json.dumps(data, ensure_ascii=False)
            except json.JSONDecodeError:
                log.warning("line %d is not JSON; published as is (it will go to the DLQ)", n)
            out.append((key, line.encode("utf-8")))
    finally:
        if stream is not sys.stdin:
            stream.close()
    return out


def _publish(bootstrap: str, topic: str, lines: list[tuple[str | None, bytes]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20
    )
    try:
        for key, value in lines:
            producer.send(topic, key=key.encode() if key else None, value=value)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)


def _cleanup(bootstrap: str, app_id: str, groups: list[str]) -> None:
    """Delete the run's internal topics (named ``<app id>-…``) and consumer groups."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="marsad-replay")
    try:
        mine = [t for t in admin.list_topics() if t.startswith(f"{app_id}-")]
        if mine:
            admin.delete_topics(mine)
        try:
            admin.delete_groups(groups)
        except Exception as exc:  # a group that never committed does not exist
            log.debug("deleting groups %s: %r", groups, exc)
        log.info("removed %d internal topic(s) of %s", len(mine), app_id)
    except Exception as exc:
        log.warning("could not clean up %s: %r", app_id, exc)
    finally:
        admin.close()


def _wait_group_drained(
    bootstrap: str, group: str, topic: str, proc: subprocess.Popen[bytes], timeout: float
) -> None:
    from marsad.kafka.probes import GroupProbe

    deadline = time.monotonic() + timeout
    with GroupProbe(bootstrap) as probe:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise click.ClickException(f"the notifier exited with {proc.returncode}")
            try:
                if probe.lag(group, [topic]).get(topic, 1) == 0:
                    return
            except Exception as exc:
                log.debug("lag probe: %r", exc)
            time.sleep(0.3)
    raise click.ClickException(f"the notifier did not drain {topic} within {timeout:.0f} s")


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
@click.option("--keep-state", is_flag=True, help="keep the run's internal topics and groups")
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
    from control.services import marsad_executable, terminate
    from control.workers import WorkerProcess, wait_drained, wait_for_members
    from marsad.kafka.broker import LocalBroker, kafka_address
    from marsad.kafka.probes import GroupProbe, read_topic
    from marsad.topics import dlq, ensure_topics
    from stream.app import APP_HEADER, candidates_topic_name, window_updates_topic_name
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
    topics = settings.topics
    ensure_topics(bootstrap, settings.partitions, topics)

    app_id = f"marsad-replay-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
    notify_group = f"{app_id}-alerts"
    run_dir = settings.home / "replay" / app_id
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with GroupProbe(bootstrap) as probe:
        probe.start_group_at_end(app_id, [topics.articles])
        alerts_start = probe.end_offsets(probe.partitions([topics.alerts]))
        dlq_start = probe.end_offsets(probe.partitions([dlq(topics.articles)]))
        if notify:
            probe.start_group_at_end(notify_group, [topics.alerts])
    click.echo(
        f"replay {app_id}: {len(lines)} article(s) -> {bootstrap}; logs in {run_dir}", err=True
    )

    procs: list[WorkerProcess] = []
    notifier: subprocess.Popen[bytes] | None = None
    notifier_log = None
    try:
        _publish(bootstrap, topics.articles, lines)
        procs = [
            WorkerProcess(
                bootstrap,
                app_id,
                run_dir / f"stream-{i}.log",
                rules=rules_file,
                extractor=extractor,
            ).start()
            for i in range(workers)
        ]
        if notify:
            notifier_log = (run_dir / "alerts.log").open("ab")
            notifier = subprocess.Popen(
                [*marsad_executable(), "alerts", "--bootstrap", bootstrap, "--group", notify_group],
                stdin=subprocess.DEVNULL,
                stdout=notifier_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_members(
                bootstrap, app_id, procs, timeout=min(timeout, 300), articles=topics.articles
            )
            wait_drained(
                bootstrap,
                app_id,
                [
                    topics.articles,
                    candidates_topic_name(topics, app_id),
                    window_updates_topic_name(app_id),
                ],
                timeout=timeout,
                workers=procs,
            )
            if notifier is not None:
                _wait_group_drained(bootstrap, notify_group, topics.alerts, notifier, timeout=300)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        elapsed = time.monotonic() - t0
        mine = (APP_HEADER, app_id)
        alerts = [v for _k, v in read_topic(bootstrap, topics.alerts, alerts_start, mine)]
        dead = read_topic(bootstrap, dlq(topics.articles), dlq_start)
        _write_alerts(alerts, alerts_out)
        click.echo(
            f"replay {app_id}: {len(lines)} article(s) in {elapsed:.1f} s "
            f"({len(lines) / max(elapsed, 1e-9):.1f}/s), {len(alerts)} alert revision(s) "
            f"({len({a['id'] for a in alerts})} alert(s)), {len(dead)} to {dlq(topics.articles)}",
            err=True,
        )
    finally:
        for w in procs:
            w.stop()
        if notifier is not None:
            terminate(notifier, 30.0)
        if notifier_log is not None:
            notifier_log.close()
        if not keep_state:
            _cleanup(bootstrap, app_id, [app_id, notify_group])
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
