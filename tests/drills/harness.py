"""The drill harness: the whole service on a real broker, one fault, then the books.

A :class:`Pipeline` gives one drill its own world on a broker: a topic prefix (every topic and
consumer group namespaced by ``MARSAD_TOPIC_PREFIX``), its own ``MARSAD_HOME``, a local feed
server whose items the drill adds over time, a Slack-compatible fake server, and the three
services started as the operator starts them — ``marsad ingest|stream|alerts`` subprocesses.
Talking to the services only through their CLI keeps the drills valid whatever the rooms
change inside.

:meth:`Pipeline.books` reads back everything (``articles``, ``incidents``, ``alerts`` from the
beginning, the Slack server's messages) and :func:`audit` returns the list of broken
invariants — empty when the books balance:

* every article published on the feeds reached ``articles`` exactly once;
* every article in which the extractor finds a (non-background) incident is in some
  incident on ``incidents``, and in no more incidents than it has candidates;
* every incident rule that matches an incident's final state has its alert on ``alerts``;
* every alert revision is visible in Slack exactly once: one top-level message per alert
  (posted for its first revision, edited in place for later ones, ending at the last
  revision) and one thread reply per later revision;
* per channel, alerts from the same partition were posted in partition order.

Faults are injected at deterministic points (``wait_until`` a condition, then act); nothing
here synchronises with a sleep.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from control.workers import ServiceProcess, restarted_if_stalled
from tests.drills.reports import Report, first_report, follow_up, story
from tests.support.feed_server import FeedServer, Item
from tests.support.kafka_helpers import free_ports, wait_until
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

REPO = Path(__file__).resolve().parents[2]
MARSAD = str(Path(sys.executable).with_name("marsad"))
PARTITIONS = 4
FEEDS = ("front-north", "front-east", "front-south")
SERVICES = ("ingest", "stream", "alerts")
#: Follow-ups revise one of the last this many stories (see ``Pipeline.publish``).
RECENT_STORIES = 20


# ---------------------------------------------------------------------------------- processes


class Service(ServiceProcess):
    """One ``marsad <name>`` child (control/workers.py's process code) run from the checkout,
    with 40 s to stop gracefully and its resident memory on demand."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        super().__init__(name, args, log_path, env, cwd=REPO, grace_s=40.0)

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid) if self.alive() and self.pid else None


class ServiceDied(AssertionError):
    def __init__(self, name: str, service: Service) -> None:
        super().__init__(
            f"{name} exited with {service.returncode()}:\n{service.log_text()[-3000:]}"
        )


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: str | None
    value: Any


def read_all(bootstrap: str, topic: str, timeout: float = 60.0) -> list[Record]:
    """Every record of ``topic`` from the beginning to its current end (no consumer group)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=20_000,
    )
    out: list[Record] = []
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout:.0f} s")
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for r in batch:
                    if r.offset >= ends[tp]:
                        continue
                    try:
                        value = json.loads(r.value) if r.value is not None else None
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        value = None
                    key = r.key.decode("utf-8", "replace") if r.key is not None else None
                    out.append(Record(r.partition, r.offset, key, value))
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def create_topics(bootstrap: str, names: Iterable[str], partitions: int = PARTITIONS) -> None:
    """Create ``names`` (those missing) with ``partitions`` partitions, replicated as the
    kernel replicates Marsad's own topics (three copies on a cluster)."""
    from marsad.settings import Settings
    from marsad.topics import create_missing_topics

    floor = Settings().replication_factor  # a cluster drill asks for 3: no two-copy topics
    create_missing_topics(bootstrap, list(names), partitions, replication=floor)


def warm_coordinator(bootstrap: str, timeout: float = 60.0) -> None:
    """Wait until the broker can coordinate consumer groups.

    Work-around (replay room): on a brand-new broker the ``__consumer_offsets`` topic is only
    created by the first FindCoordinator request, and ``marsad replay`` resets its group's
    offsets once, without retrying, so it fails with CoordinatorNotAvailableError.
    """
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        wait_until(
            lambda: admin.describe_groups(["marsad-drill-warmup"]) is not None,
            timeout=timeout,
            message=f"no group coordinator on {bootstrap}",
            interval=0.5,
        )
    finally:
        admin.close()


def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> dict[str, int]:
    """Uncommitted messages of ``group`` per topic (partitions never committed count fully)."""
    from marsad.kafka.probes import GroupProbe

    with GroupProbe(bootstrap) as probe:
        return probe.lag(group, list(topics))


# ---------------------------------------------------------------------------------- the books


@dataclass
class Books:
    """What came out, read back after a drill."""

    expected_urls: set[str]
    articles: list[Record]
    incidents: list[Record]
    alerts: list[Record]
    #: channel name -> messages (top-level and replies) as the Slack server stores them.
    slack: dict[str, list[dict[str, Any]]]
    figures: dict[str, Any] = field(default_factory=dict)


def _payload(msg: dict[str, Any]) -> dict[str, Any]:
    meta = msg.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return payload if isinstance(payload, dict) else {}


def _final_incidents(records: list[Record]) -> dict[str, dict[str, Any]]:
    """Each incident id's latest state (highest revision; most sources among equals)."""
    final: dict[str, dict[str, Any]] = {}
    for r in records:
        v = r.value
        if not isinstance(v, dict) or "id" not in v:
            continue
        held = final.get(v["id"])
        rank = (int(v.get("revision", 1)), len(v.get("article_ids") or []))
        if held is None or rank >= (
            int(held.get("revision", 1)),
            len(held.get("article_ids") or []),
        ):
            final[v["id"]] = v
    return final


