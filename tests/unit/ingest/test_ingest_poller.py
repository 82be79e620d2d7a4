import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.canonical import article_id
from ingest.feeds_config import IngestConfig, parse_config
from ingest.poller import FeedOutcome, Poller
from ingest.publish import MemoryPublisher
from ingest.state import StateStore
from tests.support.feed_server import FeedServer, Item, make_item


def config(*feeds: dict[str, Any]) -> IngestConfig:
    return parse_config({"allowed_private_hosts": ["127.0.0.1"], "feeds": list(feeds)})


class Harness:
    """A poller over a MemoryPublisher; ``once()`` runs one round in a fresh event loop."""

    def __init__(self, cfg: IngestConfig, state: StateStore | None = None) -> None:
        self.cfg = cfg
        self.publisher = MemoryPublisher()
        self.state = state or StateStore(None)
        self.poller: Poller | None = None

    def once(self) -> dict[str, FeedOutcome]:
        async def go() -> list[FeedOutcome]:
            self.poller = Poller(self.cfg, self.publisher, self.state)
            try:
                return await self.poller.run_once()
            finally:
                await self.poller.fetcher.aclose()

        return {o.feed: o for o in asyncio.run(go())}


def test_new_items_published_once(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=3)
    h = Harness(config({"name": "A", "url": url}))
    first = h.once()["A"]
    assert (first.outcome, first.new) == ("ok", 3)
    art = h.publisher.articles[0]
    assert art.source == "A" and art.language == "ar" and art.feed_url == url
    assert art.id == article_id(art.url or "") and art.fetched_at is not None
    assert art.model_dump()["canonical_url"].startswith("https://127.0.0.1:")
    assert (h.publisher.articles[0].title or "").endswith("تقرير 1")  # oldest first

    second = h.once()["A"]
    assert (second.outcome, second.new) == ("not_modified", 0)
    item = feed_server.add_item("a")
    third = h.once()["A"]
    assert (third.outcome, third.new, third.duplicates) == ("ok", 1, 3)
    assert third.skipped == {"duplicate_id": 3}
    fields = third.line().split("\t")
    assert fields[:5] == ["A", "ok", "new=1", "duplicates=3", "skipped=3"]
    assert fields[5].startswith("next_in=") and fields[6] == "skipped_by=duplicate_id:3"
    assert h.publisher.articles[-1].title == item.title
    assert len(h.publisher.articles) == 4


def test_same_story_on_two_feeds_emitted_once(feed_server: FeedServer) -> None:
    shared = make_item(50)
    a = feed_server.add_feed("a", items=[make_item(51), shared])
    b = feed_server.add_feed("b", kind="atom", items=[shared])
    h = Harness(config({"name": "A", "url": a}, {"name": "B", "url": b}))
    out = h.once()
    assert out["A"].new + out["B"].new == 2
    assert sorted(a.title or "" for a in h.publisher.articles) == sorted(
        [make_item(51).title, shared.title]
    )


def test_same_text_under_new_url_not_reemitted(feed_server: FeedServer) -> None:
    story = make_item(60)
    url = feed_server.add_feed("a", items=[story])
    h = Harness(config({"name": "A", "url": url}))
    assert h.once()["A"].new == 1
    moved = Item(story.title, story.text, "moved-60", story.published, link=None)
    moved.link = f"{feed_server.base_url}/articles/elsewhere?id=60"
    feed_server.add_item("a", moved)
    out = h.once()["A"]
    assert (out.new, out.duplicates) == (0, 2)
    assert len(h.publisher.articles) == 1


def test_tracking_parameters_do_not_make_a_new_story(feed_server: FeedServer) -> None:
    story = make_item(70)
    story.link = f"{feed_server.base_url}/articles/s70"
    url = feed_server.add_feed("a", items=[story])
    h = Harness(config({"name": "A", "url": url}))
    h.once()
    tracked = make_item(71)  # different words, same canonical URL: the same article
    tracked.link = f"http://127.0.0.1:{feed_server.port}/articles/s70?utm_source=rss#top"
    feed_server.add_item("a", tracked)
    assert h.once()["A"].new == 0


def test_publish_failure_advances_nothing(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=2)
    h = Harness(config({"name": "A", "url": url}))
    h.publisher.fail = True
    out = h.once()["A"]
    assert out.outcome == "publish_error" and "simulated broker outage" in out.detail
    state = h.state.feed("A")
    assert state is not None and state.etag is None and state.last_modified is None
    assert h.state.seen_count() == 0
    assert state.next_due - time.time() < 60  # retried soon, not backed off for an hour

    h.publisher.fail = False
    again = h.once()["A"]
    assert (again.outcome, again.new) == ("ok", 2)  # a full 200, not a 304: nothing lost
    assert len(h.publisher.articles) == 2


