import asyncio
from typing import Any

import pytest

from ingest.errors import FetchError, UnresolvableHost
from ingest.fetch import BoundedInflater, Fetcher, FetchLimits, parse_max_age, parse_retry_after
from ingest.guard import Guard
from tests.support.feed_server import FeedServer, compression_bomb

LOCAL = Guard(("127.0.0.1",))


def fetch(url: str, guard: Guard = LOCAL, limits: FetchLimits | None = None, **kw: Any) -> Any:
    async def go() -> Any:
        fetcher = Fetcher(guard, limits)
        try:
            return await fetcher.get(url, **kw)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def test_conditional_get_gives_304(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=3)
    first = fetch(url)
    assert first.status == 200 and first.body and first.etag and first.last_modified
    again = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body is None
    assert feed_server.not_modified("a") == 1
    only_date = fetch(url, last_modified=first.last_modified)
    assert only_date.status == 304
    feed_server.add_item("a")
    changed = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert changed.status == 200 and changed.etag != first.etag


def test_connection_reused_across_fetches(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)
    redirect = feed_server.add_feed("r", fault="redirect", redirect_to=url)
    opened: list[str] = []

    async def go() -> None:
        fetcher = Fetcher(LOCAL)
        client = fetcher.client_for(url).client
        inner = client._transport._pool._network_backend  # type: ignore[attr-defined]
        original = inner.connect_tcp

        async def counting(host: str, port: int, **kw: Any) -> Any:
            opened.append(host)
            return await original(host, port, **kw)

        inner.connect_tcp = counting
        first = await fetcher.get(url)
        for _ in range(5):  # 304s and redirects must not close the connection either
            again = await fetcher.get(url, etag=first.etag)
            assert again.not_modified
            await fetcher.get(redirect)
        await fetcher.aclose()

    asyncio.run(go())
    assert opened == ["127.0.0.1"]


def test_loopback_refused_unless_allowed(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)
    with pytest.raises(FetchError) as info:
        fetch(url, guard=Guard(()))
    assert info.value.outcome == "blocked"
    assert feed_server.requests("a") == 0  # refused before any connection


def test_redirect_to_private_address_refused(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1, fault="redirect_private")
    with pytest.raises(FetchError) as info:
        fetch(url)
    assert info.value.outcome == "blocked" and "169.254.169.254" in str(info.value)
    feed_server.set_fault("a", "redirect_private", redirect_to="http://10.20.30.40:8080/x")
    with pytest.raises(FetchError, match="private address"):
        fetch(url)
    feed_server.set_fault("a", "redirect_private", redirect_to="file:///etc/passwd")
    with pytest.raises(FetchError, match="only http/https"):
        fetch(url)


def test_allowed_redirect_followed_and_checked_each_hop(feed_server: FeedServer) -> None:
    target = feed_server.add_feed("b", items=2)
    url = feed_server.add_feed("a", fault="redirect", redirect_to=target, status=301)
    result = fetch(url)
    assert result.status == 200 and result.final_url == target and result.url == url


