"""The WebSub subscriber without a network: discovery, signatures, the state machine."""

from __future__ import annotations

import itertools

import pytest

from ingest.websub import (
    DENIED_RETRY_S,
    Discovery,
    HubRequest,
    Subscriber,
    WebSub,
    WebSubConfig,
    check_signature,
    discover,
    parse_link_header,
    parse_listen,
    sign,
)
from marsad.settings import Settings

FEED = "https://news.example/feed.xml"
HUB = "https://hub.example/"
TOPIC = "https://news.example/feed"

# ---------------------------------------------------------------------------- discovery


def test_link_header_parsed_with_several_rels() -> None:
    links = parse_link_header(
        '<https://hub.example/>; rel="hub", <https://news.example/feed>; rel="self alternate",'
        " <https://other/>; rel=hub"
    )
    assert links == [
        ("https://hub.example/", frozenset({"hub"})),
        ("https://news.example/feed", frozenset({"self", "alternate"})),
        ("https://other/", frozenset({"hub"})),
    ]


def test_discovery_from_link_headers_first() -> None:
    body = b'<rss><channel><atom:link rel="hub" href="https://doc-hub/"/></channel></rss>'
    found = discover(body, f'<{HUB}>; rel="hub", <{TOPIC}>; rel="self"', FEED)
    assert found == Discovery((HUB,), TOPIC)


def test_discovery_from_the_document_head_only() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b'<link rel="self" href="/feed"/><link href="https://hub.example/" rel="hub"/>'
        b"<link rel='hub' href='https://second.example/?a=1&amp;b=2'/>"
        b'<entry><link rel="self" href="https://news.example/entry/1"/>'
        b'<link rel="hub" href="https://entry-hub/"/></entry></feed>'
    )
    found = discover(body, None, FEED)
    assert found == Discovery((HUB, "https://second.example/?a=1&b=2"), TOPIC)


def test_rss_with_atom_links_and_no_self_uses_the_fetched_url() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>'
        b'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="https://hub.example/"/>'
        b"<item><title>x</title></item></channel></rss>"
    )
    assert discover(body, None, FEED) == Discovery((HUB,), FEED)


def test_no_hub_no_discovery() -> None:
    body = b'<rss><channel><atom:link rel="self" href="https://x/"/></channel></rss>'
    assert discover(body, '<https://x/>; rel="self"', FEED) is None
    assert discover(None, None, FEED) is None
    # a hub that is not http(s) is no hub
    script = b'<feed><link rel="hub" href="javascript:alert(1)"/></feed>'
    assert discover(script, None, FEED) is None


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_every_listed_method_verifies(method: str) -> None:
    header = sign("s3cret", b"<rss/>", method)
    assert header.startswith(f"{method}=")
    assert check_signature("s3cret", b"<rss/>", header) == "ok"
    assert check_signature("s3cret", b"<rss/>", header.upper().replace("SHA", "sha")) == "ok"


def test_bad_signatures_are_named() -> None:
    good = sign("s3cret", b"<rss/>")
    assert check_signature("s3cret", b"<rss/ >", good) == "bad_signature"  # body changed
    assert check_signature("other", b"<rss/>", good) == "bad_signature"  # wrong secret
    assert check_signature("s3cret", b"<rss/>", None) == "unsigned"
    assert check_signature("s3cret", b"<rss/>", "") == "unsigned"
    assert check_signature("s3cret", b"<rss/>", "md5=abc") == "bad_signature"
    assert check_signature("s3cret", b"<rss/>", "sha256") == "bad_signature"


# ---------------------------------------------------------------------------- state machine


def machine(lease: int = 1000, verify_timeout: float = 60.0) -> Subscriber:
    tokens = (f"tok{i}" for i in itertools.count())
    secrets_ = (f"secret{i}" for i in itertools.count())
    return Subscriber(
        lease,
        verify_timeout,
        callback_base="https://marsad.example/websub/",
        token_factory=lambda: next(tokens),
        secret_factory=lambda: next(secrets_),
    )


def verification(req: HubRequest, lease: int | None = 1000, **extra: str) -> dict[str, str]:
    params = {"hub.mode": req.mode, "hub.topic": req.topic, "hub.challenge": "ch4ll"}
    if lease is not None:
        params["hub.lease_seconds"] = str(lease)
    params.update(extra)
    return params