def audit(books: Books, *, article_duplicates_ok: bool = False) -> list[str]:
    """The invariants the drills assert; returns one line per broken one (empty = balanced).

    ``article_duplicates_ok`` relaxes "each article exactly once on ``articles``" to "at least
    once" (duplicates are still counted in the figures): only for a drill that had to work
    around a known ingest gap; everything downstream stays exactly-once.
    Also fills ``books.figures`` with counts worth printing (re-sent records and the like).
    """
    from marsad.records import Article, StoredIncident
    from stream.alerting import incident_alert_id
    from stream.extract import extract
    from stream.rules import load_rules

    problems: list[str] = []
    figs = books.figures

    # 1. articles: every feed item exactly once.
    by_url = Counter(str(r.value.get("url")) for r in books.articles if isinstance(r.value, dict))
    missing = sorted(books.expected_urls - set(by_url))
    twice = sorted(u for u, n in by_url.items() if n > 1)
    unexpected = sorted(set(by_url) - books.expected_urls)
    figs.update(articles=len(books.articles), articles_expected=len(books.expected_urls))
    figs["articles_duplicated"] = len(twice)
    if missing:
        problems.append(f"{len(missing)} feed item(s) never reached articles: {missing[:5]}")
    if twice and not article_duplicates_ok:
        problems.append(f"{len(twice)} article(s) on articles more than once: {twice[:5]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected article(s) on articles: {unexpected[:5]}")

    # 2. incidents: every article with an incident is in one (and not split).
    final = _final_incidents(books.incidents)
    # A twin absorbed by a later merge ends with ``merged_into``: its reports live on in the
    # incident it names, so only the incidents still standing hold articles and fire rules.
    standing = {i: inc for i, inc in final.items() if not inc.get("merged_into")}
    holders: dict[str, set[str]] = defaultdict(set)
    for inc_id, inc in standing.items():
        for aid in inc.get("article_ids") or []:
            holders[aid].add(inc_id)
    seen_articles: set[str] = set()
    with_incidents = 0
    for r in books.articles:
        if not isinstance(r.value, dict) or r.value.get("id") in seen_articles:
            continue
        seen_articles.add(r.value["id"])
        article = Article.model_validate(r.value)
        found = [i for i in extract(article).incidents if not i.background]
        if not found:
            continue
        with_incidents += 1
        held = holders.get(article.id, set())
        if not held:
            problems.append(
                f"article {article.id} ({article.url}) has an incident, none on incidents"
            )
        elif len(held) > len(found):
            problems.append(
                f"article {article.id} split over {len(held)} incidents for {len(found)} found"
            )
    resent = Counter(json.dumps(r.value, sort_keys=True) for r in books.incidents)
    figs.update(
        incidents=len(standing),
        incidents_merged_away=len(final) - len(standing),
        incident_records=len(books.incidents),
        incident_records_resent=sum(n - 1 for n in resent.values()),
        articles_with_incidents=with_incidents,
    )

    # 3. alerts: every matching incident rule fired.
    rules = load_rules(REPO / "config" / "rules.yaml")
    alert_revs: dict[str, set[int]] = defaultdict(set)
    merged_revs: set[tuple[str, int]] = set()  # a twin's last revision: an edit, no reply
    first_at: dict[str, tuple[int, int]] = {}
    # (rule, incident) each alert speaks for at its last revision: a renamed event's alert
    # lives on under its first name (stream/alerting.py), so the id alone does not say
    speaks_for: dict[str, tuple[int, tuple[str, str]]] = {}
    for r in books.alerts:
        if not isinstance(r.value, dict):
            continue
        aid, rev = str(r.value["id"]), int(r.value.get("revision", 1))
        alert_revs[aid].add(rev)
        inc_of = (r.value.get("incident") or {}).get("id")
        if inc_of and rev >= speaks_for.get(aid, (0, ("", "")))[0]:
            speaks_for[aid] = (rev, (str(r.value.get("rule")), str(inc_of)))
        if r.value.get("merged_into"):
            merged_revs.add((aid, rev))
        first_at.setdefault(aid, (r.partition, r.offset))
    alerted = {pair for _rev, pair in speaks_for.values()}
    for inc_id, inc in standing.items():
        stored = StoredIncident.model_validate(inc)
        for rule in rules.incident_rules:
            if not stored.background and rule.when.matches(stored):
                aid = incident_alert_id(rule.name, inc_id)
                if aid not in alert_revs and (rule.name, inc_id) not in alerted:
                    problems.append(f"incident {inc_id} matches rule {rule.name}: no alert {aid}")
    pairs = Counter(
        (str(r.value["id"]), int(r.value.get("revision", 1)))
        for r in books.alerts
        if isinstance(r.value, dict)
    )
    figs.update(
        alerts=len(alert_revs),
        alert_revisions=len(pairs),
        alert_records_resent=sum(n - 1 for n in pairs.values()),
    )
    for aid, revs in alert_revs.items():
        if sorted(revs) != list(range(1, max(revs) + 1)):
            problems.append(f"alert {aid} has revisions {sorted(revs)} (gap or no first)")

    # 4. Slack: one top-level message per alert at its last revision, one reply per later one.
    tops: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    replies: Counter[tuple[str, int]] = Counter()
    for channel, msgs in books.slack.items():
        for m in msgs:
            p = _payload(m)
            if not p.get("alert_id"):
                continue
            is_reply = bool(m.get("thread_ts")) and m.get("thread_ts") != m.get("ts")
            if is_reply:
                replies[(str(p["alert_id"]), int(p.get("revision", 0)))] += 1
            else:
                tops[str(p["alert_id"])].append((channel, m))
    posted = 0
    for aid, revs in alert_revs.items():
        got = tops.get(aid, [])
        if len(got) != 1:
            problems.append(f"alert {aid}: {len(got)} top-level Slack messages, expected 1")
            continue
        posted += 1
        shown = int(_payload(got[0][1]).get("revision", 0))
        if shown != max(revs):
            problems.append(f"alert {aid}: Slack shows revision {shown}, last is {max(revs)}")
        for rev in sorted(revs)[1:]:
            want = 0 if (aid, rev) in merged_revs else 1
            if replies[(aid, rev)] != want:
                problems.append(
                    f"alert {aid} r{rev}: {replies[(aid, rev)]} thread replies, not {want}"
                )
    strays = sorted(set(tops) - set(alert_revs))
    if strays:
        problems.append(f"Slack holds messages for alerts not on the topic: {strays[:5]}")
    figs.update(slack_messages=posted, slack_replies=sum(replies.values()))

    # 5. order per channel: same-partition alerts appear in partition order.
    for channel, msgs in books.slack.items():
        order: dict[int, list[int]] = defaultdict(list)
        for m in msgs:
            p = _payload(m)
            is_reply = bool(m.get("thread_ts")) and m.get("thread_ts") != m.get("ts")
            aid = str(p.get("alert_id") or "")
            if is_reply or aid not in first_at:
                continue
            part, offset = first_at[aid]
            order[part].append(offset)
        for part, offsets in order.items():
            if offsets != sorted(offsets):
                problems.append(f"channel {channel}: partition {part} alerts posted out of order")
    return problems


