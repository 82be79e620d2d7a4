"""Async HTTP for feeds and article pages: polite (conditional GET, per-host limits, one
pooled client) and safe (guarded hops, manual redirects, streamed bodies with a byte cap).

Why manual redirects: httpx would follow a ``Location: http://169.254.169.254/`` on its own;
here every hop goes through :class:`ingest.guard.Guard` first.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from ingest.errors import BlockedURL, FetchError, UnresolvableHost
from ingest.guard import Guard, GuardedBackend

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "MarsadFeedPoller/0.1 (+https://github.com/marsad; conflict-news monitor)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


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
        headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
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
                # response closes the connection instead of returning it to the pool.
                body: bytes | None = await self._read_capped(response)
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

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.limits.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"Content-Length {declared} exceeds the {cap}-byte cap")
        chunks: list[bytes] = []
        size = 0
        # aiter_bytes decodes gzip: the cap counts decoded bytes, so a gzip bomb stops too.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"body exceeds the {cap}-byte cap")
            chunks.append(chunk)
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
        )
