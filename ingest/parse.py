"""Fetched bytes -> feed items, with hostile documents refused or trimmed, never crashing.

feedparser parses the bytes the fetcher read (it never fetches anything itself here).
Before it sees them, documents that declare entities are refused outright: billion-laughs
expansion and external entities (``<!ENTITY x SYSTEM "file:///etc/passwd">``) both need a
declaration, and legitimate feeds do not use them.  A plain DOCTYPE without an internal
subset (old RSS 0.91 feeds carry one) is stripped and parsing goes on.  Sizes are capped:
item count, title and body length.
"""

from __future__ import annotations

import calendar
import html
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from ingest.errors import FeedParseError

log = logging.getLogger(__name__)

MAX_ITEMS = 500
MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 100_000
MAX_LINK_CHARS = 4_000

_HEAD_BYTES = 4096
_EBCDIC_PROLOG = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[)?", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(<!DOCTYPE\s+html|<html|<head|<body)", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|tr)>|<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, trimmed to the caps; ``has_content`` says whether the feed carried
    a full body (content:encoded / atom content) or only a summary."""

    title: str | None
    link: str | None
    guid: str | None
    text: str
    has_content: bool
    published_at: datetime | None


@dataclass
class ParsedFeed:
    items: list[FeedItem]
    title: str | None = None
    #: Reasons the document was not clean (malformed, truncated, items dropped…), for the log.
    warnings: list[str] = field(default_factory=list)


def _utf16_or_32(body: bytes) -> str | None:
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if body.startswith(bom):
            return codec
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return "utf-16-le" if body[0] == 0x3C else "utf-16-be"
    return None


def defuse(body: bytes) -> bytes:
    """Refuse entity declarations, strip a harmless DOCTYPE, reject HTML pages.

    Raises :class:`FeedParseError` with the reason."""
    wide = _utf16_or_32(body)
    if wide is not None:
        # Entity tricks hidden in a wide encoding: re-encode as UTF-8 for the checks
        # (feedparser then reads the declared encoding from the XML prolog... which we fix).
        text = body.decode(wide, errors="replace").lstrip("\ufeff")
        text = re.sub(r"encoding=[\"'][^\"']+[\"']", 'encoding="utf-8"', text, count=1)
        body = text.encode("utf-8")
    if body.startswith(_EBCDIC_PROLOG):
        raise FeedParseError("EBCDIC-encoded document; refused")
    # NULs removed: a UTF-16/32 document without a BOM still shows its ASCII markup here.
    if _ENTITY_DECL.search(body) or _ENTITY_DECL.search(body.replace(b"\x00", b"")):
        raise FeedParseError("document declares XML entities (billion-laughs / XXE); refused")
    if _HTML_START.search(body[:_HEAD_BYTES]):
        raise FeedParseError("got an HTML page instead of an RSS/Atom feed")
    match = _DOCTYPE.search(body)
    if match:
        if match.group(1):
            raise FeedParseError("document has a DOCTYPE internal subset; refused")
        end = body.find(b">", match.start())
        body = body[: match.start()] + body[end + 1 :]
    return body


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: paragraphs kept as lines, tags dropped, entities decoded."""
    if "<" in fragment:
        fragment = _BLOCK_END.sub("\n", fragment)
        fragment = _TAG.sub(" ", fragment)
    text = html.unescape(fragment)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _item(entry: Any) -> FeedItem | None:
    title = html_to_text(str(entry.get("title") or "")) or None
    link = str(entry.get("link") or "").strip() or None
    if link and len(link) > MAX_LINK_CHARS:
        link = None
    guid = str(entry.get("id") or "").strip()[:MAX_LINK_CHARS] or None
    content = entry.get("content") or []
    body = " ".join(str(c.get("value") or "") for c in content if isinstance(c, dict))
    has_content = bool(body.strip())
    if not has_content:
        body = str(entry.get("summary") or entry.get("description") or "")
    text = html_to_text(body[: MAX_TEXT_CHARS * 4])
    if not (title or text) or not (link or guid):
        return None
    return FeedItem(
        title=_cap(title, MAX_TITLE_CHARS) if title else None,
        link=link,
        guid=guid,
        text=_cap(text, MAX_TEXT_CHARS),
        has_content=has_content,
        published_at=_published(entry),
    )


def parse_feed(
    body: bytes,
    *,
    content_type: str | None = None,
    base_url: str | None = None,
    max_items: int = MAX_ITEMS,
) -> ParsedFeed:
    """Parse ``body`` (bytes as fetched) into at most ``max_items`` items, newest first as
    the feed lists them.  Raises :class:`FeedParseError` when nothing usable is in it."""
    if not body.strip():
        raise FeedParseError("empty document")
    safe = defuse(body)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    try:
        parsed = feedparser.parse(
            # A stream, never a str/bytes: feedparser treats a string that looks like a path
            # or URL as something to open.
            io.BytesIO(safe),
            response_headers=headers,
            sanitize_html=False,
        )
    except Exception as exc:  # feedparser is meant not to raise; belt and braces for hostile input
        raise FeedParseError(f"parser failed: {type(exc).__name__}: {exc}") from exc
    warnings: list[str] = []
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        warnings.append(f"malformed document ({type(reason).__name__}: {reason})")
    entries = parsed.get("entries") or []
    if not entries:
        if not parsed.get("version"):
            detail = f": {warnings[0]}" if warnings else ""
            raise FeedParseError(f"not an RSS/Atom feed{detail}")
        return ParsedFeed(items=[], title=None, warnings=warnings)
    if len(entries) > max_items:
        warnings.append(f"{len(entries)} items; kept the first {max_items}")
        entries = entries[:max_items]
    items: list[FeedItem] = []
    skipped = 0
    for entry in entries:
        item = _item(entry)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    if skipped:
        warnings.append(f"{skipped} items without link/id or text skipped")
    feed_title = html_to_text(str(parsed.get("feed", {}).get("title") or "")) or None
    return ParsedFeed(
        items=items,
        title=_cap(feed_title, MAX_TITLE_CHARS) if feed_title else None,
        warnings=warnings,
    )
