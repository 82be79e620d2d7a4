"""`marsad eval-merge FILE...`: how well the stream groups reports into incidents.

Each FILE is JSON Lines of reports with ``gold.event`` (tests/fixtures/merge/). By default
the reports go through the real stream, as ``marsad replay`` sends an archive: published to
``articles`` of a namespace of their own (``evalmerge-<nonce>.``) on a local broker
(:func:`marsad.kafka.broker.kafka_address`), processed by ``--workers`` ``marsad stream``
workers under a fresh app id, and the run's ``incidents`` read back. ``--in-process`` skips
the broker: the same extractor and :mod:`stream.merge_step` functions are applied to the
reports one after another in one process (seconds instead of a minute, for tuning).

``--shuffle SEED`` publishes the reports in a seeded random order (repeatable); several
seeds give several orders in one call. The figures are pairwise precision/recall/F1 and
B-cubed (:mod:`control.merge_score`) against ``gold.event``, then the false merges (report
pairs of different events in one incident) and missed merges (one event, two incidents).
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from control.merge_score import MergeScores, report_incidents, score

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    id: str
    #: the article as published (no ``gold``)
    article: dict[str, Any]
    event: str


def read_reports(paths: Sequence[str]) -> list[Report]:
    out: list[Report] = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            gold = data.pop("gold")
            data.setdefault("schema", 1)
            out.append(Report(str(data["id"]), data, str(gold["event"])))
    return out


def ordered(reports: Sequence[Report], seed: int | None) -> list[Report]:
    """The file order, or a repeatable shuffle of it."""
    out = list(reports)
    if seed is not None:
        random.Random(seed).shuffle(out)
    return out


def run_in_process(
    reports: Sequence[Report], rules_path: Path | None = None
) -> list[dict[str, Any]]:
    """Every incident revision the merge step produces for ``reports`` in this order, with
    the real extractor and the agent's table logic (:class:`stream.merge_step.MergeBook`)."""
    from marsad.records import Article
    from marsad.settings import get_settings
    from stream.extract import extract
    from stream.merge_step import MergeBook, candidates_of
    from stream.rules import load_rules

    rules = load_rules(rules_path or get_settings().config_dir / "rules.yaml")
    book = MergeBook(rules.merge)
    now = datetime(2000, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for report in reports:
        article = Article.from_json(report.article)
        for key, cand in candidates_of(article, extract(article)):
            outcome = book.add(key, cand, now)
            if outcome is not None and outcome.changed:
                out += [i.model_dump(mode="json") for i in outcome.published]
    return out


def through_stream(
    reports: Sequence[Report],
    workers: int,
    rules_path: Path | None,
    timeout: float,
    *,
    bootstrap: str | None = None,
    extractor: str | None = None,
    logs: Path | None = None,
    alerts_out: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The incidents a real run of ``workers`` stream workers writes for ``reports``, on
    ``bootstrap`` (default: :func:`marsad.kafka.broker.kafka_address`, starting the local
    broker if needed), extracting with ``extractor`` (``MODULE:FUNCTION``) if given. The
    alerts the run wrote are appended to ``alerts_out`` when one is given."""
    from control.replay import StreamRun, _cleanup, run_through_stream
    from marsad.kafka.broker import LocalBroker, kafka_address
    from marsad.settings import get_settings
    from marsad.topics import Topics, ensure_topics

    settings = get_settings()
    local = None if settings.kafka_bootstrap or bootstrap else LocalBroker.from_settings(settings)
    started_broker = local is not None and not local.is_running()
    bootstrap = bootstrap or kafka_address(settings)
    nonce = f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
    prefix = f"evalmerge-{nonce}."
    topics = Topics(prefix)
    ensure_topics(bootstrap, settings.partitions, topics, replication=settings.replication_factor)
    app_id = f"{prefix}stream"
    run_dir = (logs or settings.home / "eval-merge") / nonce
    run_dir.mkdir(parents=True, exist_ok=True)
    # The workers are child processes: they read the namespace from the environment.
    saved = os.environ.get("MARSAD_TOPIC_PREFIX")
    os.environ["MARSAD_TOPIC_PREFIX"] = prefix
    run = StreamRun(
        bootstrap, topics, app_id, run_dir, workers=workers, rules=rules_path, extractor=extractor
    )
    lines = [(r.id, json.dumps(r.article, ensure_ascii=False).encode()) for r in reports]
    try:
        run.position()
        click.echo(f"eval-merge: {len(lines)} report(s), {workers} worker(s), logs in {run_dir}")
        try:
            # Published once the workers are one stable group: a rebalance while the first
            # messages are processed (the workers joining one by one) is not what is measured.
            run_through_stream(run, [(k, v) for k, v in lines], timeout, publish_when_ready=True)
            # Once more after a pause: an article's offset can be committed before the
            # candidate it produced reaches its topic, so "no lag" can come too early.
            time.sleep(2.0)
            run.wait_processed(timeout)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        if alerts_out is not None:
            alerts_out += [v for _k, v in run.read_back(topics.alerts) if isinstance(v, dict)]
        return [v for _k, v in run.read_back(topics.incidents) if isinstance(v, dict)]
    finally:
        run.stop()
        if saved is None:
            os.environ.pop("MARSAD_TOPIC_PREFIX", None)
        else:
            os.environ["MARSAD_TOPIC_PREFIX"] = saved
        _cleanup(bootstrap, app_id, [app_id])
        _delete_namespace(bootstrap, prefix)
        if started_broker and local is not None:
            local.stop()


def _delete_namespace(bootstrap: str, prefix: str) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="marsad-eval-merge")
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    except Exception as exc:
        log.warning("could not delete the topics of %s: %r", prefix, exc)
    finally:
        admin.close()


def live_incidents(incidents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every revision of the incidents that were not absorbed: an incident whose last
    revision says ``merged_into`` lives on in its twin, which holds its reports."""
    last: dict[str, dict[str, Any]] = {}
    for inc in incidents:
        key = str(inc["id"])
        if key not in last or int(inc.get("revision") or 0) >= int(last[key].get("revision") or 0):
            last[key] = inc
    gone = {key for key, inc in last.items() if inc.get("merged_into")}
    return [inc for inc in incidents if str(inc["id"]) not in gone]


def evaluate(reports: Sequence[Report], incidents: Sequence[dict[str, Any]]) -> MergeScores:
    gold = {r.id: r.event for r in reports}
    return score(gold, report_incidents(live_incidents(incidents)))


def _pairs(label: str, pairs: Sequence[tuple[str, str]], show: bool) -> str:
    head = f"  {label}: {len(pairs)}"
    if not show or not pairs:
        return head
    return head + "\n" + "\n".join(f"    {a} ~ {b}" for a, b in pairs)


@click.command("eval-merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--workers", type=click.IntRange(1, 8), default=1, show_default=True)
@click.option(
    "--shuffle",
    "seeds",
    type=int,
    multiple=True,
    help="publish in a seeded random order (repeat for several orders); default: file order",
)
@click.option("--in-process", is_flag=True, help="no broker: the merge step in this process")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--timeout", type=float, default=900.0, show_default=True, help="seconds per run")
@click.option("--quiet", is_flag=True, help="counts of false/missed merges, not the pairs")
def eval_merge_cmd(
    files: tuple[str, ...],
    workers: int,
    seeds: tuple[int, ...],
    in_process: bool,
    rules_path: str | None,
    timeout: float,
    quiet: bool,
) -> None:
    """Run FILE... (reports with gold.event) through the stream; score the incidents."""
    reports = read_reports(files)
    rules = Path(rules_path) if rules_path else None
    for seed in seeds or (None,):
        order = ordered(reports, seed)
        if in_process:
            incidents = run_in_process(order, rules)
            how = "in-process"
        else:
            incidents = through_stream(order, workers, rules, timeout)
            how = f"{workers} worker(s)"
        result = evaluate(reports, incidents)
        click.echo(f"{'file order' if seed is None else f'shuffle {seed}'}, {how}: {result.line()}")
        click.echo(_pairs("false merges", result.false_merges, not quiet))
        click.echo(_pairs("missed merges", result.missed_merges, not quiet))