def test_state_survives_restart(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add_feed("a", items=2)
    path = tmp_path / "ingest-state.sqlite"
    cfg = config({"name": "A", "url": url})
    h1 = Harness(cfg, StateStore(path))
    assert h1.once()["A"].new == 2
    due = h1.state.feed("A")
    h1.state.close()

    h2 = Harness(cfg, StateStore(path))
    assert h2.state.feed("A") == due
    assert h2.once()["A"].outcome == "not_modified"
    feed_server.add_item("a")
    feed_server.set_fault("a", None)
    # Validators gone (e.g. server restarted): ids still remembered, nothing re-emitted.
    h2.state.commit_poll(_no_validators(h2), [])
    out = h2.once()["A"]
    assert (out.new, out.duplicates) == (1, 2)


def _no_validators(h: Harness) -> Any:
    from dataclasses import replace

    state = h.state.feed("A")
    assert state is not None
    return replace(state, etag=None, last_modified=None)


def test_full_text_fetched_for_summary_only_items(feed_server: FeedServer) -> None:
    item = make_item(80, full=False)
    url = feed_server.add_feed("a", kind="atom", items=[item])
    url_b = feed_server.add_feed("b", items=[make_item(81, full=False)])
    h = Harness(config({"name": "A", "url": url, "full_text": True}, {"name": "B", "url": url_b}))
    h.once()
    by_source = {a.source: a for a in h.publisher.articles}
    assert "تقرير رقم 80" in by_source["A"].text  # only the article page has this sentence
    assert "تقرير رقم 81" not in by_source["B"].text  # full_text off: the summary is kept
    assert h.poller is not None
    assert h.poller.metrics.count("marsad_ingest_fulltext_total", outcome="ok") == 1


def test_full_text_link_to_private_host_falls_back_to_summary(feed_server: FeedServer) -> None:
    item = make_item(82, full=False)
    item.link = "http://10.11.12.13/articles/x"
    url = feed_server.add_feed("a", items=[item])
    h = Harness(config({"name": "A", "url": url, "full_text": True}))
    assert h.once()["A"].new == 1
    assert h.publisher.articles[0].text == item.text.split("،")[0]
    assert h.poller is not None
    assert h.poller.metrics.count("marsad_ingest_fulltext_total", outcome="fallback") == 1


@pytest.mark.parametrize(
    ("fault", "params", "outcome"),
    [
        ("html", {}, "parse_error"),
        ("billion_laughs", {}, "parse_error"),
        ("xxe", {}, "parse_error"),
        ("xxe_utf16", {}, "parse_error"),
        ("redirect_private", {}, "blocked"),
        ("status", {"status": 500}, "http_error"),
        ("truncated", {}, "ok"),
        ("bad_encoding", {}, "ok"),
        ("huge_title", {"huge_title_chars": 2_000_000}, "ok"),
        ("many_items", {}, "ok"),
    ],
)
def test_hostile_feed_reported_and_others_unharmed(
    feed_server: FeedServer, fault: str, params: dict[str, Any], outcome: str
) -> None:
    bad = feed_server.add_feed("bad", items=4, fault=fault, **params)
    good = feed_server.add_feed("good", items=2)
    h = Harness(config({"name": "Bad", "url": bad}, {"name": "Good", "url": good}))
    out = h.once()
    assert out["Bad"].outcome == outcome, out["Bad"].detail
    assert (out["Good"].outcome, out["Good"].new) == ("ok", 2)
    for article in h.publisher.articles:
        assert len(article.title or "") <= 1001
        assert "root:" not in article.text


def test_many_items_keeps_a_bounded_number(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("many", fault="many_items")
    h = Harness(config({"name": "M", "url": url}))
    out = h.once()["M"]
    assert out.outcome == "ok" and out.new == 500


def test_retry_after_honoured(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("busy", fault="status", status=429, retry_after=900)
    h = Harness(config({"name": "B", "url": url, "interval": 10}))
    out = h.once()["B"]
    assert out.outcome == "throttled"
    assert out.next_due - time.time() >= 890
    assert "Retry-After" in out.detail


def test_errors_back_off_and_success_resets(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1, fault="status", status=503)
    h = Harness(config({"name": "A", "url": url, "interval": 10}))
    waits = []
    for _ in range(3):
        out = h.once()["A"]
        waits.append(out.next_due - time.time())
    assert waits[0] < waits[1] < waits[2]
    feed_server.set_fault("a", None)
    h.once()
    state = h.state.feed("A")
    assert state is not None and state.errors == 0


def test_busy_feed_polled_faster(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)
    h = Harness(config({"name": "A", "url": url, "interval": 200, "max_interval": 400}))
    h.once()
    interval_after_new = h.state.feed("A").interval  # type: ignore[union-attr]
    h.once()
    interval_after_quiet = h.state.feed("A").interval  # type: ignore[union-attr]
    assert interval_after_new == 100 and interval_after_quiet == 125


def test_configured_language_kept(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)
    h = Harness(config({"name": "A", "url": url, "language": "fa"}))
    h.once()
    assert h.publisher.articles[0].language == "fa"


def test_metrics_count_outcomes(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)

    async def go() -> Poller:
        poller = Poller(config({"name": "A", "url": url}), MemoryPublisher(), StateStore(None))
        await poller.run_once()
        await poller.run_once()
        await poller.fetcher.aclose()
        return poller

    m = asyncio.run(go()).metrics
    assert m.count("marsad_ingest_fetches_total", outcome="ok") == 1
    assert m.count("marsad_ingest_fetches_total", outcome="not_modified") == 1
    assert m.count("marsad_ingest_not_modified_ratio") == 0.5
    assert m.count("marsad_ingest_items_total", kind="new") == 1
    assert m.count("marsad_ingest_bytes_total") > 100
    assert m.count("marsad_ingest_fetch_seconds_count") == 2


def test_run_loop_picks_up_new_items_and_stops(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)
    cfg = config({"name": "A", "url": url, "interval": 0.2, "min_interval": 0.2,
                  "max_interval": 0.2})  # fmt: skip
    publisher = MemoryPublisher()

    async def wait_for(cond: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, "condition not met in time"
            await asyncio.sleep(0.02)

    async def go() -> None:
        poller = Poller(cfg, publisher, StateStore(None))
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        await wait_for(lambda: len(publisher.articles) == 1, 10)
        await wait_for(lambda: feed_server.not_modified("a") >= 1, 10)  # polled again: 304
        feed_server.add_item("a")
        await wait_for(lambda: len(publisher.articles) == 2, 10)
        stop.set()
        await asyncio.wait_for(task, 10)
        await poller.aclose()

    asyncio.run(go())
    assert len(publisher.articles) == 2


def test_server_without_validators_costs_no_parse(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=2, validators=False)
    h = Harness(config({"name": "A", "url": url}))
    assert h.once()["A"].new == 2
    assert h.once()["A"].outcome == "unchanged"
    feed_server.add_item("a")
    out = h.once()["A"]
    assert (out.outcome, out.new) == ("ok", 1)


def test_old_state_file_without_body_hash_column_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE feed_state (name TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT,"
        " last_modified TEXT, interval REAL NOT NULL, next_due REAL NOT NULL,"
        " errors INTEGER NOT NULL DEFAULT 0, last_outcome TEXT, last_polled REAL)"
    )
    db.execute("INSERT INTO feed_state VALUES ('A', 'u', '\"e\"', NULL, 60, 5, 0, 'ok', 1)")
    db.commit()
    db.close()
    store = StateStore(path)
    state = store.feed("A")
    assert state is not None and state.etag == '"e"' and state.body_hash is None


def test_items_without_link_or_guid_published_under_stable_ids(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("bare", items=20, fault="no_links", empty_items=2)
    h = Harness(config({"name": "Bare", "url": url}))
    out = h.once()["Bare"]
    assert (out.outcome, out.new, out.no_link) == ("ok", 20, 20)
    assert out.skipped == {"no_text": 2}
    line = out.line()
    assert "\tnew=20\t" in line and "\tno_link=20" in line and "skipped_by=no_text:2" in line
    assert all(
        a.url is None and a.model_dump()["canonical_url"] is None for a in h.publisher.articles
    )
    assert len({a.id for a in h.publisher.articles}) == 20
    assert h.poller is not None
    metrics = h.poller.metrics
    assert metrics.count("marsad_ingest_items_derived_id_total") == 20
    assert metrics.count("marsad_ingest_items_skipped_total", reason="no_text") == 2

    feed_server.add_item("bare")  # the document changes: the 20 keep their ids
    again = h.once()["Bare"]
    assert (again.new, again.duplicates, again.no_link) == (1, 20, 1)
    assert again.skipped == {"duplicate_id": 20, "no_text": 2}
    assert len(h.publisher.articles) == 21


def test_every_left_out_item_counted_by_reason(feed_server: FeedServer) -> None:
    shared = make_item(90)
    url = feed_server.add_feed("many", fault="many_items", many_items=600)
    url_a = feed_server.add_feed("a", items=[shared, make_item(91)])
    moved = Item(shared.title, shared.text, "moved-90", shared.published,
                 link=f"{feed_server.base_url}/elsewhere/90")  # fmt: skip
    url_b = feed_server.add_feed("b", items=[moved])
    h = Harness(config({"name": "M", "url": url}, {"name": "A", "url": url_a}))
    out = h.once()
    assert out["M"].new == 500 and out["M"].skipped == {"over_item_cap": 100}
    assert "skipped=100\t" in out["M"].line() and "skipped_by=over_item_cap:100" in out["M"].line()
    h.cfg = config({"name": "B", "url": url_b})
    b = h.once()["B"]
    assert (b.new, b.skipped) == (0, {"duplicate_text": 1})
    assert h.poller is not None
    assert h.poller.metrics.count("marsad_ingest_items_skipped_total", reason="duplicate_text") == 1
