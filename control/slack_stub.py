"""A local Slack-compatible Web API server (127.0.0.1 only, a thread, stdlib only).

Why it ships in the package: ``marsad demo`` posts through the real slack-sdk to it, offline,
and the tests (``tests/support/slack_server.py``) drive it with faults.  The notifier must be
exercised through the real slack-sdk, including its retry handlers, against realistic
failure modes, and with no network.  The server speaks the real
Web API shapes (``{"ok": false, "error": …}`` with HTTP 200 for API errors, 429 with
``Retry-After`` for rate limits, ``ts``/``channel``/``message`` in answers) for the methods
the notifier uses, and records every call (method, body, auth header, status).

Programmable faults:

* ``rate_limit_every=N`` — every Nth API call answers 429 with ``Retry-After: retry_after``;
* ``fail_next_5xx(n)`` — the next ``n`` calls answer HTTP 500;
* tokens outside ``valid_tokens`` get ``invalid_auth`` (no token: ``not_authed``);
* ``missing_channels`` get ``channel_not_found``;
* ``on_post(n, message)`` is called after the n-th top-level post was stored, before the
  answer is sent (or just after, with ``on_post_after_answer``); a test uses it to SIGKILL
  the notifier at the worst possible moments.

For the buttons (Socket Mode): ``apps.connections.open`` (an app-level ``xapp-`` token only)
answers a URL of :attr:`SlackStub.socket_mode`, a :class:`control.socket_mode_stub.SocketModeStub`
the caller starts and sets; ``views.open``/``views.update`` keep the modals
(:attr:`SlackStub.views`), ``chat.postEphemeral`` the ephemeral messages
(:meth:`SlackStub.ephemerals`); ``auth.test`` names the app (``app_id``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from control.socket_mode_stub import SocketModeStub

#: A method's JSON answer, and an optional hook to run after the lock is released.
Answer = tuple[dict[str, Any], Callable[[], None] | None]


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    auth: str | None
    status: int = 200
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


class SlackStub:
    """``valid_tokens=None`` accepts any non-empty token (the demo); a set restricts them."""

    def __init__(
        self,
        valid_tokens: Iterable[str] | None = None,
        rate_limit_every: int = 0,
        retry_after: int = 0,
        missing_channels: Iterable[str] = (),
    ) -> None:
        self.valid_tokens = None if valid_tokens is None else set(valid_tokens)
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        self.missing_channels = set(missing_channels)
        self.on_post: Callable[[int, dict[str, Any]], None] | None = None
        #: Run ``on_post`` after the answer was sent (default: before, the client still waiting).
        self.on_post_after_answer = False
        self.calls: list[Call] = []
        self.webhook_posts: list[dict[str, Any]] = []
        self._fail_5xx = 0
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._channels: dict[str, str] = {}  # name (no '#') -> id
        self._messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages
        self._last_ts = 0.0
        self._posts = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: where ``apps.connections.open`` sends clients (set by the caller)
        self.socket_mode: SocketModeStub | None = None
        #: open modals by view id (``views.open``, ``views.update``)
        self.views: dict[str, dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._token = ""  # the token of the call being answered (under the lock)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/hook"

    # -- programmable faults ------------------------------------------------------------------
    def fail_next_5xx(self, n: int) -> None:
        with self._lock:
            self._fail_5xx = n

    # -- inspection ---------------------------------------------------------------------------
    def channel_id(self, name_or_id: str) -> str:
        with self._lock:
            return self._channel_id(name_or_id)

    def messages(self, channel: str, replies: bool = False) -> list[dict[str, Any]]:
        """Top-level messages of a channel (oldest first), or only thread replies."""
        with self._lock:
            msgs = list(self._messages.get(self._channel_id(channel), []))
        if replies:
            return [m for m in msgs if m.get("thread_ts") and m["thread_ts"] != m["ts"]]
        return [m for m in msgs if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]

    def all_messages(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            names = {cid: name for name, cid in self._channels.items()}
            return {names.get(c, c): list(m) for c, m in self._messages.items()}

    def posts(self) -> list[dict[str, Any]]:
        """Bodies of the accepted top-level ``chat.postMessage`` calls, oldest first."""
        return [
            c.body
            for c in self.calls_of("chat.postMessage", ok_only=True)
            if not c.body.get("thread_ts")
        ]

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Accepted ``chat.postEphemeral`` messages (to ``user``, if given), oldest first."""
        with self._lock:
            return [m for m in self._ephemerals if user is None or m.get("user") == user]

    def calls_of(self, method: str, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method and (not ok_only or (c.status == 200 and not c.error))
            ]

    # -- request handling ---------------------------------------------------------------------
    def _channel_id(self, name_or_id: str) -> str:
        name = name_or_id.lstrip("#")
        if name in self._channels:
            return self._channels[name]
        if name in self._channels.values():
            return name
        if name_or_id.startswith("#") or not name[:1].isupper():
            self._channels[name] = f"C{len(self._channels) + 1:08d}"
            return self._channels[name]
        return name

    def _next_ts(self) -> str:
        ts = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = ts
        return f"{ts:.6f}"

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        body: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
        ctype = req.headers.get("Content-Type", "")
        if raw and "json" in ctype:
            body.update(json.loads(raw))
        elif raw:
            body.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        auth = req.headers.get("Authorization")
        if url.path.startswith("/services/"):
            return self._webhook(req, body)
        method = url.path.removeprefix("/api/")
        call = Call(method=method, body=body, auth=auth)
        with self._lock:
            self.calls.append(call)
            n = next(self._counter)
            if self.rate_limit_every and n % self.rate_limit_every == 0:
                call.status, call.error = 429, "ratelimited"
                return self._send(
                    req,
                    429,
                    {"ok": False, "error": "ratelimited"},
                    {"Retry-After": str(self.retry_after)},
                )
            if self._fail_5xx > 0:
                self._fail_5xx -= 1
                call.status, call.error = 500, "internal_error"
                return self._send(req, 500, {"ok": False, "error": "internal_error"})
            token = (auth or "").removeprefix("Bearer ") or str(body.get("token", ""))
            if not token or (self.valid_tokens is not None and token not in self.valid_tokens):
                call.error = "invalid_auth" if token else "not_authed"
                return self._send(req, 200, {"ok": False, "error": call.error})
            self._token = token
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is None:
                call.error = "unknown_method"
                return self._send(req, 200, {"ok": False, "error": "unknown_method"})
            answer, hook = handler(body)
            if not answer.get("ok"):
                call.error = answer.get("error")
        # Hooks run outside the lock: they may kill the client or block.
        if hook is not None and not self.on_post_after_answer:
            hook()
        self._send(req, 200, answer)
        if hook is not None and self.on_post_after_answer:
            hook()

    def _send(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        data: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(data).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json; charset=utf-8")
            req.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed mid-call: that is what some tests do

    def _webhook(self, req: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._lock:
            self.webhook_posts.append(body)
        payload = b"ok"
        req.send_response(200)
        req.send_header("Content-Type", "text/plain")
        req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        req.wfile.write(payload)

    # -- Web API methods (called under the lock) -------------------------------------------

    def _api_auth_test(self, body: dict[str, Any]) -> Answer:
        return (
            {
                "ok": True,
                "url": "https://marsad-test.slack.com/",
                "team": "Marsad Test",
                "user": "marsad",
                "team_id": "T000",
                "user_id": "U000BOT",
                "bot_id": "B000BOT",
                "app_id": self.socket_mode.app_id if self.socket_mode else "A000APP",
            },
            None,
        )

    def _api_apps_connections_open(self, body: dict[str, Any]) -> Answer:
        if not self._token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}, None
        if self.socket_mode is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}, None
        return {"ok": True, "url": self.socket_mode.new_url()}, None

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _api_views_open(self, body: dict[str, Any]) -> Answer:
        if not body.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}, None
        view = self._json(body.get("view"))
        if not isinstance(view, dict) or view.get("type") != "modal":
            return {"ok": False, "error": "invalid_arguments"}, None
        view = {**view, "id": f"V{len(self.views) + 1:08d}", "hash": self._next_ts()}
        self.views[view["id"]] = view
        return {"ok": True, "view": view}, None

    def _api_views_update(self, body: dict[str, Any]) -> Answer:
        view_id = str(body.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}, None
        view = self._json(body.get("view"))
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}, None
        self.views[view_id] = {**view, "id": view_id, "hash": self._next_ts()}
        return {"ok": True, "view": self.views[view_id]}, None

    def _api_chat_postEphemeral(self, body: dict[str, Any]) -> Answer:
        channel, err = self._resolve(body)
        if err:
            return err, None
        if not body.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}, None
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}, None
        message = {
            "channel": channel,
            "user": body["user"],
            "text": body.get("text", ""),
            "blocks": self._json(body.get("blocks")) or [],
            "message_ts": self._next_ts(),
        }
        self._ephemerals.append(message)
        return {"ok": True, "message_ts": message["message_ts"]}, None

    def _resolve(self, body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        raw = str(body.get("channel", ""))
        if not raw:
            return None, {"ok": False, "error": "channel_not_found"}
        if raw in self.missing_channels or raw.lstrip("#") in self.missing_channels:
            return None, {"ok": False, "error": "channel_not_found"}
        return self._channel_id(raw), None

    def _api_chat_postMessage(self, body: dict[str, Any]) -> Answer:
        channel, err = self._resolve(body)
        if err:
            return err, None
        assert channel is not None
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}, None
        blocks = body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = {
            "type": "message",
            "bot_id": "B000BOT",
            "user": "U000BOT",
            "ts": self._next_ts(),
            "text": body.get("text", ""),
            "blocks": blocks or [],
        }
        if metadata:
            message["metadata"] = metadata
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        self._messages.setdefault(channel, []).append(message)
        hook = None
        if not body.get("thread_ts"):
            self._posts += 1
            if self.on_post is not None:
                cb, n, copy = self.on_post, self._posts, dict(message)

                def hook() -> None:
                    cb(n, copy)

        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}, hook

    def _api_chat_update(self, body: dict[str, Any]) -> Answer:
        channel, err = self._resolve(body)
        if err:
            return err, None
        for msg in self._messages.get(channel or "", []):
            if msg["ts"] == body.get("ts"):
                msg["text"] = body.get("text", msg["text"])
                if body.get("blocks") is not None:
                    blocks = body["blocks"]
                    msg["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
                if body.get("metadata"):
                    meta = body["metadata"]
                    msg["metadata"] = json.loads(meta) if isinstance(meta, str) else meta
                msg["edited"] = {"user": "U000BOT", "ts": self._next_ts()}
                return (
                    {
                        "ok": True,
                        "channel": channel,
                        "ts": msg["ts"],
                        "text": msg["text"],
                        "message": msg,
                    },
                    None,
                )
        return {"ok": False, "error": "message_not_found"}, None

    @staticmethod
    def _shown(msg: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        out = dict(msg)
        if not with_metadata:
            out.pop("metadata", None)
        return out

    @staticmethod
    def _flag(value: Any) -> bool:
        return str(value).lower() in ("1", "true")

    def _api_conversations_history(self, body: dict[str, Any]) -> Answer:
        channel, err = self._resolve(body)
        if err:
            return err, None
        oldest = float(body.get("oldest") or 0)
        meta = self._flag(body.get("include_all_metadata"))
        msgs = [
            self._shown(m, meta)
            for m in self._messages.get(channel or "", [])
            if (not m.get("thread_ts") or m["thread_ts"] == m["ts"]) and float(m["ts"]) > oldest
        ]
        limit = int(body.get("limit") or 100)
        msgs = list(reversed(msgs))[:limit]  # newest first, as Slack does
        return _history_page(msgs), None

    def _api_conversations_replies(self, body: dict[str, Any]) -> Answer:
        channel, err = self._resolve(body)
        if err:
            return err, None
        root = body.get("ts")
        meta = self._flag(body.get("include_all_metadata"))
        msgs = [
            self._shown(m, meta)
            for m in self._messages.get(channel or "", [])
            if m["ts"] == root or m.get("thread_ts") == root
        ]
        if not msgs:
            return {"ok": False, "error": "thread_not_found"}, None
        return _history_page(msgs), None

    def _api_conversations_list(self, body: dict[str, Any]) -> Answer:
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_member": True}
            for name, cid in sorted(self._channels.items())
        ]
        return (
            {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}},
            None,
        )


def _history_page(msgs: list[dict[str, Any]]) -> dict[str, Any]:
    """A one-page ``conversations.history``/``.replies`` answer, shaped as Slack shapes it."""
    return {
        "ok": True,
        "messages": msgs,
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }
