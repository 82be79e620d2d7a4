"""A local Socket Mode server (WebSocket on 127.0.0.1, aiohttp in a thread) for tests and demos.

Why: Slack's interactivity reaches an app over a WebSocket the app opens (Socket Mode), and the
handler must be exercised through slack-sdk's real :class:`~slack_sdk.socket_mode.SocketModeClient`
— its handshake, its acknowledgements, its reconnects — with no network. The local Web API
server (:class:`control.slack_stub.SlackStub`) answers ``apps.connections.open`` with a URL of
this server (``stub.socket_mode = SocketModeStub().start()``); each URL is good for one
connection, as Slack's are.

The envelope protocol, as Slack speaks it:

* on connect the server sends ``{"type": "hello", …}``;
* :meth:`SocketModeStub.push` sends ``{"envelope_id", "type", "payload",
  "accepts_response_payload", "retry_attempt", "retry_reason"}`` (``interactive``,
  ``slash_commands``, ``events_api``); the client answers ``{"envelope_id", "payload"?}``,
  recorded in :attr:`SocketModeStub.acks`;
* an envelope not acknowledged when its connection closes is sent again on the next one, with
  ``retry_attempt`` counted up (Slack retries unacknowledged envelopes);
* :meth:`SocketModeStub.refresh` sends ``{"type": "disconnect", "reason":
  "refresh_requested"}`` (the client opens a new connection); :meth:`SocketModeStub.drop`
  closes the socket under the client.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from typing import Any, Self

from aiohttp import WSMsgType, web

APP_ID = "A000APP"


class SocketModeStub:
    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.port = 0
        #: connections accepted, and refused (a URL used twice, or no URL)
        self.connections = 0
        self.refused = 0
        #: every message a client sent, and the acknowledgements by envelope id
        self.received: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any] | None] = {}
        #: every envelope sent (a retry appears again)
        self.sent: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._pending: dict[str, dict[str, Any]] = {}
        self._current: web.WebSocketResponse | None = None
        self._counter = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Self:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="socket-mode-stub", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Socket Mode stub did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._websocket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _shutdown(self) -> None:
        ws = self._current
        if ws is not None and not ws.closed:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what apps.connections.open hands out -------------------------------------------------
    def new_url(self) -> str:
        """A one-use WebSocket URL (``apps.connections.open``'s ``url``)."""
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"

    # -- driving ------------------------------------------------------------------------------
    def push(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        drop_after_send: bool = False,
    ) -> str:
        """Send an envelope (or queue it until a client is connected); its id.
        ``drop_after_send``: close the socket right after, before the client can answer."""
        envelope_id = f"env-{next(self._counter)}-{uuid.uuid4().hex[:8]}"
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type in ("interactive", "slash_commands")
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._cond:
            self._pending[envelope_id] = envelope
        self._run(self._send_pending(only=envelope_id, drop=drop_after_send))
        return envelope_id

    def refresh(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect (``{"type": "disconnect"}``), as Slack does hourly."""
        self._run(self._send({"type": "disconnect", "reason": reason, "debug_info": {}}))

    def drop(self) -> None:
        """Close the current socket under the client (a close frame, code 1001)."""
        self._run(self._close_current())

    def wait_ack(self, envelope_id: str, timeout: float = 15.0) -> dict[str, Any] | None:
        """The acknowledgement's payload (None when it carried none); AssertionError when no
        acknowledgement came in ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged")
            return self.acks[envelope_id]

    def wait_connections(self, n: int, timeout: float = 15.0) -> None:
        """Until ``n`` connections were accepted and one is open."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: self.connections >= n and self._current is not None, timeout
            ):
                raise AssertionError(f"{self.connections} connection(s), waited for {n}")

    def connected(self) -> bool:
        with self._cond:
            return self._current is not None

    def pending(self) -> list[str]:
        with self._cond:
            return list(self._pending)

    # -- inside the loop ----------------------------------------------------------------------
    def _run(self, coro: Any) -> None:
        assert self._loop is not None, "start() first"
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _send(self, message: dict[str, Any]) -> bool:
        ws = self._current
        if ws is None or ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _send_pending(self, only: str | None = None, drop: bool = False) -> None:
        with self._cond:
            envelopes = [e for i, e in self._pending.items() if only is None or i == only]
        for envelope in envelopes:
            if await self._send(envelope):
                with self._cond:
                    self.sent.append(json.loads(json.dumps(envelope)))
        if drop:
            await self._close_current()

    async def _close_current(self) -> None:
        ws = self._current
        if ws is not None and not ws.closed:
            await ws.close(code=1001, message=b"going away")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._cond:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
            if not known:
                self.refused += 1
        if not known:
            return web.Response(status=401, text="invalid or used ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._cond:
            self.connections += 1
            self._current = ws
            retries = list(self._pending.values())
            for envelope in retries:
                envelope["retry_attempt"] += 1
                envelope["retry_reason"] = "timeout"
            self._cond.notify_all()
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "marsad-socket-stub", "started": time.time()},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        if retries:
            await self._send_pending()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except json.JSONDecodeError:
                continue
            with self._cond:
                self.received.append(data)
                envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
                if envelope_id:
                    self.acks[str(envelope_id)] = data.get("payload")
                    self._pending.pop(str(envelope_id), None)
                self._cond.notify_all()
        with self._cond:
            if self._current is ws:
                self._current = None
            self._cond.notify_all()
        return ws
