"""Push delivery end to end, without a broker: a publisher's site, the local WebSub hub
(tests/support/websub_hub.py) and a Poller with a MemoryPublisher and its callback server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from ingest.feeds_config import parse_config
from ingest.poller import Poller
from ingest.publish import MemoryPublisher
from ingest.state import StateStore
from ingest.websub import WebSub, WebSubConfig
from tests.support.feed_server import make_item, render_rss
from tests.support.websub_hub import TopicSite, WebSubHub, with_hub

PATH = "/feed.xml"


@dataclass
class Rig:
    site: TopicSite
    hub: WebSubHub
    poller: Poller
    publisher: MemoryPublisher
    websub: WebSub
    topic: str
    seq: int = 0

    def document(self, count: int) -> bytes:
        items = [make_item(i) for i in range(count)][::-1]  # newest first
        return with_hub(render_rss("Push", self.site.url(""), items), self.hub.url, self.topic)

    def set_items(self, count: int) -> bytes:
        self.site.documents[PATH] = doc = self.document(count)
        return doc

    def titles(self) -> list[str]:
        return [a.title or "" for a in self.publisher.articles]

    def deliveries(self, outcome: str) -> float:
        return self.poller.metrics.count("marsad_ingest_websub_deliveries_total", outcome=outcome)

    def polls(self) -> int:
        return self.site.gets.get(PATH, 0)


async def until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def rig(
    *, interval: float = 0.3, relaxed: float = 60.0, hub: WebSubHub | None = None
) -> AsyncIterator[Rig]:
    with TopicSite() as site, hub or WebSubHub() as the_hub:
        topic = site.url(PATH)
        cfg = parse_config(
            {
                "allowed_private_hosts": ["127.0.0.1"],
                "feeds": [{"name": "A", "url": topic, "interval": interval}],
            }
        )
        websub = WebSub(WebSubConfig("127.0.0.1", 0, poll_interval=relaxed, lease_seconds=3600))
        publisher = MemoryPublisher()
        poller = Poller(cfg, publisher, StateStore(None), websub=websub)
        r = Rig(site, the_hub, poller, publisher, websub, topic)
        r.set_items(1)
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        try:
            yield r
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await poller.aclose()


async def subscribed(r: Rig) -> None:
    await asyncio.to_thread(r.hub.wait_for_subscription, r.topic)
    await until(lambda: r.websub.subscriber.live("A", time.time()))


def test_subscribe_verify_and_push() -> None:
    async def go() -> None:
        async with rig() as r:
            await until(lambda: len(r.publisher.articles) == 1)  # the first poll
            await subscribed(r)
            (request,) = [q for q in r.hub.requests if q["hub.mode"] == "subscribe"]
            assert request["hub.topic"] == r.topic
            assert request["hub.callback"].startswith(f"http://127.0.0.1:{r.websub.port}/")
            assert len(request["hub.secret"]) == 64 and request["hub.lease_seconds"] == "3600"
            polls = r.polls()
            doc = r.set_items(2)
            statuses = await asyncio.to_thread(r.hub.publish, r.topic, doc)
            assert statuses == [200]
            assert len(r.publisher.articles) == 2  # published before the hub got its 200
            assert r.deliveries("accepted") == 1
            await asyncio.sleep(1.5)  # five normal intervals: push holds the polls back
            assert r.polls() == polls
            assert r.poller.metrics.count("marsad_ingest_websub_live_feeds") == 1

    asyncio.run(go())


def test_bad_and_missing_signatures_are_ignored_and_counted() -> None:
    async def go() -> None:
        async with rig() as r:
            await subscribed(r)
            doc = r.set_items(3)
            assert await asyncio.to_thread(r.hub.publish, r.topic, doc, tamper=True) == [202]
            assert await asyncio.to_thread(r.hub.publish, r.topic, doc, unsigned=True) == [202]
            assert len(r.publisher.articles) == 1  # only the polled one
            assert r.deliveries("bad_signature") == 1 and r.deliveries("unsigned") == 1
            for method in ("sha1", "sha384"):
                await asyncio.to_thread(r.hub.publish, r.topic, doc, algorithm=method)
            assert len(r.publisher.articles) == 3
            assert r.deliveries("accepted") == 1 and r.deliveries("duplicate") == 1

    asyncio.run(go())


def test_replayed_delivery_is_deduplicated() -> None:
    async def go() -> None:
        async with rig() as r:
            await subscribed(r)
            await asyncio.to_thread(r.hub.publish, r.topic, r.set_items(2))
            assert len(r.publisher.articles) == 2
            assert await asyncio.to_thread(r.hub.replay) == 200
            assert len(r.publisher.articles) == 2
            assert r.deliveries("duplicate") == 1
            assert len(set(r.titles())) == 2

    asyncio.run(go())


def test_callback_refuses_what_it_did_not_ask_for() -> None:
    async def go() -> None:
        async with rig() as r:
            await subscribed(r)
            base = f"http://127.0.0.1:{r.websub.port}"
            (sub,) = r.hub.subscriptions(r.topic)
            async with httpx.AsyncClient(trust_env=False) as client:
                forged = {"hub.mode": "subscribe", "hub.topic": r.topic, "hub.challenge": "x"}
                assert (await client.get(f"{base}/forged", params=forged)).status_code == 404
                other = {**forged, "hub.topic": "http://elsewhere/"}
                assert (await client.get(sub.callback, params=other)).status_code == 404
                assert (await client.post(f"{base}/forged", content=b"<rss/>")).status_code == 410
                assert (await client.put(sub.callback, content=b"")).status_code == 405
            assert r.deliveries("unknown_callback") == 1

    asyncio.run(go())


def test_short_lease_is_renewed() -> None:
    async def go() -> None:
        async with rig(hub=WebSubHub(max_lease=2)) as r:
            await subscribed(r)
            (first,) = r.hub.subscriptions(r.topic)
            await until(lambda: len(r.hub.verifications) >= 2, timeout=5)
            await asyncio.sleep(1.0)  # past the first lease's end
            (renewed,) = r.hub.subscriptions(r.topic)
            assert renewed.callback == first.callback and renewed.expires > first.expires
            assert r.websub.subscriber.live("A", time.time())
            await asyncio.to_thread(r.hub.publish, r.topic, r.set_items(2))
            assert len(r.publisher.articles) == 2

    asyncio.run(go())


def test_lapsed_lease_with_hub_down_resumes_polling() -> None:
    async def go() -> None:
        async with rig(hub=WebSubHub(max_lease=2), relaxed=600) as r:
            await subscribed(r)
            r.hub.down = True  # the renewal fails, then the lease ends
            await until(lambda: not r.websub.subscriber.live("A", time.time()), timeout=5)
            polls = r.polls()
            r.set_items(2)
            await until(lambda: len(r.publisher.articles) == 2, timeout=5)  # polled
            assert r.polls() > polls
            events = "marsad_ingest_websub_subscription_events_total"
            await until(lambda: r.poller.metrics.count(events, event="lapsed") == 1, timeout=3)
            assert r.poller.metrics.count(events, event="renew_failed") >= 1

    asyncio.run(go())


def test_denial_means_polling_at_the_normal_interval() -> None:
    async def go() -> None:
        async with rig(relaxed=600) as r:
            await subscribed(r)
            statuses = await asyncio.to_thread(r.hub.deny, r.topic)
            assert statuses == [200]
            assert not r.websub.subscriber.live("A", time.time())
            r.set_items(2)
            await until(lambda: len(r.publisher.articles) == 2, timeout=5)
            assert (
                r.poller.metrics.count(
                    "marsad_ingest_websub_subscription_events_total", event="denied"
                )
                == 1
            )

    asyncio.run(go())


def test_denied_up_front() -> None:
    hub = WebSubHub()
    hub.deny_all = True

    async def go() -> None:
        async with rig(hub=hub) as r:
            await until(lambda: bool(r.hub.requests))
            await asyncio.sleep(0.5)
            assert not r.websub.subscriber.live("A", time.time())
            assert r.hub.verifications == []
            polls = r.polls()
            await asyncio.sleep(1.0)
            assert r.polls() >= polls + 2  # polled every 0.3 s

    asyncio.run(go())
