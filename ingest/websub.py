"""Push delivery with WebSub (W3C Recommendation, https://www.w3.org/TR/websub/): a feed that
announces a hub is delivered by the hub the moment it changes, instead of one poll interval
later.  Polling stays on as the safety net.

How it works, in the order things happen:

- **Discovery** (spec §4). Every successful poll hands its response to :meth:`WebSub.observe`:
  the HTTP ``Link`` headers (``rel="hub"``, ``rel="self"``) are read first, then the
  feed document's own ``<link rel="hub">`` / ``<atom:link rel="self">`` elements (the feed's
  head only, never an entry's links).  The ``self`` URL is the topic (the fetched URL when
  the feed names none).  A feed may opt out with ``push: false`` in ``feeds.yaml``.
- **Subscription** (§5.1). A POST to the hub, form-encoded: ``hub.mode=subscribe``,
  ``hub.topic``, ``hub.callback`` (``<websub_public_url>/<random token>``, unique per
  subscription), ``hub.secret`` (random, per subscription) and ``hub.lease_seconds``.
  The hub URL comes from an untrusted document: it goes through the same SSRF
  :class:`~ingest.guard.Guard` and pooled guarded clients as every fetch (redirects 307/308
  are followed by hand, each hop checked).  A hub that does not answer 2xx, or never
  verifies within ``verify_timeout``, is "down": the next hub announced is tried, with
  exponential backoff.
- **Verification** (§5.3). The hub's GET to the callback is answered with ``hub.challenge``
  (200) only when the token is one of ours and ``hub.mode``/``hub.topic`` match a
  subscription (or unsubscription) request of ours awaiting verification; anything else
  (a stranger's token, another topic, a verification we did not ask for) is 404.
  ``hub.mode=denied`` (§5.2) ends the subscription (retried after a day or when the feed
  names another hub).
- **Content distribution** (§7, §8). The hub's POST to the callback is accepted only with an
  ``X-Hub-Signature: <sha1|sha256|sha384|sha512>=<hex HMAC>`` computed over the raw body
  with the subscription's secret (constant-time compare).  A missing, malformed or wrong
  signature is ignored, counted (``marsad_ingest_websub_deliveries_total{outcome=...}``)
  and logged; it is still acknowledged with 202, as §8 allows, so a forger learns nothing.
  A delivery to an unknown or ended callback gets 410 Gone (the hub drops it, §7).  A good
  delivery is parsed and published exactly like a polled document (the poller's
  :meth:`~ingest.poller.Poller.ingest_push`: same ids, same seen-keys in the state file, so a
  replayed delivery publishes nothing); the hub gets 200 only after the broker confirmed,
  503 when it did not (the hub re-delivers).
- **Leases**. The hub's ``hub.lease_seconds`` (from the verification) is the lease; it is
  renewed (same callback and secret) once 80 % of it has passed.  A failed renewal marks the
  hub down; a lease that ends without renewal "lapses" and a new subscription is made.
- **Fallback**. While a feed's subscription is live its polls are held to
  ``websub_poll_interval`` (relaxed, default 15 min); whenever it is not (pending, denied,
  lapsed, hub down) the feed is polled on its normal schedule, re-checked every few seconds.

Settings (:mod:`marsad.settings`, environment ``MARSAD_…``):

``MARSAD_WEBSUB_LISTEN``
    ``host:port`` the callback server binds (``0.0.0.0:8081`` in a container,
    ``127.0.0.1:0`` for any free port).  Empty: push is off.
``MARSAD_WEBSUB_PUBLIC_URL``
    The base URL hubs reach that listener at, normally a reverse proxy
    (``https://marsad.example.org/websub``; the proxy forwards ``/websub/<token>`` to the
    listener, any prefix works: the token is the last path segment).  Empty:
    ``http://<listen host>:<bound port>``.
``MARSAD_WEBSUB_LEASE_SECONDS``
    The lease asked for (default 7 days; the hub decides).
``MARSAD_WEBSUB_POLL_INTERVAL``
    Poll interval while push is live (default 900 s).

Subscriptions are held in memory: after a restart the first poll of each feed subscribes
again with a fresh callback, and deliveries to the old one get 410, so the hub drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from ingest.callback import CallbackServer, Request, Response
    from ingest.feeds_config import FeedConfig
    from ingest.fetch import Fetcher, FetchResult
    from marsad.settings import Settings

log = logging.getLogger(__name__)

#: HMAC methods of X-Hub-Signature the spec lists (§8); sha1 is there for old hubs.
ALGORITHMS: Mapping[str, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
#: Share of the lease after which it is renewed.
RENEW_AT = 0.8
#: Backoff after a failed subscription attempt: doubled per failure, capped.
RETRY_BASE_S = 30.0
RETRY_MAX_S = 3600.0
#: After a denial the hub is asked again only this much later (or when the feed changes hub).
DENIED_RETRY_S = 86400.0
#: How often a feed held back by push is re-checked (push may lapse in the meantime).
HOLD_RECHECK_S = 5.0
#: Ended callbacks remembered (to confirm their unsubscription and answer 410).
MAX_RETIRED = 1000
#: Only the feed's head is searched for hub links; this many bytes at most.
HEAD_BYTES = 256 * 1024

# ---------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Discovery:
    """Where a feed says it is pushed from: its hubs (in preference order) and its topic."""

    hubs: tuple[str, ...]
    topic: str


_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^,;<]+(?:=(?:\"[^\"]*\"|[^,;]*))?)*)")
_PARAM = re.compile(r";\s*([\w*.-]+)\s*(?:=\s*(\"[^\"]*\"|[^;,]*))?")
_ITEM_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]")
_LINK_TAG = re.compile(r"<((?:[\w.-]+:)?link)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


def parse_link_header(value: str | None) -> list[tuple[str, frozenset[str]]]:
    """``<url>; rel="hub self"`` ... -> [(url, {"hub", "self"})] (RFC 8288, leniently)."""
    out: list[tuple[str, frozenset[str]]] = []
    for match in _LINK_VALUE.finditer(value or ""):
        rels: set[str] = set()
        for name, raw in _PARAM.findall(match.group(2)):
            if name.lower() == "rel":
                rels.update(raw.strip().strip('"').lower().split())
        out.append((match.group(1).strip(), frozenset(rels)))
    return out


def document_links(body: bytes) -> list[tuple[str, frozenset[str]]]:
    """``<link rel=… href=…>`` elements (any namespace prefix) of the feed's head, before the
    first item or entry (an entry's ``rel="self"`` is not the feed's)."""
    head = body[:HEAD_BYTES]
    first = _ITEM_START.search(head)
    if first:
        head = head[: first.start()]
    text = head.decode("utf-8", errors="replace")
    out: list[tuple[str, frozenset[str]]] = []
    for match in _LINK_TAG.finditer(text):
        attrs = {k.lower(): html.unescape(v[1:-1]) for k, v in _ATTR.findall(match.group(2))}
        if "href" in attrs and "rel" in attrs:
            out.append((attrs["href"].strip(), frozenset(attrs["rel"].lower().split())))
    return out


def discover(body: bytes | None, link_header: str | None, url: str) -> Discovery | None:
    """The hubs and topic of a fetched feed: Link headers first, then the document (§4);
    relative URLs resolve against ``url`` (the fetched one, also the topic by default)."""
    hubs: list[str] = []
    topic: str | None = None
    sources = [parse_link_header(link_header)]
    if body:
        sources.append(document_links(body))
    for links in sources:
        found_hubs = [urljoin(url, href) for href, rels in links if "hub" in rels]
        found_self = [urljoin(url, href) for href, rels in links if "self" in rels]
        if found_hubs and not hubs:
            hubs = found_hubs
            if found_self:  # a self of the same source as the hubs wins
                topic = found_self[0]
        if topic is None and found_self:
            topic = found_self[0]
    hubs = [h for h in dict.fromkeys(hubs) if urlsplit(h).scheme in ("http", "https")]
    if not hubs:
        return None
    return Discovery(tuple(hubs), topic or url)


def link_header_of(result: FetchResult) -> str | None:
    """The Link header of a poll response (``FetchResult.headers``, any case)."""
    for name, value in result.headers.items():
        if name.lower() == "link":
            return value
    return None


# ---------------------------------------------------------------------------- signatures


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The ``X-Hub-Signature`` value a hub sends for ``body`` (tests, the local hub)."""
    digest = hmac.new(secret.encode(), body, ALGORITHMS[method]).hexdigest()
    return f"{method}={digest}"