def subscribed(sub: Subscriber, now: float = 0.0, lease: int = 1000) -> HubRequest:
    sub.observe("A", Discovery((HUB,), TOPIC), now)
    (req,) = sub.due(now)
    sub.hub_answered(req.token, 202, now)
    assert sub.verify(req.token, verification(req, lease), now).body == b"ch4ll"
    return req


def test_subscription_request_carries_every_parameter() -> None:
    sub = machine()
    sub.observe("A", Discovery((HUB,), TOPIC), 0.0)
    (req,) = sub.due(0.0)
    assert req.form() == {
        "hub.mode": "subscribe",
        "hub.topic": TOPIC,
        "hub.callback": "https://marsad.example/websub/tok0",
        "hub.secret": "secret0",
        "hub.lease_seconds": "1000",
    }
    assert req.hub == HUB
    assert sub.due(1.0) == []  # in flight: not sent twice
    assert not sub.live("A", 1.0)


def test_challenge_echoed_only_for_our_pending_subscription() -> None:
    sub = machine()
    sub.observe("A", Discovery((HUB,), TOPIC), 0.0)
    (req,) = sub.due(0.0)
    sub.hub_answered(req.token, 202, 0.0)
    assert sub.verify("someone-else", verification(req), 1.0).status == 404
    assert sub.verify(req.token, {**verification(req), "hub.topic": "https://x/"}, 1).status == 404
    assert sub.verify(req.token, {**verification(req), "hub.mode": "unsubscribe"}, 1).status == 404
    assert sub.verify(req.token, {"hub.mode": "subscribe", "hub.topic": TOPIC}, 1).status == 404
    assert not sub.live("A", 1.0)
    answer = sub.verify(req.token, verification(req, lease=500), 1.0)
    assert (answer.status, answer.body) == (200, b"ch4ll")
    assert sub.live("A", 2.0) and sub.live("A", 500.0) and not sub.live("A", 501.0)
    assert ("verified", "A") in sub.events


def test_unsolicited_verification_refused() -> None:
    sub = machine()
    req = subscribed(sub)
    # live, nothing asked for: a verification now (a replay, a stranger) is not ours
    assert sub.verify(req.token, verification(req), 10.0).status == 404
    assert sub.live("A", 999.0) and not sub.live("A", 1001.0)  # the lease did not move


def test_missing_lease_falls_back_to_the_requested_one() -> None:
    sub = machine(lease=700)
    sub.observe("A", Discovery((HUB,), TOPIC), 0.0)
    (req,) = sub.due(0.0)
    assert sub.verify(req.token, verification(req, lease=None), 0.0).status == 200
    assert sub.live("A", 699.0) and not sub.live("A", 700.0)


def test_lease_renewed_at_80_percent_with_the_same_callback() -> None:
    sub = machine()
    req = subscribed(sub)
    assert sub.due(799.0) == []
    (renewal,) = sub.due(800.0)
    assert (renewal.token, renewal.secret, renewal.mode) == (req.token, req.secret, "subscribe")
    assert sub.live("A", 850.0)  # still live while the renewal is verified
    sub.hub_answered(renewal.token, 202, 800.0)
    assert sub.verify(req.token, verification(renewal, 1000), 810.0).status == 200
    assert sub.live("A", 1500.0)
    assert ("renewed", "A") in sub.events


def test_failed_renewal_means_polling_and_a_lapse_means_resubscribing() -> None:
    sub = machine()
    req = subscribed(sub)
    (renewal,) = sub.due(800.0)
    sub.hub_answered(renewal.token, None, 800.0, "ConnectError")  # hub down
    assert not sub.live("A", 801.0)
    assert ("renew_failed", "A") in sub.events
    (retry,) = sub.due(830.0)  # backoff 30 s
    sub.hub_answered(retry.token, 503, 830.0)
    assert sub.due(850.0) == []
    assert sub.due(1001.0)[0].token != req.token  # lease over: lapsed, a new subscription
    assert ("lapsed", "A") in sub.events
    # a delivery to the lapsed callback is refused with 410 (the hub drops it)
    assert sub.delivery(req.token, b"x", sign(req.secret or "", b"x")).status == 410


