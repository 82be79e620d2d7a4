"""The composition root of the ingest room: one asyncio loop that polls every feed when it
is due, turns new items into :class:`~marsad.records.Article` records and publishes them.

One poll of one feed, in order (each step a function of another module):
guarded conditional GET (:mod:`ingest.fetch`) -> parse (:mod:`ingest.parse`, in a thread) ->
stable ids (:mod:`ingest.canonical`) -> drop already-published ids -> full text where the
feed gave only a summary (:mod:`ingest.fulltext`) -> drop already-published texts ->
language -> publish and wait for the broker (:mod:`ingest.publish`) -> ONLY THEN commit the
feed's validators and seen keys (:mod:`ingest.state`) -> schedule the next poll
(:mod:`ingest.schedule`).  Any failure is logged with its reason, counted, and backed off;
the loop itself never stops on a bad feed.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ingest import schedule
from ingest.canonical import article_id, canonical_url, derived_id, guid_id, text_fingerprint
from ingest.errors import FeedParseError, FetchError, PublishError
from ingest.feeds_config import FeedConfig, IngestConfig
from ingest.fetch import Fetcher, FetchLimits, FetchResult
from ingest.fulltext import FullTextFetcher
from ingest.guard import Guard
from ingest.language import detect_language
from ingest.metrics import IngestMetrics
from ingest.parse import FeedItem, parse_feed
from ingest.publish import Publisher
from ingest.state import FeedState, StateStore
from ingest.websub import WebSub
from marsad.records import Article

log = logging.getLogger(__name__)

THROTTLE_STATUSES = frozenset({429, 503})


def _by_reason(counts: Mapping[str, int]) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(counts.items()) if v)


@dataclass(frozen=True)
class FeedOutcome:
    """What one poll of one feed did: the CLI prints :meth:`line`, the loop uses ``next_due``.

    Every entry of the fetched document is either published (``new``) or counted in
    ``skipped`` by reason (``duplicate_id``, ``duplicate_text``, ``no_text``,
    ``over_item_cap``); ``duplicates`` is the duplicate part of it."""

    feed: str
    outcome: str
    new: int = 0
    duplicates: int = 0
    detail: str = ""
    next_due: float = 0.0
    elapsed: float = 0.0
    #: Entries not published, by reason (duplicates included).
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: Published items that had neither a link nor a guid (derived id).
    no_link: int = 0
    #: Published items that lost something on the way, by what (``text_truncated``...).
    trimmed: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.outcome not in ("ok", "not_modified", "unchanged")

    def counts(self) -> list[str]:
        """``skipped=N`` and, where not zero, its reasons, ``no_link=`` and ``trimmed=``."""
        total = sum(self.skipped.values())
        out = [f"skipped={total}"]
        if total:
            out.append(f"skipped_by={_by_reason(self.skipped)}")
        if self.no_link:
            out.append(f"no_link={self.no_link}")
        if any(self.trimmed.values()):
            out.append(f"trimmed={_by_reason(self.trimmed)}")
        return out

    def line(self, now: float | None = None) -> str:
        """``name outcome new= duplicates= skipped= next_in= [skipped_by=reason:n,...]
        [no_link=] [trimmed=what:n,...] [detail]``, tab-separated."""
        wait = max(0.0, self.next_due - (now if now is not None else time.time()))
        counts = self.counts()
        text = "\t".join(
            [
                self.feed, self.outcome, f"new={self.new}", f"duplicates={self.duplicates}",
                counts[0], f"next_in={wait:.0f}s", *counts[1:],
            ]
        )  # fmt: skip
        return f"{text}\t{self.detail}" if self.detail else text


@dataclass
class _Tally:
    """What became of one document's entries besides the published articles."""

    skipped: Counter[str] = field(default_factory=Counter)
    trimmed: Counter[str] = field(default_factory=Counter)
    no_link: int = 0


@dataclass
class _Candidate:
    item: FeedItem
    id: str
    url: str | None
    canonical: str | None
    derived: bool = False


