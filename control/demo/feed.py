"""The demo's sample feed: ``articles.yaml`` rendered as an RSS 2.0 document and served locally.

The items are stamped with the time the demo runs, so relative dates ("اليوم", "أمس") resolve
against a real publication time, and with a per-run nonce in their links, so each run's
articles are new to the pipeline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

import yaml


@dataclass(frozen=True)
class DemoItem:
    slug: str
    source: str
    title: str
    text: str
    expect: dict[str, Any]


def load_items() -> list[DemoItem]:
    path = resources.files("control.demo").joinpath("articles.yaml")
    raw = yaml.safe_load(path.read_text("utf-8"))
    return [DemoItem(**item) for item in raw["items"]]


def render_rss(
    items: list[DemoItem], base_url: str, nonce: str, now: datetime | None = None
) -> bytes:
    """An RSS 2.0 document with one ``<item>`` per demo article (full text in ``description``)."""
    now = now or datetime.now(UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel><title>Marsad demo feed</title>',
        f"<link>{escape(base_url)}</link><description>Sample Arabic reports</description>",
        "<language>ar</language>",
    ]
    for item in items:
        link = f"{base_url}/news/{nonce}/{item.slug}"
        parts.append(
            "<item>"
            f"<title>{escape(item.title)}</title>"
            f"<link>{escape(link)}</link>"
            f'<guid isPermaLink="true">{escape(link)}</guid>'
            f"<pubDate>{format_datetime(now)}</pubDate>"
            f"<description>{escape(item.text)}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


class FeedServer:
    """A local HTTP server that serves one RSS document at ``/feed.xml``."""

    def __init__(self) -> None:
        self.document = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/feed.xml":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(server.document)))
                self.end_headers()
                self.wfile.write(server.document)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
