"""A local WebSub hub for tests and benchmarks (127.0.0.1 only, threads, httpx).

It follows the hub's side of the W3C Recommendation (https://www.w3.org/TR/websub/):

- §5.1 subscription requests: ``POST /hub`` form-encoded ``hub.mode`` (subscribe /
  unsubscribe), ``hub.topic``, ``hub.callback``, optional ``hub.lease_seconds`` (clamped to
  ``[min_lease, max_lease]``) and ``hub.secret`` (< 200 bytes); 202 Accepted, 400 for a bad
  request, 503 while ``down`` is set;
- §5.2 denial (``deny_all`` or :meth:`deny`): ``GET callback?hub.mode=denied&hub.topic=…``;
- §5.3 verification of intent: ``GET callback?hub.mode=…&hub.topic=…&hub.challenge=…
  &hub.lease_seconds=…`` (in a thread after the 202, or before it with ``verify_first``);
  the subscription counts only when the answer is 2xx with exactly the challenge as body;
- §7/§8 content distribution (:meth:`publish`, or a publisher's ``hub.mode=publish``
  ``hub.url=…`` ping, which makes the hub fetch the topic): ``POST callback`` with the
  topic's body, its Content-Type, ``Link: <hub>; rel="hub", <topic>; rel="self"`` and
  ``X-Hub-Signature: <method>=<HMAC of the body with the secret>``; a 410 ends the
  subscription.  ``tamper``/``unsigned`` send a wrong or no signature, :meth:`replay` sends
  the last delivery again byte for byte; leases end (:meth:`expire` ends one now).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

_METHODS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str | None
    lease: float
    expires: float

    def active(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) < self.expires


@dataclass
class Delivery:
    topic: str
    callback: str
    status: int | None
    body: bytes
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


class WebSubHub:
    def __init__(
        self,
        *,
        default_lease: float = 3600.0,
        min_lease: float = 1.0,
        max_lease: float = 86400.0,
        algorithm: str = "sha256",
        verify_first: bool = False,
    ) -> None:
        self.default_lease = default_lease
        self.min_lease = min_lease
        self.max_lease = max_lease
        self.algorithm = algorithm
        self.verify_first = verify_first
        #: Answer subscription requests 503 (the hub is down).
        self.down = False
        #: Deny every subscription request (§5.2) instead of verifying it.
        self.deny_all = False
        self._subs: dict[tuple[str, str], HubSubscription] = {}
        self._lock = threading.Lock()
        self.requests: list[dict[str, str]] = []
        #: (callback, mode, verified) of each verification of intent.
        self.verifications: list[tuple[str, str, bool]] = []
        self.deliveries: list[Delivery] = []
        self._last: tuple[str, bytes, dict[str, str]] | None = None
        self._client = httpx.Client(timeout=10.0, trust_env=False)
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._workers: list[threading.Thread] = []

    # ------------------------------------------------------------------ life cycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hub"

    def start(self) -> WebSubHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        for worker in self._workers:
            worker.join(timeout=5)
        self._client.close()

    def __enter__(self) -> WebSubHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state
    def subscriptions(self, topic: str | None = None) -> list[HubSubscription]:
        now = time.time()
        with self._lock:
            return [s for s in self._subs.values() if s.active(now) and topic in (None, s.topic)]

    def wait_for_subscription(
        self, topic: str, timeout: float = 10.0, *, other_than: str | None = None
    ) -> HubSubscription:
        """The first active subscription to ``topic`` (whose callback is not ``other_than``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sub in self.subscriptions(topic):
                if sub.callback != other_than:
                    return sub
            time.sleep(0.02)
        raise TimeoutError(f"no subscription to {topic} within {timeout}s: {self.requests}")

    def expire(self, topic: str) -> None:
        """End the lease of every subscription to ``topic`` now."""
        with self._lock:
            for sub in self._subs.values():
                if sub.topic == topic:
                    sub.expires = time.time()

    def deny(self, topic: str, reason: str = "denied by the test") -> list[int | None]:
        """Deny every subscription to ``topic`` after the fact (§5.2: "at any point")."""
        with self._lock:
            subs = [s for s in self._subs.values() if s.topic == topic]
            for sub in subs:
                del self._subs[(sub.topic, sub.callback)]
        return [self._denied(s.callback, topic, reason) for s in subs]

    # ------------------------------------------------------------------ distribution
    def publish(
        self,
        topic: str,
        body: bytes,
        content_type: str = "application/rss+xml; charset=utf-8",
        *,
        tamper: bool = False,
        unsigned: bool = False,
        algorithm: str | None = None,
    ) -> list[int | None]:
        """Deliver ``body`` to every active subscriber of ``topic``; their HTTP statuses."""
        statuses: list[int | None] = []
        for sub in self.subscriptions(topic):
            headers = {
                "Content-Type": content_type,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            }
            if sub.secret is not None and not unsigned:
                method = algorithm or self.algorithm
                digest = hmac.new(sub.secret.encode(), body, _METHODS[method]).hexdigest()
                if tamper:
                    digest = ("0" if digest[0] != "0" else "1") + digest[1:]
                headers["X-Hub-Signature"] = f"{method}={digest}"
            statuses.append(self._deliver(sub, body, headers))
            self._last = (sub.callback, body, headers)
        return statuses

    def replay(self) -> int | None:
        """Send the last delivery again, byte for byte (a hub retrying, or an attacker)."""
        assert self._last is not None, "nothing delivered yet"
        callback, body, headers = self._last
        with self._lock:
            sub = next((s for s in self._subs.values() if s.callback == callback), None)
        topic = sub.topic if sub else ""
        return self._post(topic, callback, body, headers)

    def _deliver(self, sub: HubSubscription, body: bytes, headers: dict[str, str]) -> int | None:
        status = self._post(sub.topic, sub.callback, body, headers)
        if status == 410:  # §7: the subscriber deleted it
            with self._lock:
                self._subs.pop((sub.topic, sub.callback), None)
        return status

    def _post(self, topic: str, callback: str, body: bytes, headers: dict[str, str]) -> int | None:
        try:
            status: int | None = self._client.post(
                callback, content=body, headers=headers
            ).status_code
        except httpx.HTTPError:
            status = None
        self.deliveries.append(Delivery(topic, callback, status, body, dict(headers)))
        return status

    # ------------------------------------------------------------------ subscription
    def _request(self, form: dict[str, str]) -> tuple[int, str]:
        self.requests.append(form)
        if self.down:
            return 503, "hub down"
        mode = form.get("hub.mode", "")
        if mode == "publish":
            return self._publish_ping(form)
        topic, callback = form.get("hub.topic", ""), form.get("hub.callback", "")
        secret = form.get("hub.secret")
        if mode not in ("subscribe", "unsubscribe"):
            return 400, f"unknown hub.mode {mode!r}"
        if not topic or urlsplit(callback).scheme not in ("http", "https"):
            return 400, "hub.topic and an http(s) hub.callback are required"
        if secret is not None and len(secret.encode()) >= 200:
            return 400, "hub.secret must be less than 200 bytes"
        try:
            wanted = float(form["hub.lease_seconds"]) if "hub.lease_seconds" in form else None
        except ValueError:
            return 400, "bad hub.lease_seconds"
        lease = min(self.max_lease, max(self.min_lease, wanted or self.default_lease))

        def work() -> None:
            if mode == "subscribe" and self.deny_all:
                self._denied(callback, topic, "this hub denies everything")
                return
            self._verify(mode, topic, callback, secret, lease)

        if self.verify_first:
            work()
        else:
            worker = threading.Thread(target=work, daemon=True)
            self._workers.append(worker)
            worker.start()
        return 202, ""

    def _verify(
        self, mode: str, topic: str, callback: str, secret: str | None, lease: float
    ) -> None:
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(int(lease))
        sep = "&" if "?" in callback else "?"
        try:
            answer = self._client.get(callback + sep + urlencode(params))
            ok = 200 <= answer.status_code < 300 and answer.text == challenge
        except httpx.HTTPError:
            ok = False
        self.verifications.append((callback, mode, ok))
        if not ok:
            return
        with self._lock:
            if mode == "subscribe":
                self._subs[(topic, callback)] = HubSubscription(
                    topic, callback, secret, lease, time.time() + lease
                )
            else:
                self._subs.pop((topic, callback), None)

    def _denied(self, callback: str, topic: str, reason: str) -> int | None:
        params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
        sep = "&" if "?" in callback else "?"
        try:
            return self._client.get(callback + sep + urlencode(params)).status_code
        except httpx.HTTPError:
            return None

    def _publish_ping(self, form: dict[str, str]) -> tuple[int, str]:
        """A publisher's ping (``hub.url`` or ``hub.topic``): fetch the topic, distribute it."""
        topic = form.get("hub.url") or form.get("hub.topic") or ""
        try:
            page = self._client.get(topic)
        except httpx.HTTPError as exc:
            return 502, f"cannot fetch {topic}: {exc}"
        ctype = page.headers.get("content-type", "application/rss+xml")

        def work() -> None:
            self.publish(topic, page.content, ctype)

        worker = threading.Thread(target=work, daemon=True)
        self._workers.append(worker)
        worker.start()
        return 202, ""


def _handler(hub: WebSubHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/hub":
                self._send(404, "not found")
                return
            size = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(size).decode("utf-8", errors="replace")
            status, text = hub._request(dict(parse_qsl(raw, keep_blank_values=True)))
            self._send(status, text)

        def _send(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# ---------------------------------------------------------------------------- a publisher

_OPENING = re.compile(rb"<(channel|feed)\b[^>]*>")


def with_hub(document: bytes, hub: str, topic: str) -> bytes:
    """``document`` (RSS or Atom) announcing ``hub`` and its ``topic`` (§4: atom:link)."""
    links = (
        f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="{hub}"/>'
        f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="{topic}"/>'
    ).encode()
    match = _OPENING.search(document)
    assert match, "not an RSS channel or an Atom feed"
    return document[: match.end()] + links + document[match.end() :]


class TopicSite:
    """A publisher's site: serves ``documents[path]`` (RSS by default) on 127.0.0.1, with an
    optional ``Link`` header (``link_header``), counting GETs per path."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.link_header: str | None = None
        self.gets: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                site.gets[path] = site.gets.get(path, 0) + 1
                body = site.documents.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if site.link_header:
                    self.send_header("Link", site.link_header)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def start(self) -> TopicSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> TopicSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