class Poller:
    """Polls the feeds of ``config``; usable in-process (tests, benchmarks, ``marsad up``)."""

    def __init__(
        self,
        config: IngestConfig,
        publisher: Publisher,
        state: StateStore,
        *,
        fetcher: Fetcher | None = None,
        metrics: IngestMetrics | None = None,
        limits: FetchLimits | None = None,
        concurrency: int = 64,
        fulltext_workers: int = 2,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        websub: WebSub | None = None,
    ) -> None:
        self.config = config
        #: WebSub push delivery (None: poll only); see :mod:`ingest.websub`.
        self.websub = websub
        self.publisher = publisher
        self.state = state
        self.metrics = metrics or IngestMetrics()
        self.fetcher = fetcher or Fetcher(Guard.allowing(config.allowed_private_hosts), limits)
        self.fulltext = FullTextFetcher(self.fetcher, workers=fulltext_workers)
        self.rng = rng or random.Random()
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: set[str] = set()

    # ------------------------------------------------------------------ one feed
    def _bounds(self, feed: FeedConfig) -> schedule.Bounds:
        return schedule.Bounds(*self.config.bounds(feed))

    def _previous(self, feed: FeedConfig) -> FeedState:
        start = self._bounds(feed).start
        stored = self.state.feed(feed.name)
        if stored is None or stored.url != feed.url:
            return FeedState(feed.name, feed.url, None, None, start, self.clock())
        low, high = self._bounds(feed).low, self._bounds(feed).high
        return replace(stored, interval=min(high, max(low, stored.interval)))

    async def poll(self, feed: FeedConfig) -> FeedOutcome:
        """Poll ``feed`` once, publish what is new, record state; never raises for feed faults."""
        started = time.perf_counter()
        prev = self._previous(feed)
        bounds = self._bounds(feed)
        try:
            result = await self.fetcher.get(
                feed.url, etag=prev.etag, last_modified=prev.last_modified
            )
        except FetchError as exc:
            return self._failed(feed, prev, bounds, exc.outcome, str(exc), started)

        if result.status in THROTTLE_STATUSES:
            return self._failed(
                feed,
                prev,
                bounds,
                "throttled",
                f"HTTP {result.status}",
                started,
                retry_after=result.retry_after,
                result=result,
            )
        if result.not_modified:
            self.metrics.fetch("not_modified", result.elapsed)
            return self._succeeded(feed, prev, bounds, result, [], 0, "not_modified", started)
        if result.status != 200 or result.body is None:
            return self._failed(
                feed, prev, bounds, "http_error", f"HTTP {result.status}", started, result=result
            )
        body_hash = hashlib.sha256(result.body).hexdigest()[:32]
        if body_hash == prev.body_hash:  # a server that ignores validators: same bytes
            self.metrics.fetch("unchanged", result.elapsed, len(result.body))
            return self._succeeded(
                feed, prev, bounds, result, [], 0, "unchanged", started, body_hash=body_hash
            )
        try:
            parsed = await asyncio.to_thread(
                parse_feed,
                result.body,
                content_type=result.content_type,
                base_url=result.final_url,
            )
        except FeedParseError as exc:
            self.metrics.bytes.inc(len(result.body))
            return self._failed(feed, prev, bounds, "parse_error", str(exc), started, result=result)
        self.metrics.fetch("ok", result.elapsed, len(result.body))
        for warning in parsed.warnings:
            log.warning("feed=%s url=%s parse warning: %s", feed.name, feed.url, warning)

        tally = _Tally(Counter(parsed.skipped))
        articles, keys, duplicates = await self._new_articles(feed, parsed.items, tally=tally)
        try:
            await self._publish_claimed(articles)
        except PublishError as exc:
            return self._failed(feed, prev, bounds, "publish_error", str(exc), started)
        self._count_left_out(tally)
        return self._succeeded(
            feed, prev, bounds, result, keys, len(articles), "ok", started, duplicates,
            body_hash=body_hash, tally=tally,
        )  # fmt: skip

    async def _publish_claimed(self, articles: list[Article]) -> None:
        """Publish ``articles`` (claimed as in flight by ``_new_articles``), release the
        claims whatever happens, and count the outcome; a PublishError is re-raised after
        it is counted. One piece for polled and pushed documents alike."""
        if not articles:
            return
        claimed = [a.id for a in articles]
        try:
            await self.publisher.publish(articles)
        except PublishError:
            self.metrics.producer_errors.inc()
            raise
        finally:
            self._inflight.difference_update(claimed)
        self.metrics.published.inc(len(articles))

    def _succeeded(
        self,
        feed: FeedConfig,
        prev: FeedState,
        bounds: schedule.Bounds,
        result: FetchResult,
        keys: Sequence[str],
        new: int,
        outcome: str,
        started: float,
        duplicates: int = 0,
        *,
        body_hash: str | None = None,
        tally: _Tally | None = None,
    ) -> FeedOutcome:
        now = self.clock()
        decision = schedule.after_success(
            prev.interval, new, bounds, self.rng, max_age=result.max_age
        )
        state = FeedState(
            feed.name,
            feed.url,
            result.etag or (prev.etag if result.not_modified else None),
            result.last_modified or (prev.last_modified if result.not_modified else None),
            decision.interval,
            now + decision.delay,
            0,
            outcome,
            now,
            body_hash or prev.body_hash,
        )
        self.state.commit_poll(state, keys)
        if self.websub is not None:
            self.websub.observe(feed, result)
        detail = "" if outcome != "ok" else decision.reason
        tally = tally or _Tally()
        result_outcome = FeedOutcome(
            feed.name, outcome, new, duplicates, detail, state.next_due,
            time.perf_counter() - started, dict(tally.skipped), tally.no_link, dict(tally.trimmed),
        )  # fmt: skip
        counts = " ".join(result_outcome.counts())
        self._log(feed, outcome, new, duplicates, decision.delay, f"{counts} {detail}", started)
        return result_outcome

    def _failed(
        self,
        feed: FeedConfig,
        prev: FeedState,
        bounds: schedule.Bounds,
        outcome: str,
        detail: str,
        started: float,
        *,
        retry_after: float | None = None,
        result: FetchResult | None = None,
    ) -> FeedOutcome:
        if outcome != "publish_error":  # that fetch was already counted as ok
            self.metrics.fetch(outcome, result.elapsed if result else None)
        now = self.clock()
        if outcome == "publish_error":
            errors = prev.errors
            decision = schedule.after_publish_error(prev.interval, bounds, self.rng)
        else:
            errors = prev.errors + 1
            decision = schedule.after_error(
                prev.interval, errors, bounds, self.rng, retry_after=retry_after
            )
        # Validators are kept as they were: nothing of this fetch counts as seen.
        state = FeedState(
            feed.name, feed.url, prev.etag, prev.last_modified, prev.interval,
            now + decision.delay, errors, outcome, now, prev.body_hash,
        )  # fmt: skip
        self.state.save_schedule(state)
        full = f"{detail} ({decision.reason})"
        self._log(feed, outcome, 0, 0, decision.delay, full, started, level=logging.WARNING)
        return FeedOutcome(
            feed.name, outcome, 0, 0, full, state.next_due, time.perf_counter() - started
        )

    def _log(
        self,
        feed: FeedConfig,
        outcome: str,
        new: int,
        duplicates: int,
        delay: float,
        detail: str,
        started: float,
        level: int = logging.INFO,
    ) -> None:
        if outcome in ("not_modified", "unchanged") and level == logging.INFO:
            level = logging.DEBUG
        log.log(
            level,
            "feed=%s outcome=%s new=%d duplicates=%d next_in=%.1fs took=%.3fs %s",
            feed.name, outcome, new, duplicates, delay, time.perf_counter() - started, detail,
        )  # fmt: skip

    # ------------------------------------------------------------------ items -> articles
    def _count_left_out(self, tally: _Tally) -> None:
        """Metrics of what one document left out or trimmed (once its articles are in)."""
        self.metrics.items_left_out(tally.skipped, tally.trimmed)
        if tally.no_link:
            self.metrics.derived_ids.inc(tally.no_link)

    def _candidates(self, feed: FeedConfig, items: Sequence[FeedItem]) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen_here: set[str] = set()
        for item in items:
            derived = False
            if item.link:
                canonical = canonical_url(item.link)
                ident = article_id(item.link)
            elif item.guid:
                canonical = None
                ident = guid_id(feed.url, item.guid)
            else:  # neither link nor guid: an id from what the item says
                canonical = None
                ident = derived_id(feed.url, item.title, item.published_at, item.text)
                derived = True
            if ident in seen_here:
                continue
            seen_here.add(ident)
            out.append(_Candidate(item, ident, item.link, canonical, derived))
        return out

    async def _new_articles(
        self, feed: FeedConfig, items: Sequence[FeedItem], *, tally: _Tally | None = None
    ) -> tuple[list[Article], list[str], int]:
        """New articles of this fetch, the keys to mark as seen once published, and the
        number of duplicates dropped; ``tally`` (if given) gets the left-out items by reason,
        the trimmed ones and those published under a derived id."""
        tally = tally if tally is not None else _Tally()
        candidates = self._candidates(feed, items)
        seen = self.state.seen_keys(c.id for c in candidates)
        fresh = [c for c in candidates if c.id not in seen and c.id not in self._inflight]
        duplicates = len(items) - len(fresh)
        if duplicates:
            self.metrics.items.labels("duplicate_id").inc(duplicates)
            tally.skipped["duplicate_id"] += duplicates
        if not fresh:
            return [], [], duplicates
        self._inflight.update(c.id for c in fresh)
        try:
            texts = await asyncio.gather(*(self._text_of(feed, c) for c in fresh))
            fetched_at = datetime.now(UTC)
            prints = [text_fingerprint(c.item.title, t) for c, t in zip(fresh, texts, strict=True)]
            known = self.state.seen_keys(p for p in prints if p)
            articles: list[Article] = []
            keys: list[str] = []
            batch_prints: set[str] = set()
            for cand, text, fingerprint in zip(fresh, texts, prints, strict=True):
                if fingerprint and (fingerprint in known or fingerprint in batch_prints):
                    self.metrics.items.labels("duplicate_text").inc()
                    tally.skipped["duplicate_text"] += 1
                    duplicates += 1
                    keys.append(cand.id)  # this URL is the same story: do not look again
                    continue
                if fingerprint:
                    batch_prints.add(fingerprint)
                    keys.append(fingerprint)
                keys.append(cand.id)
                articles.append(self._article(feed, cand, text, fetched_at))
                tally.no_link += cand.derived
                tally.trimmed.update(cand.item.trimmed)
            self.metrics.items.labels("new").inc(len(articles))
        except BaseException:
            self._inflight.difference_update(c.id for c in fresh)
            raise
        published = {a.id for a in articles}
        self._inflight.difference_update(c.id for c in fresh if c.id not in published)
        # Oldest first: the feed lists newest first; consumers then see stories in order.
        return articles[::-1], keys, duplicates

    async def _text_of(self, feed: FeedConfig, cand: _Candidate) -> str:
        item = cand.item
        if feed.full_text and not item.has_content and cand.url:
            full = await self.fulltext.text_of(cand.url)
            self.metrics.fulltext.labels("ok" if full else "fallback").inc()
            if full:
                return full
        return item.text or item.title or ""

    def _article(
        self, feed: FeedConfig, cand: _Candidate, text: str, fetched_at: datetime
    ) -> Article:
        item = cand.item
        language = feed.language or detect_language(f"{item.title or ''}\n{text}")
        return Article(
            id=cand.id,
            text=text,
            title=item.title,
            published_at=item.published_at,
            url=cand.url,
            source=feed.name,
            language=language,
            feed_url=feed.url,
            fetched_at=fetched_at,
            canonical_url=cand.canonical,
        )

    # ------------------------------------------------------------------ loops
    async def _poll_safely(self, feed: FeedConfig) -> FeedOutcome:
        async with self._slots:
            try:
                return await self.poll(feed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not stop the other feeds: log, back off
                log.exception("feed=%s outcome=internal_error", feed.name)
                prev = self._previous(feed)
                return self._failed(
                    feed, prev, self._bounds(feed), "internal_error",
                    f"{type(exc).__name__}: {exc}", time.perf_counter(),
                )  # fmt: skip

    async def run_once(self) -> list[FeedOutcome]:
        """Poll every feed once (concurrently, bounded), in config order."""
        self.metrics.tick()
        return list(await asyncio.gather(*(self._poll_safely(f) for f in self.config.feeds)))

    async def run(self, stop: asyncio.Event, *, grace_s: float = 20.0) -> None:
        """Poll each feed whenever it is due until ``stop`` is set; then let in-flight polls
        finish (up to ``grace_s``) so nothing half-published is left behind."""
        feeds = {f.name: f for f in self.config.feeds}
        now = self.clock()
        heap: list[tuple[float, str]] = []
        for feed in self.config.feeds:
            stored = self.state.feed(feed.name)
            due = stored.next_due if stored and stored.url == feed.url else now
            heapq.heappush(heap, (min(due, now + self._bounds(feed).high), feed.name))
        done: asyncio.Queue[FeedOutcome | None] = asyncio.Queue()
        running: dict[str, asyncio.Task[None]] = {}

        async def one(feed: FeedConfig) -> None:
            await done.put(await self._poll_safely(feed))

        async def watch_stop() -> None:
            await stop.wait()
            await done.put(None)

        watcher = asyncio.create_task(watch_stop())
        log.info("polling %d feeds", len(feeds))
        try:
            if self.websub is not None:
                await self.websub.start(self.fetcher, self.metrics.registry, self.ingest_push)
            while not stop.is_set():
                self.metrics.tick()
                now = self.clock()
                while heap and heap[0][0] <= now:
                    _, name = heapq.heappop(heap)
                    held = self.websub.hold(name, now) if self.websub is not None else None
                    if held is not None:  # pushed: polled only at the relaxed interval
                        heapq.heappush(heap, (held, name))
                        continue
                    running[name] = asyncio.create_task(one(feeds[name]), name=f"poll:{name}")
                wait = min(5.0, max(0.0, heap[0][0] - now)) if heap else 5.0
                try:
                    outcome = await asyncio.wait_for(done.get(), timeout=wait)
                except TimeoutError:
                    continue
                while outcome is not None:
                    running.pop(outcome.feed, None)
                    heapq.heappush(heap, (outcome.next_due, outcome.feed))
                    outcome = done.get_nowait() if not done.empty() else None
        finally:
            watcher.cancel()
            if running:
                log.info("stopping: waiting for %d in-flight poll(s)", len(running))
                _, pending = await asyncio.wait(running.values(), timeout=grace_s)
                for task in pending:
                    task.cancel()
            if self.websub is not None:
                await self.websub.stop()
            log.info("poller stopped")

    # ------------------------------------------------------------------ push (WebSub)
    async def ingest_push(self, name: str, body: bytes, content_type: str | None) -> str:
        """A document a hub pushed for feed ``name`` (signature already checked): the same
        parse -> ids -> seen -> publish -> commit path as a poll, without touching the
        feed's validators or schedule.  ``accepted`` (something new published),
        ``duplicate`` (nothing new: a replay), ``parse_error`` or ``publish_error``."""
        feed = next((f for f in self.config.feeds if f.name == name), None)
        if feed is None:
            return "unknown_callback"
        try:
            parsed = await asyncio.to_thread(
                parse_feed, body, content_type=content_type, base_url=feed.url
            )
        except FeedParseError as exc:
            log.warning("feed=%s pushed document unreadable: %s", name, exc)
            return "parse_error"
        tally = _Tally(Counter(parsed.skipped))
        articles, keys, duplicates = await self._new_articles(feed, parsed.items, tally=tally)
        try:
            await self._publish_claimed(articles)
        except PublishError as exc:
            log.warning("feed=%s pushed articles not published: %s", name, exc)
            return "publish_error"
        self._count_left_out(tally)
        if keys:  # the stored schedule as it is, plus the keys just published
            self.state.commit_poll(self.state.feed(name) or self._previous(feed), keys)
        pushed = FeedOutcome(name, "pushed", len(articles), duplicates, skipped=dict(tally.skipped),
                             no_link=tally.no_link, trimmed=dict(tally.trimmed))  # fmt: skip
        log.info(
            "feed=%s outcome=pushed new=%d duplicates=%d %s",
            name, len(articles), duplicates, " ".join(pushed.counts()),
        )  # fmt: skip
        return "accepted" if articles else "duplicate"

    async def aclose(self) -> None:
        self.fulltext.close()
        await self.fetcher.aclose()
        await self.publisher.aclose()
