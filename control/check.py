"""``marsad check``: can this deployment run? One line per check, a fix hint for each failure.

Why on the top floor: it asks every room the question that room owns (ingest: the feeds file
and the feeds; stream: the rules and the lexicons; alerts: the routing file and Slack) and the
kernel the shared ones (the environment, the broker, the topics). Each check is a function
returning :class:`Result`; the command prints them in order and exits 1 if any failed, so the
compose deployment runs it before the services start and stops there on a mistake.
Read-only: nothing is created, posted or committed (the broker is never started).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from marsad.errors import MarsadError
from marsad.settings import Settings


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    hint: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f"\n      fix: {self.hint}" if self.hint and not self.ok else ""
        return f"{mark} {self.name}: {self.detail}{fix}"


def _guard(name: str, hint: str, fn: Callable[[], str]) -> Result:
    """Run one check: its detail when it passes, the error and ``hint`` when it does not."""
    try:
        return Result(name, True, fn())
    except (MarsadError, OSError, ValueError) as exc:
        return Result(name, False, str(exc), hint)


# -- the checks ---------------------------------------------------------------------------------


def check_environment() -> tuple[Result, Settings | None]:
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        var = "MARSAD_" + "_".join(str(p) for p in first["loc"]).upper()
        return (
            Result("environment", False, f"{var}: {first['msg']}", f"set {var} to a valid value"),
            None,
        )
    where = settings.kafka_bootstrap or "the embedded local broker"
    return Result("environment", True, f"Kafka {where}, home {settings.home}"), settings


def check_feeds_file(path: Path) -> Result:
    from ingest.feeds_config import load_config

    def run() -> str:
        return f"{path}: {len(load_config(path).feeds)} feed(s)"

    return _guard("feeds file", f"correct {path} at the line named", run)


def check_rules_file(path: Path) -> Result:
    from stream.rules import load_rules

    def run() -> str:
        rules = load_rules(path)
        return f"{path}: {len(rules.rules)} rule(s)"

    return _guard("rules file", f"correct {path} at the line named", run)


def check_routing_file(path: Path) -> Result:
    from alerts import routing

    def run() -> str:
        config = routing.load(path)
        return f"{path}: default {config.default_channel}, {len(config.routes)} route(s)"

    return _guard("routing file", f"correct {path} at the line named", run)


def check_lexicons() -> Result:
    from stream.extract.lexicon import lexicon
    from stream.extract.places import gazetteer

    def run() -> str:
        lexicon()
        places = len(gazetteer().governorates)
        return f"every word list validates ({places} governorates in the gazetteer)"

    return _guard("lexicons", "correct the data file and key named", run)


def check_broker(settings: Settings) -> tuple[Result, str | None]:
    from marsad.kafka.broker import locate_kafka, metadata_ok

    try:
        bootstrap, source = locate_kafka(settings, start=False)
    except MarsadError as exc:
        return Result("broker", False, str(exc), "start it (`marsad kafka start`)"), None
    if not metadata_ok(bootstrap, timeout_s=5.0):
        hint = "check MARSAD_KAFKA_BOOTSTRAP and that the broker is up"
        return Result("broker", False, f"no answer at {bootstrap} ({source})", hint), None
    return Result("broker", True, f"{bootstrap} answers ({source})"), bootstrap


def topic_problems(
    wanted: Iterable[str], partitions: dict[str, int], expected: int
) -> tuple[list[str], list[str]]:
    """(missing topics, topics with another partition count than ``expected``)."""
    names = list(wanted)
    missing = [t for t in names if t not in partitions]
    wrong = [
        f"{t} has {partitions[t]}" for t in names if t in partitions and partitions[t] != expected
    ]
    return missing, wrong


def check_topics(settings: Settings, bootstrap: str) -> Result:
    from kafka.admin import KafkaAdminClient

    wanted = settings.topics.with_dlqs()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="marsad-check")
    try:
        described = admin.describe_topics(wanted)
    finally:
        admin.close()
    partitions = {
        str(t.get("name", t.get("topic"))): len(t["partitions"])
        for t in described
        if t.get("error_code", 0) == 0
    }
    missing, wrong = topic_problems(wanted, partitions, settings.partitions)
    if missing or wrong:
        detail = "; ".join(
            [*(f"missing {t}" for t in missing), *(f"{w} partitions" for w in wrong)]
        )
        return Result(
            "topics",
            False,
            detail,
            f"`marsad kafka topics` creates them with MARSAD_PARTITIONS={settings.partitions}"
            " (a wrong count needs the topic recreated)",
        )
    return Result("topics", True, f"{len(wanted)} topics with {settings.partitions} partitions")


def check_slack(settings: Settings, routing_file: Path) -> list[Result]:
    """Who the notifier posts as, and for a bot whether it can see every routed channel."""
    from alerts import routing
    from alerts.delivery import SlackBotSink
    from alerts.service import build_sink

    try:
        sink = build_sink(settings, stream=sys.stderr)
        who = sink.check()
    except MarsadError as exc:
        hint = "check SLACK_BOT_TOKEN (scopes chat:write, channels:read, channels:history)"
        return [Result("slack", False, str(exc), hint)]
    results = [Result("slack", True, who)]
    if not isinstance(sink, SlackBotSink):
        return results
    try:
        channels = routing.load(routing_file).channels()
    except MarsadError:
        return results  # the routing check already says what is wrong
    bot = sink

    def visible(channel: str) -> Callable[[], str]:
        # The notifier's own look-up (conversations.list, cached): what posting will use.
        return lambda: f"visible as {bot._channel_id(channel)}"

    for channel in channels:
        hint = f"create {channel} or invite the bot to it"
        results.append(_guard(f"slack channel {channel}", hint, visible(channel)))
    return results


def check_feeds(path: Path, timeout_s: float) -> list[Result]:
    """Every configured feed answers (through the poller's own SSRF guard and limits)."""
    from ingest.errors import IngestError
    from ingest.feeds_config import load_config
    from ingest.fetch import Fetcher, FetchLimits
    from ingest.guard import Guard

    try:
        config = load_config(path)
    except MarsadError:
        return []  # the feeds-file check already says what is wrong

    async def run() -> list[Result]:
        limits = FetchLimits(total_timeout=timeout_s)
        fetcher = Fetcher(Guard.allowing(config.allowed_private_hosts), limits)
        out: list[Result] = []
        try:
            for feed in config.feeds:
                name = f"feed {feed.name}"
                try:
                    got = await fetcher.get(feed.url)
                except IngestError as exc:
                    out.append(Result(name, False, f"{feed.url}: {exc}", "fix or drop its url"))
                    continue
                ok = got.status in (200, 304)
                detail = f"{feed.url}: HTTP {got.status}"
                out.append(Result(name, ok, detail, "" if ok else "fix or drop its url"))
        finally:
            await fetcher.aclose()
        return out

    return asyncio.run(run())


def run_checks(
    settings_files: dict[str, Path] | None = None,
    *,
    feeds: bool = True,
    slack: bool = True,
    feed_timeout_s: float = 10.0,
) -> list[Result]:
    """Every check in the order an operator fixes things; later ones skip what failed."""
    env, settings = check_environment()
    results = [env]
    if settings is None:
        return results
    files = settings_files or {}
    feeds_file = files.get("feeds", settings.config_dir / "feeds.yaml")
    rules_file = files.get("rules", settings.config_dir / "rules.yaml")
    routing_file = files.get("routing", settings.config_dir / "routing.yaml")
    results += [
        check_feeds_file(feeds_file),
        check_rules_file(rules_file),
        check_routing_file(routing_file),
        check_lexicons(),
    ]
    broker, bootstrap = check_broker(settings)
    results.append(broker)
    if bootstrap is not None:
        results.append(check_topics(settings, bootstrap))
    if slack:
        results += check_slack(settings, routing_file)
    if feeds:
        results += check_feeds(feeds_file, feed_timeout_s)
    return results


@click.command("check")
@click.option("--feeds", "feeds_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--routing", "routing_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-feeds", is_flag=True, help="skip fetching every feed once")
@click.option("--no-slack", is_flag=True, help="skip auth.test and the channel look-ups")
@click.option("--feed-timeout", type=float, default=10.0, show_default=True, help="seconds")
def check_cmd(
    feeds_file: Path | None,
    rules_file: Path | None,
    routing_file: Path | None,
    no_feeds: bool,
    no_slack: bool,
    feed_timeout: float,
) -> None:
    """Validate config files, environment, broker, topics, Slack and feeds; exit 1 on a failure."""
    files: dict[str, Any] = {
        k: v
        for k, v in (("feeds", feeds_file), ("rules", rules_file), ("routing", routing_file))
        if v is not None
    }
    results = run_checks(files, feeds=not no_feeds, slack=not no_slack, feed_timeout_s=feed_timeout)
    for r in results:
        click.echo(r.line())
    failed = [r for r in results if not r.ok]
    click.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed", err=True)
    if failed:
        sys.exit(1)