def check_signature(secret: str, body: bytes, header: str | None) -> str:
    """``"ok"``, or why the delivery must be ignored: ``unsigned``, ``bad_signature`` (a
    malformed header, an unknown method, or a digest that does not match)."""
    if not header:
        return "unsigned"
    method, sep, given = header.strip().partition("=")
    algorithm = ALGORITHMS.get(method.strip().lower())
    if not sep or algorithm is None:
        return "bad_signature"
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return "ok" if hmac.compare_digest(expected, given.strip().lower()) else "bad_signature"


# ---------------------------------------------------------------------------- state machine

#: Subscription states: ``requesting`` (POST to the hub in flight or awaiting verification),
#: ``live`` (verified, lease running), ``denied``, ``failed`` (hub down), ``lapsed``.
STATES = ("requesting", "live", "denied", "failed", "lapsed")


@dataclass
class Subscription:
    feed: str
    hub: str
    topic: str
    token: str
    secret: str
    state: str = "requesting"
    #: The mode of the request awaiting verification ("subscribe"/"unsubscribe"), if any.
    pending: str | None = None
    pending_since: float = 0.0
    lease: float = 0.0
    expires: float = 0.0
    renew_at: float = 0.0
    #: A renewal failed (hub unreachable): push is not trusted until the next verification.
    hub_down: bool = False
    failures: int = 0