def test_expired_lease_without_renewal_lapses() -> None:
    sub = machine(lease=10)
    req = subscribed(sub, lease=10)
    # the renewal is asked for at 8 s but never verified: the verify timeout (60 s) is
    # longer than the lease, so the lease ends first
    (renewal,) = sub.due(8.0)
    sub.hub_answered(renewal.token, 202, 8.0)
    assert sub.live("A", 9.9) and not sub.live("A", 10.0)
    (again,) = sub.due(10.0)
    assert again.token != req.token and again.mode == "subscribe"


def test_hub_down_rotates_hubs_with_backoff() -> None:
    sub = machine()
    sub.observe("A", Discovery((HUB, "https://hub2.example/"), TOPIC), 0.0)
    (first,) = sub.due(0.0)
    sub.hub_answered(first.token, None, 0.0, "connection refused")
    assert sub.due(29.0) == []
    (second,) = sub.due(30.0)
    assert second.hub == "https://hub2.example/" and second.token != first.token
    sub.hub_answered(second.token, 500, 30.0)
    assert sub.due(89.0) == []  # 60 s the second time
    (third,) = sub.due(90.0)
    assert third.hub == HUB
    # a verification of an abandoned attempt is refused
    assert sub.verify(first.token, verification(first), 91.0).status == 404


def test_silent_hub_times_out() -> None:
    sub = machine(verify_timeout=5.0)
    sub.observe("A", Discovery((HUB,), TOPIC), 0.0)
    (req,) = sub.due(0.0)
    sub.hub_answered(req.token, 202, 0.0)
    assert sub.due(5.0) == []
    assert sub.due(5.1) == []  # failed: retry after the backoff
    assert ("failed", "A") in sub.events
    assert sub.due(40.0)[0].token != req.token


def test_denial_ends_push_until_much_later() -> None:
    sub = machine()
    req = subscribed(sub)
    wrong = sub.verify(req.token, {"hub.mode": "denied", "hub.topic": "https://x/"}, 5.0)
    assert wrong.status == 404 and sub.live("A", 5.0)
    answer = sub.verify(req.token, {"hub.mode": "denied", "hub.topic": TOPIC}, 5.0)
    assert answer.status == 200 and not sub.live("A", 6.0)
    assert sub.due(5.0 + DENIED_RETRY_S - 1) == []
    assert len(sub.due(5.0 + DENIED_RETRY_S)) == 1


def test_new_hub_unsubscribes_the_old_one() -> None:
    sub = machine()
    req = subscribed(sub)
    sub.observe("A", Discovery(("https://new-hub/",), TOPIC), 10.0)
    requests = sub.due(10.0)
    assert {(r.mode, r.hub) for r in requests} == {
        ("subscribe", "https://new-hub/"),
        ("unsubscribe", HUB),
    }
    unsub = next(r for r in requests if r.mode == "unsubscribe")
    assert unsub.token == req.token and unsub.secret is None
    assert sub.verify(req.token, verification(unsub, lease=None), 11.0).status == 200
    # and only once: a second unsubscribe verification is refused
    assert sub.verify(req.token, verification(unsub, lease=None), 12.0).status == 404


def test_same_discovery_changes_nothing() -> None:
    sub = machine()
    req = subscribed(sub)
    sub.observe("A", Discovery((HUB,), TOPIC), 50.0)
    sub.observe("A", None, 60.0)  # a 304: nothing re-read
    assert sub.live("A", 61.0) and sub.due(61.0) == []
    assert sub.last_poll("A") == 60.0
    assert sub.by_token[req.token].state == "live"


def test_deliveries_need_our_signature() -> None:
    sub = machine()
    req = subscribed(sub)
    body = b"<rss>...</rss>"
    assert req.secret is not None
    good = sub.delivery(req.token, body, sign(req.secret, body, "sha512"))
    assert (good.status, good.feed, good.outcome) == (200, "A", "accepted")
    bad = sub.delivery(req.token, body, sign("guess", body))
    assert (bad.status, bad.feed, bad.outcome) == (202, None, "bad_signature")
    unsigned = sub.delivery(req.token, body, None)
    assert (unsigned.feed, unsigned.outcome) == (None, "unsigned")
    unknown = sub.delivery("nope", body, sign(req.secret, body))
    assert (unknown.status, unknown.outcome) == (410, "unknown_callback")