def test_redirect_loop_stops(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("loop", fault="redirect", redirect_to="/feeds/loop")
    with pytest.raises(FetchError) as info:
        fetch(url, limits=FetchLimits(max_redirects=3))
    assert info.value.outcome == "too_many_redirects"
    assert feed_server.requests("loop") == 4


def test_body_cap_streamed(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("big", fault="too_large", too_large_bytes=50_000_000)
    with pytest.raises(FetchError) as info:
        fetch(url, limits=FetchLimits(max_bytes=200_000))
    assert info.value.outcome == "too_large"


def test_declared_length_over_cap_refused(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=20)
    with pytest.raises(FetchError, match="Content-Length"):
        fetch(url, limits=FetchLimits(max_bytes=1000))


def test_slow_server_times_out(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("slow", items=1, fault="slow", delay=3)
    with pytest.raises(FetchError) as info:
        fetch(url, limits=FetchLimits(read_timeout=0.3, total_timeout=0.5))
    assert info.value.outcome == "timeout"


def test_retry_after_and_cache_control_read(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("busy", fault="status", status=429, retry_after=120)
    result = fetch(url)
    assert result.status == 429 and result.retry_after == 120


def test_dns_rebinding_caught_at_connect_time(feed_server: FeedServer) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    url = feed_server.add_feed("a", items=1).replace("127.0.0.1", "feeds.example")
    with pytest.raises(FetchError) as info:
        fetch(url, guard=Guard((), rebinding))
    assert info.value.outcome == "blocked" and "loopback" in str(info.value)
    assert feed_server.requests("a") == 0


def test_connect_dials_the_checked_address(feed_server: FeedServer) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    url = feed_server.add_feed("a", items=1).replace("127.0.0.1", "feeds.example")
    result = fetch(url, guard=Guard(("127.0.0.1",), resolver))
    assert result.status == 200 and feed_server.requests("a") == 1


def test_header_parsers() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412400) == 80
    assert parse_retry_after("soon") is None
    assert parse_max_age("public, max-age=600, s-maxage=60") == 600
    assert parse_max_age("no-cache") is None
    assert parse_max_age("max-age=abc") is None


def test_idle_host_clients_evicted_beyond_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("a", items=1)

    async def go() -> int:
        fetcher = Fetcher(LOCAL, FetchLimits(max_hosts=3))
        for port in range(1, 8):  # seven origins, only three kept
            fetcher.client_for(f"http://127.0.0.1:{port}/")
        await fetcher.get(url)
        kept = len(fetcher._clients)
        await fetcher.aclose()
        return kept

    assert asyncio.run(go()) == 3


def test_unresolvable_host_is_a_dns_error_not_a_refusal() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise UnresolvableHost(f"cannot resolve host {host!r}")

    with pytest.raises(FetchError) as info:
        fetch("https://feeds.example/rss", guard=Guard((), nxdomain))
    assert info.value.outcome == "dns_error"


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate_raw", "gzip_members"])
def test_compressed_bodies_decoded(feed_server: FeedServer, encoding: str) -> None:
    url = feed_server.add_feed("z", items=5, fault="encoded", encoding=encoding)
    plain, _ = feed_server.document(feed_server._feeds["z"])
    result = fetch(url)
    assert result.status == 200 and result.body == plain and len(plain) > 1000


def test_unrequested_encoding_refused(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("br", items=2, fault="encoded", encoding="br")
    with pytest.raises(FetchError) as info:
        fetch(url)
    assert info.value.outcome == "unsupported_encoding" and "'br'" in str(info.value)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate_raw"])
def test_compression_bomb_stops_at_the_decoded_cap(feed_server: FeedServer, encoding: str) -> None:
    url = feed_server.add_feed("bomb", fault="bomb", encoding=encoding, bomb_bytes=200 << 20)
    with pytest.raises(FetchError) as info:
        fetch(url, limits=FetchLimits(max_bytes=1 << 20))
    assert info.value.outcome == "too_large" and "decoded body" in str(info.value)


def test_bounded_inflater_output_slices_never_exceed_the_bound() -> None:
    bomb = compression_bomb(64 << 20, "gzip")
    inflater = BoundedInflater("gzip", slice_size=4096)
    total = 0
    for start in range(0, len(bomb), 65536):  # one "network read" inflates to ~64 MB
        for piece in inflater.feed(bomb[start : start + 65536]):
            assert len(piece) <= 4096
            total += len(piece)
    total += sum(len(p) for p in inflater.finish())
    assert total > 64 << 20  # every byte came out, 4 KiB at a time


def test_corrupt_gzip_is_a_decode_error() -> None:
    inflater = BoundedInflater("gzip")
    with pytest.raises(FetchError) as info:
        list(inflater.feed(b"\x1f\x8b\x08\x00garbage that is not deflate at all"))
    assert info.value.outcome == "decode_error"


def test_link_headers_reach_the_result_for_websub_discovery() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Link", '<https://hub.example/>; rel="hub"')
            self.send_header("Link", '<https://site.example/feed>; rel="self"')
            self.end_headers()
            self.wfile.write(b"<rss/>")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = fetch(f"http://127.0.0.1:{server.server_address[1]}/feed")
    finally:
        server.shutdown()
    assert result.headers["link"] == (
        '<https://hub.example/>; rel="hub", <https://site.example/feed>; rel="self"'
    )