# ---------------------------------------------------------------------------------- pipeline


def new_prefix(name: str) -> str:
    return f"drill-{name}-{uuid.uuid4().hex[:6]}-"


class Pipeline:
    """One drill's isolated world on ``bootstrap``; use as a context manager.

    ``publish(n)`` adds ``n`` new stories (round-robin over the feeds) and, for a share of
    earlier ones, follow-ups raising their toll — so incidents get revised and alerts updated.
    """

    def __init__(
        self,
        bootstrap: str,
        workdir: Path,
        name: str,
        *,
        services: Iterable[str] = SERVICES,
        poll_interval: float = 0.5,
        supervise_stream: bool = False,
    ) -> None:
        """``supervise_stream``: run the stream worker as production does (``--exit-on-stall``
        under a supervisor that restarts it: compose's restart policy, ``marsad up``); the
        drill's waits restart it when it exits stalled, and count the restarts."""
        from marsad.topics import Topics, ensure_topics

        self.bootstrap = bootstrap
        self.workdir = workdir
        self.prefix = new_prefix(name)
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs = workdir / "logs"
        self.app_id = f"{self.prefix}marsad-stream"
        self.alerts_group = f"{self.prefix}marsad-alerts"
        from marsad.settings import Settings

        floor = Settings().replication_factor
        ensure_topics(bootstrap, PARTITIONS, Topics(self.prefix), replication=floor)
        # Work-around (stream room): Faust creates these internal topics itself, but when its
        # first partition assignment runs before they exist it ignores them for good and the
        # merge agent never consumes (seen here: "Ignoring missing topic", 0 incidents).
        # Creating them up front with the app's partition count avoids the race.
        create_topics(
            bootstrap,
            [
                f"{self.app_id}-{self.prefix}incident-candidates",
                f"{self.app_id}-window-updates",
            ],
        )
        self.feeds = FeedServer(max_items=100_000).start()
        for feed in FEEDS:
            self.feeds.add_feed(feed, items=[])
        self.slack = SlackServer().start()
        self.urls: dict[str, Report] = {}
        self._publish_lock = threading.Lock()
        self._stories = 0
        self._updates: list[int] = []
        self.feeds_file = workdir / "feeds.yaml"
        self.feeds_file.write_text(
            yaml.safe_dump(
                {
                    "allowed_private_hosts": ["127.0.0.1"],
                    "default_interval": poll_interval,
                    "min_interval": poll_interval,
                    "max_interval": poll_interval * 2,
                    "feeds": [
                        {
                            "name": f,
                            "url": self.feeds.url(f),
                            "language": "ar",
                            "interval": poll_interval,
                            "min_interval": poll_interval,
                            "max_interval": poll_interval * 2,
                        }
                        for f in FEEDS
                    ],
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "MARSAD_TOPIC_PREFIX": self.prefix,
            "MARSAD_HOME": str(self.home),
            "MARSAD_KAFKA_BOOTSTRAP": bootstrap,
            "MARSAD_PARTITIONS": str(PARTITIONS),
            "MARSAD_METRICS_PORT": "0",
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_API_URL": self.slack.api_url,
            "SLACK_WEBHOOK_URL": "",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
            ),
        }
        args = {
            "ingest": [
                "ingest",
                "--feeds",
                str(self.feeds_file),
                "--bootstrap",
                bootstrap,
                "--state",
                str(self.home / "ingest-state.sqlite"),
            ],
            "stream": [
                "stream",
                "--bootstrap",
                bootstrap,
                "--app-id",
                self.app_id,
                *(["--exit-on-stall"] if supervise_stream else []),
            ],
            "alerts": [
                "alerts",
                "--bootstrap",
                bootstrap,
                "--group",
                self.alerts_group,
                "--routing",
                str(REPO / "config" / "routing.yaml"),
            ],
        }
        self.services = {
            name: Service(name, args[name], self.env, self.logs / f"{name}.log")
            for name in services
        }
        self.supervised = {"stream"} if supervise_stream else set()
        self.restarts: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Pipeline:
        for svc in self.services.values():
            svc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for svc in self.services.values():
            svc.stop()
        self.feeds.stop()
        self.slack.stop()

    def service(self, name: str) -> Service:
        return self.services[name]

    def _alive_or_revived(self, name: str) -> bool:
        """Running, or (supervised) just restarted after it stopped itself as stalled."""
        svc = self.services[name]
        if svc.alive():
            return True
        if name in self.supervised and restarted_if_stalled(svc):
            self.restarts[name] += 1
            return True
        return False

    def check_alive(self, *names: str) -> None:
        for name in names or tuple(self.services):
            svc = self.services[name]
            if not self._alive_or_revived(name):
                raise AssertionError(
                    f"{name} exited with {svc.returncode()}:\n{svc.log_text()[-3000:]}"
                )

    # -- feeding -----------------------------------------------------------------------------
    def _add(self, report: Report) -> None:
        feed = FEEDS[report.story % len(FEEDS)]
        url = f"{self.feeds.base_url}/articles/{report.slug}"
        item = Item(report.title, report.text, report.slug, report.published, full=True, link=url)
        self.feeds.add_item(feed, item)
        self.urls[url] = report

    def publish(self, stories: int, follow_ups: int = 0) -> list[Report]:
        """Add ``stories`` new stories and ``follow_ups`` follow-ups of earlier ones."""
        with self._publish_lock:
            return self._publish(stories, follow_ups)

    def _publish(self, stories: int, follow_ups: int) -> list[Report]:
        added: list[Report] = []
        for _ in range(stories):
            s = story(self._stories)
            self._stories += 1
            self._updates.append(0)
            added.append(first_report(s))
        # Follow-ups go to recent stories: the merge keeps an incident open for 7 event-time
        # days, and stories are dated 3 days apart per batch of places.
        recent = range(max(0, self._stories - stories - RECENT_STORIES), self._stories - stories)
        candidates = [i for i in recent if self._updates[i] < 2]
        for i in candidates[:follow_ups]:
            self._updates[i] += 1
            added.append(follow_up(story(i), self._updates[i]))
        for report in added:
            self._add(report)
        return added

    @property
    def stories(self) -> int:
        return self._stories

    # -- observing ---------------------------------------------------------------------------
    @property
    def topic(self) -> Callable[[str], str]:
        return lambda base: f"{self.prefix}{base}"

    def count(self, base: str) -> int:
        """How many records ``<prefix><base>`` holds now (end offsets summed)."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
        try:
            topic = self.topic(base)
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            return sum(consumer.end_offsets(tps).values()) if tps else 0
        finally:
            consumer.close()

    def slack_posts(self) -> int:
        """Successful top-level chat.postMessage calls so far."""
        return len(
            [
                c
                for c in self.slack.calls_of("chat.postMessage", ok_only=True)
                if not c.body.get("thread_ts")
            ]
        )

    def books(self) -> Books:
        return Books(
            expected_urls=set(self.urls),
            articles=read_all(self.bootstrap, self.topic("articles")),
            incidents=read_all(self.bootstrap, self.topic("incidents")),
            alerts=read_all(self.bootstrap, self.topic("alerts")),
            slack=self.slack.all_messages(),
        )

    def lags(self) -> dict[str, int]:
        """Stream lag on articles and alerts-notifier lag on alerts."""
        out = {}
        if "stream" in self.services:
            out.update(
                {
                    f"stream:{k}": v
                    for k, v in group_lag(
                        self.bootstrap, self.app_id, [self.topic("articles")]
                    ).items()
                }
            )
        if "alerts" in self.services:
            out.update(
                {
                    f"alerts:{k}": v
                    for k, v in group_lag(
                        self.bootstrap, self.alerts_group, [self.topic("alerts")]
                    ).items()
                }
            )
        return out

    def settle(
        self, timeout: float, *, alive: Iterable[str] = (), article_duplicates_ok: bool = False
    ) -> Books:
        """Wait until the books balance and every consumer has caught up; return the books.

        Fails with the remaining problems (and the services' log tails) at the deadline.
        """
        last: list[str] = ["not checked yet"]
        deadline = time.monotonic() + timeout
        books: Books | None = None
        while True:
            self.check_alive(*alive)
            try:
                lags = self.lags()
                books = self.books()
                last = audit(books, article_duplicates_ok=article_duplicates_ok)
                if any(lags.values()):
                    last = [*last, f"consumers behind: {lags}"]
                if not last:
                    # Balanced and drained: look once more, so a late duplicate shows up.
                    books = self.books()
                    last = audit(books, article_duplicates_ok=article_duplicates_ok)
                    if not last:
                        return books
            except Exception as exc:  # broker busy or restarting: try again until deadline
                last = [f"{type(exc).__name__}: {exc}"]
            if time.monotonic() > deadline:
                tails = "\n".join(
                    f"--- {s.name} ---\n{s.log_text()[-2500:]}" for s in self.services.values()
                )
                raise AssertionError(
                    f"books did not balance within {timeout:.0f} s:\n  "
                    + "\n  ".join(last[:25])
                    + f"\n{tails}"
                )
            time.sleep(1.0)  # polling interval between audits; the deadline decides

    def wait(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        what: str,
        alive: Iterable[str] | None = None,
    ) -> Any:
        """``wait_until`` that also fails (with its log) when one of ``alive`` (default: every
        service) has died — a crash is reported as such, not as a timeout."""
        names = tuple(self.services) if alive is None else tuple(alive)

        def check() -> Any:
            for name in names:
                if not self._alive_or_revived(name):
                    raise ServiceDied(name, self.services[name])
            return predicate()

        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: not reached within {timeout:.0f} s "
                    f"({self.stories} stories published, {self.slack_posts()} Slack posts)"
                )
            time.sleep(0.25)  # polling interval; the deadline decides


class Trickle:
    """A steady stream of feed updates in a background thread: ``stories`` new stories and
    ``follow_ups`` follow-ups every ``every`` seconds, until stopped (or ``limit`` stories).

    This is load generation, not synchronisation: the drills still wait on conditions.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        stories: int = 2,
        follow_ups: int = 1,
        every: float = 0.5,
        limit: int | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.stories, self.follow_ups, self.every, self.limit = stories, follow_ups, every, limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.limit is not None and self.pipeline.stories >= self.limit:
                return
            self.pipeline.publish(self.stories, self.follow_ups)
            self._stop.wait(self.every)

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def done(self) -> bool:
        return not self._thread.is_alive()


def seen_keys(state_file: Path) -> set[str]:
    """The poller's "already published" keys, read from its sqlite state (read-only)."""
    import sqlite3

    if not state_file.exists():
        return set()
    db = sqlite3.connect(f"file:{state_file}?mode=ro", uri=True, timeout=10)
    try:
        return {row[0] for row in db.execute("SELECT key FROM seen")}
    finally:
        db.close()


# ---------------------------------------------------------------------------------- brokers


def own_broker(workdir: Path) -> Any:
    """A LocalBroker of the drill's own, on free ports, in ``workdir`` (started)."""
    from marsad.kafka import LocalBroker
    from marsad.settings import Settings

    port, cport = free_ports(2)
    broker = LocalBroker(workdir, port=port, controller_port=cport, cache_dir=Settings().cache_dir)
    broker.start(timeout=180)
    return broker


def report_line(name: str, started: float, figures: dict[str, Any]) -> str:
    """One JSON line a drill prints (``pytest -s``) and that the README figures come from."""
    line = json.dumps(
        {"drill": name, "seconds": round(time.monotonic() - started, 1), **figures},
        ensure_ascii=False,
    )
    print(f"DRILL {line}", flush=True)
    out = os.environ.get("MARSAD_DRILL_REPORT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    return line


# ---------------------------------------------------------------------------------- progress


def group_positions(
    bootstrap: str, group: str, topics: Iterable[str]
) -> dict[tuple[str, int], tuple[int | None, int]]:
    """``(topic, partition) -> (committed offset or None, end offset)`` of ``group`` now."""
    from marsad.kafka.probes import GroupProbe

    with GroupProbe(bootstrap) as probe:
        tps = probe.partitions(list(topics))
        ends = probe.end_offsets(tps)
        done = probe.committed(group)
    return {(tp.topic, tp.partition): (done.get(tp), ends[tp]) for tp in tps}


class ProgressSampler:
    """Samples a group's commit per partition every ``every`` seconds in a background thread
    and keeps, per partition, the longest time it had lag without its commit moving.

    Load observation, not synchronisation: the drill reads ``max_idle`` at the end.
    """

    def __init__(
        self, bootstrap: str, group: str, topics: Iterable[str], every: float = 3.0
    ) -> None:
        self.bootstrap, self.group, self.topics, self.every = bootstrap, group, list(topics), every
        self.samples = 0
        self.errors = 0
        #: partition -> (committed, since): when its commit last moved or it had no lag.
        self._since: dict[tuple[str, int], tuple[int | None, float]] = {}
        #: partition -> longest idle-with-lag seen (seconds), and when it ended.
        self.max_idle: dict[tuple[str, int], float] = {}
        self.hooks: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-sampler", daemon=True)

    def _look(self) -> None:
        now = time.monotonic()
        for key, (committed, end) in group_positions(
            self.bootstrap, self.group, self.topics
        ).items():
            lag = end - (committed or 0)
            held = self._since.get(key)
            if held is None or held[0] != committed or lag <= 0:
                self._since[key] = (committed, now)
                continue
            idle = now - held[1]
            self.max_idle[key] = max(self.max_idle.get(key, 0.0), idle)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self._look()
                self.samples += 1
            except Exception:  # broker busy: the next look counts
                self.errors += 1
            for hook in self.hooks:
                try:
                    hook()
                except Exception:
                    self.errors += 1

    def worst(self) -> tuple[tuple[str, int] | None, float]:
        if not self.max_idle:
            return None, 0.0
        key = max(self.max_idle, key=lambda k: self.max_idle[k])
        return key, self.max_idle[key]

    def __enter__(self) -> ProgressSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
