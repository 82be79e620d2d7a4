"""A local feed server for tests and benchmarks (127.0.0.1 only, threads, no deps).

Serves RSS 2.0 and Atom documents written here (Arabic conflict-news items in the style of
the project's seeds, in sentences of our own), with real conditional-GET behaviour
(``ETag`` / ``Last-Modified``, 304 answers), mutable content (``add_item`` at run time), article
pages for full-text extraction, and the hostile cases the poller must survive:

=================  ==========================================================================
fault              what the server answers
=================  ==========================================================================
html               an HTML page with a 200 and ``Content-Type: text/xml``
truncated          the feed cut off in the middle of an item
billion_laughs     nested entity declarations (exponential expansion)
xxe                an external entity reading ``file:///etc/passwd``
xxe_utf16          the same, encoded as UTF-16 (declaration hidden from byte scans)
bad_encoding       declares UTF-8, sends windows-1256 bytes plus invalid sequences
huge_title         one item whose title is ``huge_title_chars`` long
many_items         10,000 items (``many_items`` to change)
redirect_private   302 to the cloud metadata address (``redirect_to`` to change)
slow               waits ``delay`` seconds before answering
too_large          streams ``too_large_bytes`` of XML without Content-Length
status             answers ``status`` (e.g. 429) with ``Retry-After: retry_after``
bomb               a compression bomb: ``bomb_bytes`` (default 1 GiB) of XML whitespace sent
                   as about 1 MB of ``encoding`` (gzip, default; deflate; deflate_raw), with
                   an honest ``Content-Length``; ``trickle=N`` sends it N bytes at a time,
                   ``trickle_delay`` seconds apart (so many bombs inflate side by side)
no_links           the feed's items with a title, text and date but no link and no guid
                   (plus ``empty_items`` items with neither title nor text)
encoded            the feed as usual, sent with ``Content-Encoding: encoding`` (gzip,
                   x-gzip, deflate, deflate_raw, gzip_members; br sends unreadable bytes)
=================  ==========================================================================

``add_feed(..., validators=False)`` serves a feed without ETag/Last-Modified (never a 304).

Run as a process for benchmarks: ``python -m tests.support.feed_server --feeds 1000
--updating 50 --every 1`` prints ``READY <port>`` and serves until killed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import signal
import struct
import sys
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

# ---------------------------------------------------------------------------- content

_PLACES = [
    ("ريف إدلب الجنوبي", "idlib"),
    ("بادية دير الزور", "deir"),
    ("ريف حماة الشمالي", "hama"),
    ("مدينة درعا البلد", "daraa"),
    ("ريف حلب الغربي", "aleppo"),
    ("محيط مدينة تدمر", "palmyra"),
    ("ريف الحسكة الجنوبي", "hasakah"),
    ("أطراف مدينة الرقة", "raqqa"),
]
_ACTORS = [
    "قوات النظام",
    "عناصر من تنظيم الدولة الإسلامية",
    "فصائل المعارضة المسلحة",
    "قوات سوريا الديمقراطية",
    "مسلحين مجهولين",
    "الميليشيات الموالية لإيران",
]
_EVENTS = [
    "استهدفت {actor} بقذائف المدفعية مواقع في {place}، ما أدى إلى مقتل {n} أشخاص وإصابة آخرين.",
    "دارت اشتباكات متقطعة بين {actor} ومجموعات محلية في {place}، وأسفرت عن سقوط {n} قتلى.",
    "انفجرت عبوة ناسفة بسيارة عسكرية تابعة لـ{actor} في {place}، وقتل {n} من ركابها.",
    "شنت طائرات مسيرة غارات على نقاط تتمركز فيها {actor} في {place}، وسقط {n} قتلى على الأقل.",
]
_TAIL = [
    "وأفادت مصادر محلية بأن سيارات الإسعاف نقلت المصابين إلى مشاف قريبة.",
    "ولم تعلن أي جهة مسؤوليتها عن الهجوم حتى لحظة إعداد هذا التقرير.",
    "وتشهد المنطقة توتراً أمنياً متصاعداً منذ مطلع الشهر الجاري.",
    "وتحدث سكان عن حركة نزوح محدودة نحو القرى المجاورة.",
]


@dataclass
class Item:
    """One feed item. ``full`` puts the text in ``content:encoded`` (full body); otherwise
    only a one-sentence ``description`` is sent and the text lives on the article page."""

    title: str
    text: str
    slug: str
    published: datetime
    full: bool = True
    link: str | None = None
    guid: str | None = None


def make_item(seq: int, rng: random.Random | None = None, *, full: bool = True) -> Item:
    """A plausible Arabic incident report of our own, deterministic for ``seq``."""
    rng = rng or random.Random(seq)
    place, place_slug = rng.choice(_PLACES)
    actor = rng.choice(_ACTORS)
    n = rng.randint(2, 19)
    first = rng.choice(_EVENTS).format(actor=actor, place=place, n=n)
    body = " ".join([first, *rng.sample(_TAIL, 2), f"(تقرير رقم {seq})"])
    title = f"{n} قتلى في {place} — تقرير {seq}"
    published = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=seq)
    return Item(title, body, f"{place_slug}-{seq}", published, full=full)


# ---------------------------------------------------------------------------- documents


def _link(base: str, item: Item) -> str:
    return item.link or f"{base}/articles/{item.slug}"


def render_rss(title: str, base: str, items: Iterable[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>{escape(base)}/</link>"
        "<description>أخبار ميدانية</description><language>ar</language>"
    ]
    for item in items:
        link = _link(base, item)
        summary = item.text.split("،")[0] if not item.full else item.text[:120]
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid or item.slug)}</guid>'
            f"<pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{escape(summary)}</description>"
        )
        if item.full:
            parts.append(f"<content:encoded><![CDATA[<p>{item.text}</p>]]></content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def render_atom(title: str, base: str, items: Iterable[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>{escape(base)}/atom</id>"
        f"<updated>{datetime.now(UTC).isoformat()}</updated>"
    ]
    for item in items:
        link = _link(base, item)
        parts.append(
            f"<entry><title>{escape(item.title)}</title>"
            f'<link rel="alternate" href="{escape(link)}"/>'
            f"<id>urn:marsad-test:{escape(item.guid or item.slug)}</id>"
            f"<updated>{item.published.isoformat()}</updated>"
        )
        if item.full:
            parts.append(f'<content type="html">{escape("<p>" + item.text + "</p>")}</content>')
        else:
            parts.append(f"<summary>{escape(item.text.split('،')[0])}</summary>")
        parts.append("</entry>")
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")


def article_page(item: Item) -> bytes:
    paragraphs = "".join(f"<p>{escape(s.strip())}.</p>" for s in item.text.split(".") if s.strip())
    return (
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{escape(item.title)}</title></head><body>"
        '<nav><a href="/">الرئيسية</a> | <a href="/sport">رياضة</a></nav>'
        f"<article><h1>{escape(item.title)}</h1>{paragraphs}</article>"
        "<footer>جميع الحقوق محفوظة</footer></body></html>"
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    b"<link>http://127.0.0.1/x</link></item></channel></rss>"
)
XXE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
    b"<description>&xxe;</description><link>http://127.0.0.1/xxe</link></item>"
    b"</channel></rss>"
)
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>الصفحة الرئيسية</title></head><body>"
    "<h1>مرحباً</h1><p>هذه صفحة وليست موجز أخبار.</p></body></html>"
).encode()


_BOMBS: dict[tuple[int, str], bytes] = {}
_BOMB_LOCK = threading.Lock()
_BOMB_HEAD = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>bomb</title>'


def compression_bomb(decoded_bytes: int = 1 << 30, encoding: str = "gzip") -> bytes:
    """About ``decoded_bytes / 1000`` of gzip/deflate that inflate to ``decoded_bytes`` of an
    unfinished RSS document padded with spaces; built in well under a second (one 1 MiB block
    compressed once after a full flush is byte-identical each time, so it is repeated)."""
    key = (decoded_bytes, encoding)
    with _BOMB_LOCK:
        if key in _BOMBS:
            return _BOMBS[key]
        block = b" " * (1 << 20)
        c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        head = c.compress(_BOMB_HEAD) + c.flush(zlib.Z_FULL_FLUSH)
        segment = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
        count = max(1, decoded_bytes // len(block))
        crc, adler = zlib.crc32(_BOMB_HEAD), zlib.adler32(_BOMB_HEAD)
        for _ in range(count):
            crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
        stream = head + segment * count + b"\x03\x00"  # + a final empty fixed-Huffman block
        size = len(_BOMB_HEAD) + count * len(block)
        if encoding == "gzip":
            body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream
            body += struct.pack("<II", crc, size & 0xFFFFFFFF)
        elif encoding == "deflate":
            body = b"\x78\xda" + stream + struct.pack(">I", adler)
        elif encoding == "deflate_raw":
            body = stream
        else:
            raise ValueError(f"unknown bomb encoding {encoding!r}")
        _BOMBS[key] = body
        return body


def encode_body(body: bytes, encoding: str) -> tuple[bytes, str]:
    """``body`` compressed as ``encoding``, and the Content-Encoding header to send."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.compress(body, wbits=31), encoding
    if encoding == "gzip_members":  # two gzip members, one after the other (RFC 1952 2.2)
        half = len(body) // 2
        return zlib.compress(body[:half], wbits=31) + zlib.compress(body[half:], wbits=31), "gzip"
    if encoding == "deflate":
        return zlib.compress(body), "deflate"
    if encoding == "deflate_raw":
        return zlib.compress(body, wbits=-zlib.MAX_WBITS), "deflate"
    if encoding == "br":
        return b"\x8b\x02\x80" + body, "br"  # not real brotli: it must never be decoded
    raise ValueError(f"unknown encoding {encoding!r}")