def test_next_event_is_the_nearest_deadline() -> None:
    sub = machine()
    subscribed(sub)
    assert sub.next_event(0.0) == 800.0  # the renewal


# ---------------------------------------------------------------------------- settings


def test_settings_turn_push_on() -> None:
    assert WebSubConfig.from_settings(Settings(websub_listen="")) is None
    cfg = WebSubConfig.from_settings(
        Settings(
            websub_listen="0.0.0.0:8081",
            websub_public_url="https://marsad.example/websub",
            websub_poll_interval=600,
        )
    )
    assert cfg is not None
    assert (cfg.listen_host, cfg.listen_port, cfg.public_url) == (
        "0.0.0.0",
        8081,
        "https://marsad.example/websub",
    )
    assert cfg.poll_interval == 600


def test_listen_address_parsed() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8081") == ("::1", 8081)
    assert parse_listen(":8081") == ("0.0.0.0", 8081)
    for bad in ("8081", "host:", "host:99999", "host:http"):
        with pytest.raises(ValueError, match="host:port"):
            parse_listen(bad)


def test_forgotten_feed_is_unsubscribed() -> None:
    sub = machine()
    req = subscribed(sub)
    sub.forget("A")  # the feed no longer announces a hub
    assert not sub.live("A", 1.0)
    (unsub,) = sub.due(1.0)
    assert (unsub.mode, unsub.token) == ("unsubscribe", req.token)
    assert sub.delivery(req.token, b"x", sign(req.secret or "", b"x")).status == 410


def test_poll_response_link_header_and_hold() -> None:
    from ingest.feeds_config import FeedConfig
    from ingest.fetch import FetchResult
    from ingest.websub import WebSub, link_header_of

    header = f'<{HUB}>; rel="hub", <{TOPIC}>; rel="self"'
    result = FetchResult(FEED, FEED, 200, b"<rss><channel/></rss>", headers={"LINK": header})
    assert link_header_of(result) == header
    clock = [1000.0]
    websub = WebSub(WebSubConfig("127.0.0.1", 0, poll_interval=600), clock=lambda: clock[0])
    websub.observe(FeedConfig(name="A", url=FEED), result)
    websub.observe(FeedConfig(name="B", url=FEED, push=False), result)
    assert set(websub.subscriber.feeds) == {"A"}
    (req,) = websub.subscriber.due(1000.0)
    assert (req.hub, req.topic) == (HUB, TOPIC)
    assert websub.hold("A", 1000.0) is None  # not verified yet: poll
    websub.subscriber.verify(req.token, verification(req), 1000.0)
    assert websub.hold("A", 1001.0) == 1006.0  # live: held, re-checked every 5 s
    assert websub.hold("A", 1599.0) == 1600.0 and websub.hold("A", 1600.0) is None
    websub.observe(FeedConfig(name="A", url=FEED), FetchResult(FEED, FEED, 200, b"<rss/>"))
    assert websub.hold("A", 1001.0) is None  # the feed dropped its hub


def test_stop_ends_the_maintenance_loop_even_if_its_cancel_is_lost() -> None:
    """On Python 3.11 ``asyncio.wait_for`` can turn a cancel into a TimeoutError; whatever
    swallows a cancel, ``stop()`` still ends the loop (it hung a poller's shutdown in CI)."""
    import asyncio

    async def go() -> None:
        websub = WebSub(WebSubConfig("127.0.0.1", 0, poll_interval=600))

        async def stubborn() -> None:  # a maintenance task whose first cancel gets lost
            try:
                await websub._maintain()
            except asyncio.CancelledError:
                await websub._maintain()

        websub._task = asyncio.create_task(stubborn())
        await asyncio.sleep(0.05)
        stopping = asyncio.create_task(websub.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert stopping in done, "stop() waits for a maintenance loop that never ends"
        assert websub._task is None

    asyncio.run(go())