@dataclass(frozen=True)
class HubRequest:
    """One POST to send to a hub (spec §5.1)."""

    feed: str
    token: str
    hub: str
    mode: str
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int | None

    def form(self) -> dict[str, str]:
        data = {"hub.mode": self.mode, "hub.topic": self.topic, "hub.callback": self.callback}
        if self.secret is not None:
            data["hub.secret"] = self.secret
        if self.lease_seconds is not None:
            data["hub.lease_seconds"] = str(self.lease_seconds)
        return data


@dataclass
class _Feed:
    discovery: Discovery
    sub: Subscription | None = None
    #: Index into discovery.hubs of the hub to use next (rotates on failure).
    hub_index: int = 0
    failures: int = 0
    retry_at: float = 0.0
    last_poll: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What a callback request gets: HTTP status, body, and for a good delivery the feed."""

    status: int
    body: bytes = b""
    feed: str | None = None
    outcome: str = ""


def _token() -> str:
    return secrets.token_urlsafe(24)


def _secret() -> str:
    return secrets.token_hex(32)  # 64 characters: below the spec's 200-byte limit


@dataclass
class Subscriber:
    """The subscriber's state machine, pure (no I/O, time passed in): which requests to send
    to which hub, what to answer the hub's calls, and whether a feed is pushed right now."""

    lease_seconds: int = 86400 * 7
    #: A hub that accepted a request but has not verified it within this long is down.
    verify_timeout: float = 60.0
    callback_base: str = ""
    token_factory: Callable[[], str] = _token
    secret_factory: Callable[[], str] = _secret
    feeds: dict[str, _Feed] = field(default_factory=dict)
    by_token: dict[str, Subscription] = field(default_factory=dict)
    retired: dict[str, Subscription] = field(default_factory=dict)
    #: Events for metrics/tests: (event, feed) appended as they happen.
    events: list[tuple[str, str]] = field(default_factory=list)

    def callback(self, token: str) -> str:
        return f"{self.callback_base.rstrip('/')}/{token}"

    # -- what the poller tells us
    def observe(self, feed: str, discovery: Discovery | None, now: float) -> None:
        """A poll of ``feed`` succeeded and announced ``discovery`` (None: no hub, or the
        document was not re-read: the last discovery stands)."""
        entry = self.feeds.get(feed)
        if entry is not None:
            entry.last_poll = now
        if discovery is None:
            return
        if entry is None:
            self.feeds[feed] = _Feed(discovery, last_poll=now)
            return
        if entry.discovery == discovery:
            return
        old = entry.sub
        entry.discovery, entry.hub_index, entry.failures, entry.retry_at = discovery, 0, 0, 0.0
        if old is not None and (old.topic != discovery.topic or old.hub not in discovery.hubs):
            log.info("feed=%s websub hub or topic changed: %s -> %s", feed, old.hub, discovery)
            self._retire(old, unsubscribe=old.state == "live")
            entry.sub = None

    def forget(self, feed: str) -> None:
        entry = self.feeds.pop(feed, None)
        if entry is not None and entry.sub is not None:
            self._retire(entry.sub, unsubscribe=entry.sub.state == "live")

    def live(self, feed: str, now: float) -> bool:
        """Is ``feed`` pushed right now (verified, lease running, hub not known down)?"""
        entry = self.feeds.get(feed)
        sub = entry.sub if entry else None
        return bool(sub and sub.state == "live" and not sub.hub_down and now < sub.expires)

    def last_poll(self, feed: str) -> float:
        entry = self.feeds.get(feed)
        return entry.last_poll if entry else 0.0

    # -- what to send
    def due(self, now: float) -> list[HubRequest]:
        """Requests to send now; marks them in flight.  Also times out silent hubs and lets
        leases that ended lapse."""
        out: list[HubRequest] = []
        for name, entry in self.feeds.items():
            sub = entry.sub
            if sub is not None and sub.pending and now - sub.pending_since > self.verify_timeout:
                self.failed(sub.token, now, f"no verification within {self.verify_timeout:g}s")
                sub = entry.sub
            if sub is not None and sub.state == "live" and now >= sub.expires:
                self._event("lapsed", name)
                log.warning("feed=%s websub lease ended without renewal: polling", name)
                self._retire(sub, unsubscribe=False)
                entry.sub = sub = None
                entry.retry_at = min(entry.retry_at, now)
            if sub is None:
                if now >= entry.retry_at:
                    out.append(self._new(name, entry, now))
            elif sub.state == "live" and not sub.pending and now >= sub.renew_at:
                out.append(self._request(sub, "subscribe", now))
                self._event("renewing", name)
        for sub in list(self.retired.values()):
            if sub.pending == "unsubscribe" and sub.pending_since == 0.0:
                sub.pending_since = now
                out.append(self._unsubscribe_request(sub))
        return out

    def next_event(self, now: float) -> float:
        """When :meth:`due` may next have something to do (the driver sleeps until then)."""
        times = [now + 3600.0]
        for entry in self.feeds.values():
            sub = entry.sub
            if sub is None:
                times.append(entry.retry_at)
            elif sub.pending:
                times.append(sub.pending_since + self.verify_timeout)
            elif sub.state == "live":
                times.extend((sub.renew_at, sub.expires))
        return max(now, min(times))

    def _new(self, name: str, entry: _Feed, now: float) -> HubRequest:
        hub = entry.discovery.hubs[entry.hub_index % len(entry.discovery.hubs)]
        sub = Subscription(
            name, hub, entry.discovery.topic, self.token_factory(), self.secret_factory()
        )
        entry.sub = sub
        self.by_token[sub.token] = sub
        self._event("requested", name)
        return self._request(sub, "subscribe", now)

    def _request(self, sub: Subscription, mode: str, now: float) -> HubRequest:
        sub.pending, sub.pending_since = mode, now
        return HubRequest(
            sub.feed, sub.token, sub.hub, mode, sub.topic, self.callback(sub.token),
            sub.secret, self.lease_seconds,
        )  # fmt: skip

    def _unsubscribe_request(self, sub: Subscription) -> HubRequest:
        return HubRequest(
            sub.feed, sub.token, sub.hub, "unsubscribe", sub.topic, self.callback(sub.token),
            None, None,
        )  # fmt: skip

    def _retire(self, sub: Subscription, *, unsubscribe: bool) -> None:
        self.by_token.pop(sub.token, None)
        sub.pending = "unsubscribe" if unsubscribe else None
        sub.pending_since = 0.0
        self.retired[sub.token] = sub
        while len(self.retired) > MAX_RETIRED:
            self.retired.pop(next(iter(self.retired)))

    # -- what the hub answered to our POST
    def hub_answered(self, token: str, status: int | None, now: float, detail: str = "") -> None:
        """The hub's answer to a request: 2xx means "verification follows" (§5.1); anything
        else (or ``None``: unreachable) is a failure."""
        if status is not None and 200 <= status < 300:
            return
        self.failed(token, now, detail or f"hub answered HTTP {status}")

    def failed(self, token: str, now: float, reason: str) -> None:
        sub = self.by_token.get(token)
        if sub is None:
            retired = self.retired.get(token)
            if retired is not None:  # an unsubscription failed: the lease will end it
                retired.pending = None
            return
        entry = self.feeds.get(sub.feed)
        if entry is None or entry.sub is not sub:
            return
        renewal = sub.state == "live"
        if renewal:  # keep the subscription (its lease may still run) but trust it no more
            sub.pending, sub.hub_down = None, True
            sub.failures += 1
            delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (sub.failures - 1))
            sub.renew_at = now + delay
            self._event("renew_failed", sub.feed)
        else:
            self._retire(sub, unsubscribe=False)
            entry.sub = None
            entry.failures += 1
            entry.hub_index += 1  # the next announced hub, if there is one
            delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (entry.failures - 1))
            entry.retry_at = now + delay
            self._event("failed", sub.feed)
        log.warning(
            "feed=%s websub %s at %s failed: %s; polling, retry in %.0fs",
            sub.feed, "renewal" if renewal else "subscription", sub.hub, reason, delay,
        )  # fmt: skip

    # -- the hub's GET to the callback (§5.2, §5.3)
    def verify(self, token: str, params: Mapping[str, str], now: float) -> Verdict:
        mode = params.get("hub.mode", "")
        topic = params.get("hub.topic", "")
        if mode == "denied":
            return self._denied(token, topic, params.get("hub.reason", ""), now)
        challenge = params.get("hub.challenge")
        if not challenge or mode not in ("subscribe", "unsubscribe"):
            return Verdict(404, b"not a verification\n", outcome="bad_request")
        if mode == "subscribe":
            sub = self.by_token.get(token)
            if sub is None or sub.topic != topic or sub.pending != "subscribe":
                return Verdict(404, b"no such subscription\n", outcome="refused")
            lease = _lease(params.get("hub.lease_seconds"), self.lease_seconds)
            was_live = sub.state == "live"
            sub.state, sub.pending, sub.hub_down, sub.failures = "live", None, False, 0
            sub.lease, sub.expires, sub.renew_at = lease, now + lease, now + lease * RENEW_AT
            entry = self.feeds.get(sub.feed)
            if entry is not None:
                entry.failures = 0
            self._event("renewed" if was_live else "verified", sub.feed)
            log.info(
                "feed=%s websub %s at %s, lease %.0fs",
                sub.feed, "renewed" if was_live else "live", sub.hub, lease,
            )  # fmt: skip
            return Verdict(200, challenge.encode(), sub.feed, "verified")
        sub = self.retired.get(token)
        if sub is None or sub.topic != topic or sub.pending != "unsubscribe":
            return Verdict(404, b"no such unsubscription\n", outcome="refused")
        sub.pending = None
        self._event("unsubscribed", sub.feed)
        return Verdict(200, challenge.encode(), sub.feed, "unsubscribed")

    def _denied(self, token: str, topic: str, reason: str, now: float) -> Verdict:
        sub = self.by_token.get(token)
        if sub is None or sub.topic != topic:
            return Verdict(404, b"no such subscription\n", outcome="refused")
        entry = self.feeds.get(sub.feed)
        self._retire(sub, unsubscribe=False)
        sub.state = "denied"
        if entry is not None and entry.sub is sub:
            entry.sub = None
            entry.hub_index += 1
            entry.retry_at = now + DENIED_RETRY_S
        self._event("denied", sub.feed)
        log.warning("feed=%s websub denied by %s: %s; polling", sub.feed, sub.hub, reason or "-")
        return Verdict(200, b"", sub.feed, "denied")

    # -- the hub's POST to the callback (§7, §8)
    def delivery(self, token: str, body: bytes, signature: str | None) -> Verdict:
        sub = self.by_token.get(token)
        if sub is None:
            return Verdict(410, b"no such subscription\n", outcome="unknown_callback")
        verdict = check_signature(sub.secret, body, signature)
        if verdict != "ok":
            return Verdict(202, b"", None, verdict)
        return Verdict(200, b"", sub.feed, "accepted")

    def _event(self, event: str, feed: str) -> None:
        self.events.append((event, feed))
        del self.events[:-1000]