# ---------------------------------------------------------------------------- server state


class _QuietServer(ThreadingHTTPServer):
    """Clients hanging up mid-body (the poller enforcing its byte cap) is expected here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


@dataclass
class Feed:
    name: str
    kind: str = "rss"
    items: list[Item] = field(default_factory=list)
    fault: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    changed: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    cache: tuple[int, bytes, str] | None = None
    requests: int = 0
    not_modified: int = 0


class FeedServer:
    """Threaded HTTP/1.1 (keep-alive) feed server on 127.0.0.1."""

    def __init__(self, port: int = 0, max_items: int = 30) -> None:
        self.max_items = max_items
        self._feeds: dict[str, Feed] = {}
        self._articles: dict[str, Item] = {}
        self._lock = threading.Lock()
        self._seq = 0
        handler = _make_handler(self)
        self._server = _QuietServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FeedServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # content
    def url(self, name: str) -> str:
        return f"{self.base_url}/feeds/{name}"

    def add_feed(
        self,
        name: str,
        *,
        kind: str = "rss",
        items: Iterable[Item] | int = 0,
        fault: str | None = None,
        **params: Any,
    ) -> str:
        """Create (or replace) feed ``name``; ``items`` is a list or a count of generated items."""
        if isinstance(items, int):
            items = [self.next_item(full=params.pop("full", True)) for _ in range(items)]
        feed = Feed(name, kind, list(items)[::-1], fault, dict(params))
        with self._lock:
            self._feeds[name] = feed
            for item in feed.items:
                self._articles[item.slug] = item
        return self.url(name)

    def next_item(self, *, full: bool = True) -> Item:
        with self._lock:
            self._seq += 1
            seq = self._seq
        return make_item(seq, full=full)

    def add_item(self, name: str, item: Item | None = None, *, full: bool = True) -> Item:
        """Publish a new item on feed ``name`` (newest first); validators change."""
        item = item or self.next_item(full=full)
        with self._lock:
            feed = self._feeds[name]
            feed.items.insert(0, item)
            feed.version += 1
            feed.changed = datetime.now(UTC).replace(microsecond=0) + timedelta(
                seconds=feed.version
            )
            feed.cache = None
            self._articles[item.slug] = item
        return item

    def set_fault(self, name: str, fault: str | None, **params: Any) -> None:
        with self._lock:
            feed = self._feeds[name]
            feed.fault = fault
            feed.params.update(params)
            feed.cache = None

    def requests(self, name: str) -> int:
        return self._feeds[name].requests

    def not_modified(self, name: str) -> int:
        return self._feeds[name].not_modified

    # rendering (called by the handler)
    def document(self, feed: Feed) -> tuple[bytes, str]:
        if feed.cache and feed.cache[0] == feed.version:
            return feed.cache[1], feed.cache[2]
        items = feed.items[: self.max_items]
        title = f"موجز {feed.name}"
        body = (render_atom if feed.kind == "atom" else render_rss)(title, self.base_url, items)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        feed.cache = (feed.version, body, etag)
        return body, etag

    def faulty_body(self, feed: Feed) -> bytes:
        fault, p = feed.fault, feed.params
        items = feed.items[: self.max_items] or [make_item(1)]
        if fault == "html":
            return HTML_PAGE
        if fault == "truncated":
            body = render_rss("مقطوع", self.base_url, items)
            return body[: int(len(body) * 0.6)]
        if fault == "billion_laughs":
            return BILLION_LAUGHS
        if fault == "xxe":
            return XXE
        if fault == "xxe_utf16":
            return XXE.decode().replace("utf-8", "utf-16").encode("utf-16")
        if fault == "bad_encoding":
            text = render_rss("ترميز", self.base_url, items).decode("utf-8")
            return text.encode("cp1256", errors="replace") + b"\xff\xfe\xc3("
        if fault == "huge_title":
            huge = Item("عنوان طويل " * (int(p.get("huge_title_chars", 1_000_000)) // 11),
                        items[0].text, "huge-1", items[0].published)  # fmt: skip
            return render_rss("طويل", self.base_url, [huge, *items])
        if fault == "no_links":
            parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                     "<title>بلا روابط</title>"]  # fmt: skip
            for item in items:
                parts.append(
                    f"<item><title>{escape(item.title)}</title>"
                    f"<pubDate>{format_datetime(item.published)}</pubDate>"
                    f"<description>{escape(item.text)}</description></item>"
                )
            parts.extend("<item><description> </description></item>"
                         for _ in range(int(p.get("empty_items", 0))))  # fmt: skip
            parts.append("</channel></rss>")
            return "".join(parts).encode("utf-8")
        if fault == "many_items":
            count = int(p.get("many_items", 10_000))
            many = []
            for i in range(count):  # short items: 10,000 of them fit under the byte cap
                item = make_item(100_000 + i, random.Random(i), full=False)
                many.append(Item(item.title, item.text[:60], item.slug, item.published, False))
            return render_rss("كثير", self.base_url, many)
        raise ValueError(f"unknown fault {fault!r}")


def _make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path.startswith("/articles/"):
                item = server._articles.get(path.removeprefix("/articles/"))
                if item is None:
                    self._send(404, b"not found")
                else:
                    self._send(200, article_page(item), {"Content-Type": "text/html"})
                return
            if not path.startswith("/feeds/"):
                self._send(404, b"not found")
                return
            feed = server._feeds.get(path.removeprefix("/feeds/"))
            if feed is None:
                self._send(404, b"no such feed")
                return
            with server._lock:
                feed.requests += 1
            if feed.fault:
                self._fault(feed)
                return
            with server._lock:
                body, etag = server.document(feed)
                changed = feed.changed
            last_modified = format_datetime(changed, usegmt=True)
            validators = {"ETag": etag, "Last-Modified": last_modified}
            if feed.params.get("validators") is False:  # a server that ignores them
                validators = {}
            elif self._unchanged(etag, changed):
                with server._lock:
                    feed.not_modified += 1
                self._send(304, b"", validators)
                return
            ctype = "application/atom+xml" if feed.kind == "atom" else "application/rss+xml"
            self._send(200, body, {"Content-Type": f"{ctype}; charset=utf-8", **validators})

        def _unchanged(self, etag: str, changed: datetime) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    return changed <= parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
            return False

        def _fault(self, feed: Feed) -> None:
            fault, p = feed.fault, feed.params
            if fault == "redirect_private":
                target = p.get("redirect_to", "http://169.254.169.254/latest/meta-data/")
                self._send(302, b"", {"Location": target})
            elif fault == "redirect":
                self._send(int(p.get("status", 302)), b"", {"Location": p["redirect_to"]})
            elif fault == "status":
                headers = {"Retry-After": str(p["retry_after"])} if "retry_after" in p else {}
                self._send(int(p.get("status", 429)), b"busy", headers)
            elif fault == "slow":
                time.sleep(float(p.get("delay", 5)))  # the fault itself: a slow server
                body, etag = server.document(feed)
                self._send(200, body, {"Content-Type": "application/rss+xml", "ETag": etag})
            elif fault == "bomb":
                body = compression_bomb(
                    int(p.get("bomb_bytes", 1 << 30)), str(p.get("encoding", "gzip"))
                )
                wire = "gzip" if p.get("encoding", "gzip") == "gzip" else "deflate"
                headers = {"Content-Type": "application/rss+xml", "Content-Encoding": wire}
                step = int(p.get("trickle", 0))
                try:
                    if not step:
                        self._send(200, body, headers)
                        return
                    self.send_response(200)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start : start + step])
                        self.wfile.flush()
                        time.sleep(float(p.get("trickle_delay", 0.02)))
                except (BrokenPipeError, ConnectionResetError):
                    return
            elif fault == "encoded":
                with server._lock:
                    plain, etag = server.document(feed)
                body, coding = encode_body(plain, str(p.get("encoding", "gzip")))
                ctype = "application/rss+xml; charset=utf-8"
                self._send(200, body, {"Content-Type": ctype, "Content-Encoding": coding})
            elif fault == "too_large":
                total = int(p.get("too_large_bytes", 20_000_000))
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                chunk = b"<!-- " + b"x" * 65_000 + b" -->\n"
                sent = 0
                try:
                    self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                    while sent < total:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
            else:
                ctype = "text/xml; charset=utf-8"
                self._send(200, server.faulty_body(feed), {"Content-Type": ctype})

    return Handler


# ---------------------------------------------------------------------------- benchmark process


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20, help="items per feed at start")
    parser.add_argument("--updating", type=int, default=50, help="feeds that get new items")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between updates")
    args = parser.parse_args(argv)
    server = FeedServer(args.port)
    names = [f"f{i:04d}" for i in range(args.feeds)]
    for name in names:
        server.add_feed(name, kind="atom" if name.endswith("7") else "rss", items=args.items)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"READY {server.port}", flush=True)
    rng = random.Random(7)
    updating = names[: args.updating]
    try:
        while not stop.wait(args.every):
            if updating:
                server.add_item(rng.choice(updating))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
