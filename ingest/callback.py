"""The WebSub callback server: a small HTTP/1.1 server on the poller's event loop.

Why not a framework: it answers two kinds of request (the hub's verification GET and its
content POST, :mod:`ingest.websub` decides what to say) and must stay bounded against the
open internet — request head at most 64 KiB, body at most ``max_body`` (Content-Length or
chunked), ``read_timeout`` for the whole request, one request per connection.  In production
it sits behind a reverse proxy that terminates TLS (``MARSAD_WEBSUB_LISTEN`` is where it
binds, ``MARSAD_WEBSUB_PUBLIC_URL`` what the hubs are told).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    #: Query parameters (the first value of each name).
    query: dict[str, str]
    #: Header names lower-cased.
    headers: dict[str, str]
    body: bytes = b""
    peer: str = ""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CallbackServer:
    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        max_body: int = 5 * 1024 * 1024,
        read_timeout: float = 15.0,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_body = max_body
        self.read_timeout = read_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> CallbackServer:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=MAX_HEAD
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            try:
                request = await asyncio.wait_for(
                    self._read(reader, writer, str(peer[0]) if peer else ""),
                    timeout=self.read_timeout,
                )
            except BadRequest as exc:
                await self._write(writer, Response(exc.status, f"{exc}\n".encode()))
                return
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError, ConnectionError):  # fmt: skip
                return
            try:
                response = await self.handler(request)
            except Exception:  # a bug answers 500, the server goes on
                log.exception("websub callback %s %s failed", request.method, request.path)
                response = Response(500, b"internal error\n")
            await self._write(writer, response)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> Request:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError as exc:
            raise BadRequest(400, "bad request line") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(400, "bad header line")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        parts = urlsplit(target)
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, value)
        body = b""
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked(reader)
        elif headers.get("content-length"):
            size = headers["content-length"].strip()
            if not size.isdigit():
                raise BadRequest(400, "bad Content-Length")
            if int(size) > self.max_body:
                raise BadRequest(413, f"body larger than {self.max_body} bytes")
            body = await reader.readexactly(int(size))
        return Request(method.upper(), parts.path or "/", query, headers, body, peer)

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > self.max_body:
                raise BadRequest(413, f"body larger than {self.max_body} bytes")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def _write(self, writer: asyncio.StreamWriter, response: Response) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Status"
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            **response.headers,
            "Content-Length": str(len(response.body)),
            "Connection": "close",
        }
        head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + response.body)
        await writer.drain()
