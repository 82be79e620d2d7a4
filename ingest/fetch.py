"""Async HTTP for feeds and article pages: polite (conditional GET, per-host limits, one
pooled client) and safe (guarded hops, manual redirects, streamed bodies with a byte cap).

Why manual redirects: httpx would follow a ``Location: http://169.254.169.254/`` on its own;
here every hop goes through :class:`ingest.guard.Guard` first.

Why manual decompression: httpx's decoder inflates each network read in one go, so a 64 KiB
read of a gzip bomb becomes ~64 MB in memory before any cap can look at it.  Bodies are read
raw here and inflated by :class:`BoundedInflater` in slices of at most ``DECODE_SLICE``
bytes, each counted against ``max_bytes`` as it appears; the compressed bytes are capped too.
One fetch therefore holds at most ``max_bytes`` of body plus one network read, one slice and
zlib's window (about 300 KB): under 64 concurrent bombs the process grows by at most
``64 x (max_bytes + 0.3 MB)``.  Only gzip and deflate are asked for and decoded; a server
that answers br, zstd or anything else anyway gets ``unsupported_encoding``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ingest.errors import BlockedURL, FetchError, UnresolvableHost
from ingest.guard import Guard, GuardedBackend

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "MarsadFeedPoller/0.1 (+https://github.com/marsad; conflict-news monitor)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
#: Only encodings decoded here with bounded output (see :class:`BoundedInflater`).
ACCEPT_ENCODING = "gzip, deflate"
#: Most decoded bytes one inflate step may produce (deflate inflates up to ~1032:1).
DECODE_SLICE = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FetchLimits:
    """Caps on what one fetch may cost."""

    max_bytes: int = 5 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    #: Whole-fetch deadline: a server trickling one byte a second cannot hold a slot forever.
    total_timeout: float = 30.0
    max_redirects: int = 5
    #: Hosts with a pooled client at once (each holds at most ``per_host`` connections).
    max_hosts: int = 256
    per_host: int = 4


@dataclass(frozen=True)
class FetchResult:
    """What one GET produced. ``body`` is None for a 304."""

    url: str
    final_url: str
    status: int
    body: bytes | None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    max_age: float | None = None
    elapsed: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


def parse_max_age(value: str | None) -> float | None:
    """``max-age`` of a Cache-Control header (``s-maxage`` is for shared caches: ignored)."""
    if not value:
        return None
    for directive in value.split(","):
        name, _, arg = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            try:
                return max(0.0, float(arg.strip().strip('"')))
            except ValueError:
                return None
    return None


class BoundedInflater:
    """gzip / deflate decoding whose output comes in slices of at most ``slice_size`` bytes,
    however much one input chunk inflates to (zlib's ``max_length`` / ``unconsumed_tail``)."""

    def __init__(self, encoding: str, slice_size: int = DECODE_SLICE) -> None:
        if encoding not in ("gzip", "deflate"):
            raise ValueError(f"not a zlib encoding: {encoding!r}")
        self.encoding = encoding
        self.slice_size = slice_size
        self._zlib: Any = None  # created when the first two bytes are known (deflate sniffing)
        self._head = b""

    def _start(self, first: bytes) -> Any:
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # RFC 9110 deflate is zlib-wrapped; many servers send raw deflate: sniff the header.
        cmf, flg = first[0], first[1]
        wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded slices of ``data`` (raises :class:`FetchError` ``decode_error``)."""
        if self._zlib is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._zlib = self._start(data)
        while True:
            try:
                out = self._zlib.decompress(data, self.slice_size)
            except zlib.error as exc:
                raise FetchError("decode_error", f"corrupt {self.encoding} body: {exc}") from exc
            if out:
                yield out
            if self._zlib.eof:
                rest = self._zlib.unused_data
                if self.encoding == "gzip" and rest.startswith(_GZIP_MAGIC):  # next member
                    self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
                    continue
                return  # trailing bytes after the stream are ignored (as httpx does)
            data = self._zlib.unconsumed_tail
            if not data and len(out) < self.slice_size:
                return  # input used up and no output pending

    def finish(self) -> Iterator[bytes]:
        """The last slices, once the body has ended."""
        data = b""
        if self._zlib is None:
            if not self._head:
                return
            wbits = 16 + zlib.MAX_WBITS if self.encoding == "gzip" else -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(wbits)
            data, self._head = self._head, b""
        if not self._zlib.eof:
            yield from self.feed(data)


def _inflater(content_encoding: str | None) -> BoundedInflater | None:
    """The decoder of a Content-Encoding; None for identity; FetchError if unsupported."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return BoundedInflater("deflate" if codings[0] == "deflate" else "gzip")
    raise FetchError(
        "unsupported_encoding",
        f"Content-Encoding {content_encoding!r} not accepted (asked for {ACCEPT_ENCODING})",
    )


@dataclass
class _HostClient:
    client: httpx.AsyncClient
    slot: asyncio.Semaphore
    active: int = 0


class Fetcher:
    """Pooled HTTP clients, one per host, shared by every poll of the process.

    Why one client per host: httpcore's pool scans its connections quadratically on every
    request, so one pool holding the connections of hundreds of hosts costs more CPU than
    the polling itself; a pool per host stays at ``per_host`` connections.  Keep-alive
    connections are reused across polls of the same host, and ``per_host`` bounds how many
    requests one site gets at once.
    """

    def __init__(
        self,
        guard: Guard,
        limits: FetchLimits | None = None,
        *,
        user_agent: str = USER_AGENT,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.guard = guard
        self.limits = limits or FetchLimits()
        self.user_agent = user_agent
        self._transport_factory = transport_factory or self._guarded_transport
        self._clients: dict[str, _HostClient] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def _guarded_transport(self) -> httpx.AsyncBaseTransport:
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=self.limits.per_host,
                max_keepalive_connections=self.limits.per_host,
                keepalive_expiry=60.0,
            ),
            retries=0,
        )
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if inner is not None:
            # Connect-time re-check of the dialled address (see GuardedBackend).
            pool._network_backend = GuardedBackend(inner, self.guard)  # type: ignore[union-attr]
        else:  # pragma: no cover - httpx internals changed; the per-hop check still runs
            log.warning("httpx transport has no network backend hook; connect-time guard off")
        return transport

    def client_for(self, url: str) -> _HostClient:
        """The pooled client of ``url``'s origin, created on first use (least recently used
        idle ones are closed beyond ``max_hosts`` hosts, so open sockets stay bounded)."""
        origin = httpx.URL(url)
        key = f"{origin.scheme}://{origin.host}:{origin.port}"
        entry = self._clients.pop(key, None)
        if entry is None:
            self._evict_idle()
            entry = _HostClient(
                httpx.AsyncClient(
                    transport=self._transport_factory(),
                    follow_redirects=False,
                    timeout=httpx.Timeout(
                        self.limits.read_timeout, connect=self.limits.connect_timeout, pool=None
                    ),
                    headers={"User-Agent": self.user_agent},
                    trust_env=False,
                ),
                asyncio.Semaphore(self.limits.per_host),
            )
        self._clients[key] = entry  # re-inserted last: dict order is least recently used first
        return entry

    def _evict_idle(self) -> None:
        excess = len(self._clients) + 1 - self.limits.max_hosts
        for key in [k for k, c in self._clients.items() if c.active == 0][: max(0, excess)]:
            client = self._clients.pop(key).client
            self._closing.add(asyncio.get_running_loop().create_task(client.aclose()))
            self._closing = {t for t in self._closing if not t.done()}

    async def aclose(self) -> None:
        clients = [entry.client for entry in self._clients.values()]
        self._clients.clear()
        for client in clients:
            await client.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResult:
        """GET ``url`` with validators; raise :class:`FetchError` with an outcome label."""
        started = time.perf_counter()
        try:
            return await asyncio.wait_for(
                self._get(url, etag, last_modified, accept, started),
                timeout=self.limits.total_timeout,
            )
        except TimeoutError as exc:
            raise FetchError(
                "timeout", f"no complete answer within {self.limits.total_timeout:g}s"
            ) from exc

    async def _get(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        accept: str,
        started: float,
    ) -> FetchResult:
        headers = {"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            try:
                await self.guard.check_url(current)
            except UnresolvableHost as exc:
                raise FetchError("dns_error", str(exc)) from exc
            except BlockedURL as exc:
                raise FetchError("blocked", str(exc)) from exc
            host = self.client_for(current)
            host.active += 1
            try:
                async with host.slot:
                    result = await self._one_hop(host.client, url, current, headers, started)
            finally:
                host.active -= 1
            if isinstance(result, FetchResult):
                return result
            current = result
        raise FetchError("too_many_redirects", f"more than {self.limits.max_redirects} redirects")

    async def _one_hop(
        self,
        client: httpx.AsyncClient,
        url: str,
        current: str,
        headers: dict[str, str],
        started: float,
    ) -> FetchResult | str:
        try:
            async with client.stream("GET", current, headers=headers) as response:
                # Always drain the (capped) body, even of a 304 or a redirect: an unread
                # response closes the connection instead of returning it to the pool.  Only
                # a 2xx body is decoded and kept; others are drained raw and dropped.
                body: bytes | None = await self._read_capped(
                    response, decode=200 <= response.status_code < 300
                )
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("http_error", f"{response.status_code} without Location")
                    return str(response.url.join(location))
                if response.status_code == 304:
                    body = None
                return self._result(url, response, body, started)
        except FetchError:
            raise
        except UnresolvableHost as exc:
            raise FetchError("dns_error", str(exc)) from exc
        except BlockedURL as exc:
            raise FetchError("blocked", str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"{type(exc).__name__} fetching {current}") from exc
        except httpx.HTTPError as exc:
            raise FetchError("network_error", f"{type(exc).__name__}: {exc}") from exc

    async def _read_capped(self, response: httpx.Response, *, decode: bool = True) -> bytes:
        """The body, decoded with bounded memory; ``too_large`` past ``max_bytes`` of raw
        (compressed) or of decoded bytes, whichever comes first."""
        cap = self.limits.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"Content-Length {declared} exceeds the {cap}-byte cap")
        inflater = _inflater(response.headers.get("content-encoding")) if decode else None
        chunks: list[bytes] = []
        raw = size = 0

        def keep(piece: bytes) -> None:
            nonlocal size
            size += len(piece)
            if size > cap:
                chunks.clear()  # let the partial body go before the error travels up
                raise FetchError("too_large", f"decoded body exceeds the {cap}-byte cap")
            chunks.append(piece)

        # aiter_raw: the bytes as sent, never inflated by httpx (see the module docstring).
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > cap:
                chunks.clear()
                raise FetchError("too_large", f"body exceeds the {cap}-byte cap")
            if not decode:
                continue
            if inflater is None:
                keep(chunk)
            else:
                for piece in inflater.feed(chunk):
                    keep(piece)
        if inflater is not None:
            for piece in inflater.finish():
                keep(piece)
        return b"".join(chunks)

    def _result(
        self, url: str, response: httpx.Response, body: bytes | None, started: float
    ) -> FetchResult:
        h = response.headers
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=response.status_code,
            body=body,
            content_type=h.get("content-type"),
            etag=h.get("etag"),
            last_modified=h.get("last-modified"),
            retry_after=parse_retry_after(h.get("retry-after")),
            max_age=parse_max_age(h.get("cache-control")),
            elapsed=time.perf_counter() - started,
            # WebSub discovery reads the hub and self links a server may send as headers.
            headers={"link": ", ".join(h.get_list("link"))} if "link" in h else {},
        )