def _lease(value: str | None, default: float) -> float:
    try:
        lease = float(value) if value else float(default)
    except ValueError:
        lease = float(default)
    return max(1.0, lease)


# ---------------------------------------------------------------------------- the driver


@dataclass(frozen=True)
class WebSubConfig:
    listen_host: str
    listen_port: int
    public_url: str = ""
    lease_seconds: int = 86400 * 7
    poll_interval: float = 900.0
    verify_timeout: float = 60.0
    hub_timeout: float = 10.0
    max_body: int = 5 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> WebSubConfig | None:
        """None when ``websub_listen`` is unset (push off)."""
        if not settings.websub_listen.strip():
            return None
        host, port = parse_listen(settings.websub_listen)
        return cls(
            host,
            port,
            settings.websub_public_url.strip(),
            settings.websub_lease_seconds,
            settings.websub_poll_interval,
        )


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8081`` for IPv6) -> (host, port); a ValueError names it."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"websub_listen must be host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class WebSubMetrics:
    """Push counters, on the poller's registry (``IngestMetrics.registry``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "marsad_ingest_websub_deliveries",
            "Hub deliveries by outcome (accepted, duplicate, bad_signature, unsigned, "
            "unknown_callback, parse_error, publish_error)",
            ["outcome"],
            registry=registry,
        )
        self.events = Counter(
            "marsad_ingest_websub_subscription_events",
            "Subscription events (requested, verified, renewing, renewed, renew_failed, "
            "failed, denied, lapsed, unsubscribed)",
            ["event"],
            registry=registry,
        )
        self.live = Gauge(
            "marsad_ingest_websub_live_feeds", "Feeds with a live push subscription",
            registry=registry,
        )  # fmt: skip


#: What the poller does with a verified delivery: ``(feed name, body, content type)`` ->
#: outcome (``ok``, ``duplicate``, ``parse_error``, ``publish_error``).
ContentHandler = Callable[[str, bytes, str | None], Awaitable[str]]


class WebSub:
    """The subscriber at work: the callback server, the requests to hubs, the lease timer.
    The :class:`~ingest.poller.Poller` owns one (``Poller(..., websub=WebSub(cfg))``): it
    calls :meth:`observe` after each poll, :meth:`hold` before each, and starts and stops it
    with its run loop."""

    def __init__(self, config: WebSubConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.subscriber = Subscriber(config.lease_seconds, config.verify_timeout)
        self.metrics: WebSubMetrics | None = None
        self._fetcher: Fetcher | None = None
        self._on_content: ContentHandler | None = None
        self._server: CallbackServer | None = None
        self._task: asyncio.Task[None] | None = None
        #: set by ``stop()``: the maintenance loop ends even if its cancel were lost
        self._stopping = False
        self._sending: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    @property
    def port(self) -> int:
        return self._server.port if self._server else 0

    # -- poller hooks
    def observe(self, feed: FeedConfig, result: FetchResult) -> None:
        if not feed.push:
            return
        found = None
        if result.body is not None:
            found = discover(result.body, link_header_of(result), result.final_url)
            if found is None and feed.name in self.subscriber.feeds:
                log.info("feed=%s announces no WebSub hub any more: polling", feed.name)
                self.subscriber.forget(feed.name)
                self._wake.set()
                return
        before = self.subscriber.feeds.get(feed.name)
        self.subscriber.observe(feed.name, found, self.clock())
        if found is not None and (before is None or before.sub is None):
            self._wake.set()

    def hold(self, feed: str, now: float) -> float | None:
        """When to look again at a due poll of ``feed`` that push makes unnecessary; None:
        poll it now (push is not live, or the relaxed interval has passed)."""
        if not self.subscriber.live(feed, now):
            return None
        relaxed = self.subscriber.last_poll(feed) + self.config.poll_interval
        return None if now >= relaxed else min(relaxed, now + HOLD_RECHECK_S)

    # -- life cycle
    async def start(
        self, fetcher: Fetcher, registry: CollectorRegistry, on_content: ContentHandler
    ) -> None:
        from ingest.callback import CallbackServer

        self._fetcher = fetcher
        self._on_content = on_content
        if self.metrics is None:
            self.metrics = WebSubMetrics(registry)
        self._server = CallbackServer(
            self.handle, self.config.listen_host, self.config.listen_port,
            max_body=self.config.max_body,
        )  # fmt: skip
        await self._server.start()
        host = self.config.listen_host
        if ":" in host:
            host = f"[{host}]"
        self.subscriber.callback_base = (
            self.config.public_url or f"http://{host}:{self._server.port}"
        )
        log.info(
            "websub callbacks on %s:%d, public %s",
            self.config.listen_host, self._server.port, self.subscriber.callback_base,
        )  # fmt: skip
        self._stopping = False
        self._task = asyncio.create_task(self._maintain(), name="websub")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._server is not None:
            await self._server.stop()
            self._server = None

    # -- requests to hubs
    async def _maintain(self) -> None:
        while not self._stopping:
            now = self.clock()
            try:
                for request in self.subscriber.due(now):
                    task = asyncio.create_task(self._send(request), name=f"websub:{request.feed}")
                    self._sending.add(task)
                    task.add_done_callback(self._sending.discard)
                self._count_events()
                wait = min(HOLD_RECHECK_S, max(0.05, self.subscriber.next_event(now) - now))
            except Exception:  # a bug must not end push for good: log, try again shortly
                log.exception("websub maintenance failed")
                wait = HOLD_RECHECK_S
            self._wake.clear()
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 a cancel that lands while
            # wait_for handles its own timeout comes out as TimeoutError, which this loop
            # swallowed, so ``stop()`` waited for ever (seen once in CI, test_denied_up_front)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _send(self, request: HubRequest) -> None:
        status: int | None = None
        detail = ""
        try:
            status = await self._post(request.hub, request.form())
        except Exception as exc:  # refused by the guard, network, timeout: down for us
            detail = f"{type(exc).__name__}: {exc}"
        log.debug("websub %s %s -> %s %s", request.mode, request.hub, status, detail)
        self.subscriber.hub_answered(request.token, status, self.clock(), detail)
        self._count_events()
        self._wake.set()

    async def _post(self, hub: str, form: dict[str, str]) -> int:
        """POST ``form`` to ``hub`` through the fetcher's guard and pooled clients; 307/308
        are followed (each hop guarded), other redirects are an answer."""
        assert self._fetcher is not None
        url = hub
        for _hop in range(4):
            await self._fetcher.guard.check_url(url)
            client = self._fetcher.client_for(url).client
            response = await asyncio.wait_for(
                client.post(url, data=form), timeout=self.config.hub_timeout
            )
            if response.status_code in (307, 308) and response.headers.get("location"):
                url = str(response.url.join(response.headers["location"]))
                continue
            return response.status_code
        return 310  # too many redirects: not a 2xx

    def _count_events(self) -> None:
        if self.metrics is not None:
            for event, _feed in self.subscriber.events:
                self.metrics.events.labels(event).inc()
            now = self.clock()
            self.metrics.live.set(sum(self.subscriber.live(f, now) for f in self.subscriber.feeds))
        self.subscriber.events.clear()

    # -- the hub's calls to the callback
    async def handle(self, request: Request) -> Response:
        from ingest.callback import Response

        token = request.path.rstrip("/").rpartition("/")[2]
        now = self.clock()
        if request.method == "GET":
            verdict = self.subscriber.verify(token, request.query, now)
            if verdict.outcome in ("refused", "bad_request"):
                log.info("websub refused verification %s for %s", request.query, token[:6])
            self._count_events()
            self._wake.set()
            return Response(verdict.status, verdict.body)
        if request.method != "POST":
            return Response(405, b"method not allowed\n")
        verdict = self.subscriber.delivery(
            token, request.body, request.headers.get("x-hub-signature")
        )
        outcome = verdict.outcome
        if verdict.feed is not None and self._on_content is not None:
            outcome = await self._on_content(
                verdict.feed, request.body, request.headers.get("content-type")
            )
        elif outcome in ("bad_signature", "unsigned"):
            log.warning(
                "websub delivery to %s… ignored: %s (%d bytes, from %s)",
                token[:6], outcome, len(request.body), request.peer,
            )  # fmt: skip
        if self.metrics is not None:
            self.metrics.deliveries.labels(outcome).inc()
        if outcome == "publish_error":
            return Response(503, b"not stored, deliver again\n")
        return Response(verdict.status, verdict.body)
