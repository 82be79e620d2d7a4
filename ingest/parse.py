"""Fetched bytes -> feed items, with hostile documents refused or trimmed, never crashing.

feedparser parses the bytes the fetcher read (it never fetches anything itself here).
Before it sees them, :func:`defuse` reads the document's prolog (what comes before the root
element: XML declaration, comments, processing instructions, DOCTYPE) the way an XML parser
does.  Entity declarations there are refused outright: billion-laughs expansion and external
entities (``<!ENTITY x SYSTEM "file:///etc/passwd">``) both need one, and legitimate feeds do
not use them; so is any other internal DTD subset.  A plain DOCTYPE (old RSS 0.91 feeds carry
one) is cut out and parsing goes on.  Everything after the root element's ``<`` is content,
never looked at here: an item whose text or CDATA says "<!DOCTYPE" or "<!ENTITY" is kept as
it is.  Documents in encodings whose markup is not ASCII bytes (UTF-16/32 with or without a
BOM, EBCDIC) are re-encoded as UTF-8 first, so the prolog can be read.  Sizes are capped:
item count, title and body length; every item left out is counted by reason
(:attr:`ParsedFeed.skipped`).
"""

from __future__ import annotations

import calendar
import codecs
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
_XML_DECL = re.compile(rb"^<\?xml[^>]*\?>")
_DECL_ENCODING = re.compile(rb"""(\sencoding\s*=\s*)(["'])[^"']*\2""")
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")
_NAME_TAG = re.compile(rb"<[A-Za-z_:\x80-\xff]")
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
    #: What of the item was lost on the way (``title_truncated``, ``text_truncated``,
    #: ``link_too_long``, ``bad_date``); the item is still published.
    trimmed: tuple[str, ...] = ()


#: Reasons an item of a parsed document is left out (counted in :attr:`ParsedFeed.skipped`).
NO_TEXT = "no_text"  # neither a title nor any text
OVER_ITEM_CAP = "over_item_cap"  # beyond ``max_items``


@dataclass
class ParsedFeed:
    items: list[FeedItem]
    title: str | None = None
    #: Reasons the document was not clean (malformed, truncated, items dropped…), for the log.
    warnings: list[str] = field(default_factory=list)
    #: Entries of the document that are not in ``items``, by reason (NO_TEXT, OVER_ITEM_CAP).
    skipped: dict[str, int] = field(default_factory=dict)


def _wide_codec(body: bytes) -> str | None:
    """UTF-16/32 by BOM, or by the NUL pattern of two leading ASCII characters without one."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if body.startswith(bom):
            return codec
    head = body[:8]
    if len(head) < 4 or b"\x00" not in head:
        return None
    z = [byte == 0 for byte in head[:4]]
    if z == [False, True, True, True]:
        return "utf-32-le"
    if z == [True, True, True, False]:
        return "utf-32-be"
    if z == [False, True, False, True]:
        return "utf-16-le"
    if z == [True, False, True, False]:
        return "utf-16-be"
    return None


def _codec(name: str | None) -> codecs.CodecInfo | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        return None


def _ascii_markup(info: codecs.CodecInfo) -> bool:
    """Whether markup is plain ASCII bytes in this encoding (false for EBCDIC, UTF-16/32)."""
    try:
        return "<!ENTITY []>".encode(info.name) == b"<!ENTITY []>"
    except (UnicodeError, LookupError):
        return False


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _ebcdic_codec(body: bytes) -> str:
    """The declared code page of an EBCDIC document (cp037 if it names no EBCDIC one)."""
    declaration = body[:200].decode("cp037", errors="replace").partition(">")[0]
    match = re.search(r"""encoding\s*=\s*["']([^"']+)["']""", declaration)
    info = _codec(match.group(1)) if match else None
    return info.name if info is not None and not _ascii_markup(info) else "cp037"


def _as_utf8(body: bytes, codec: str) -> bytes:
    """``body`` decoded from ``codec`` and re-encoded as UTF-8, its XML declaration (if any)
    saying so, so that the prolog's markup is plain ASCII bytes."""
    text = body.decode(codec, errors="replace").lstrip("\ufeff").encode("utf-8")
    declaration = _XML_DECL.match(text)
    if declaration:
        fixed = _DECL_ENCODING.sub(rb'\1"utf-8"', declaration.group(0), count=1)
        text = fixed + text[declaration.end() :]
    return text


def _skip_quoted_and_subset(body: bytes, i: int) -> tuple[int, int | None]:
    """From inside a ``<!DOCTYPE``: the index after its ``>`` (len(body) if unterminated),
    and where its internal subset ``[`` starts (None without one)."""
    subset = None
    n = len(body)
    while i < n:
        c = body[i : i + 1]
        if c in (b'"', b"'"):
            close = body.find(c, i + 1)
            i = n if close < 0 else close + 1
            continue
        if c == b"[" and subset is None:
            subset = i
            # The subset ends at the first "]" followed by ">" (quotes in it skipped).
            j = i + 1
            while j < n:
                d = body[j : j + 1]
                if d in (b'"', b"'"):
                    close = body.find(d, j + 1)
                    j = n if close < 0 else close + 1
                    continue
                if d == b"]":
                    break
                j += 1
            i = j + 1
            continue
        if c == b">":
            return i + 1, subset
        i += 1
    return n, subset


def prolog_end(body: bytes) -> tuple[int, tuple[int, int] | None, int | None]:
    """Read ``body``'s prolog as an XML parser does.

    Returns where the root element starts (``len(body)`` if none does), the span of its
    DOCTYPE (None if there is none) and where that DOCTYPE's internal subset starts (None).
    Comments and processing instructions are skipped whole; anything an XML parser would
    stop on (text, an unknown ``<!`` declaration) ends the scan there: a parser stops too.
    """
    n = len(body)
    i = 0
    doctype: tuple[int, int] | None = None
    subset: int | None = None
    while i < n:
        if body.startswith(b"\xef\xbb\xbf", i):
            i += 3  # a UTF-8 BOM
        while i < n and body[i : i + 1] in (b" ", b"\t", b"\r", b"\n"):
            i += 1
        if body.startswith(b"<?", i):
            close = body.find(b"?>", i + 2)
            i = n if close < 0 else close + 2
        elif body.startswith(b"<!--", i):
            close = body.find(b"-->", i + 4)
            i = n if close < 0 else close + 3
        elif body[i : i + 9].upper() == b"<!DOCTYPE":
            end, sub = _skip_quoted_and_subset(body, i + 9)
            if doctype is None:
                doctype, subset = (i, end), (None if sub is None else sub)
            elif sub is not None and subset is None:
                subset = sub
            i = end
        elif body.startswith(b"<", i) and _NAME_START.match(body, i + 1):
            return i, doctype, subset
        else:
            return i, doctype, subset  # not well-formed here: an XML parser stops as well
    return n, doctype, subset


def defuse(body: bytes, charset: str | None = None) -> bytes:
    """Refuse entity declarations and DTD subsets in the prolog, cut out a plain DOCTYPE,
    reject HTML pages; leave the content alone.  ``charset`` is the HTTP one, if any.

    Raises :class:`FeedParseError` with the reason."""
    return _defuse(body, charset)[0]


def _defuse(body: bytes, charset: str | None) -> tuple[bytes, bool]:
    """:func:`defuse`, and whether the document was re-encoded as UTF-8."""
    codec = _wide_codec(body)
    if codec is None and body.startswith(_EBCDIC_PROLOG):
        codec = _ebcdic_codec(body)
    declared = _XML_DECL.match(body)
    found = _DECL_ENCODING.search(declared.group(0)) if declared else None
    in_prolog = found.group(0).partition(b"=")[2].decode("ascii", "replace") if found else None
    for name, from_http in ((charset, True), (in_prolog, False)):
        info = _codec(name)
        if info is None:
            continue
        if info.name == "utf-7":  # "+ADw-" is "<": markup no byte scan can see
            raise FeedParseError("UTF-7 encoded document; refused")
        markup_hidden = not body.lstrip(b" \t\r\n").startswith(b"<")
        if codec is None and from_http and markup_hidden and not _ascii_markup(info):
            codec = info.name  # e.g. EBCDIC named only by the HTTP header
    transcoded = codec is not None
    if codec is not None:
        body = _as_utf8(body, codec)
    if b"\x00" in body[:_HEAD_BYTES] and _ENTITY_DECL.search(body.replace(b"\x00", b"")):
        # NULs left: a wide encoding not recognised here; read conservatively.
        raise FeedParseError("document declares XML entities (billion-laughs / XXE); refused")
    if _HTML_START.search(body[:_HEAD_BYTES]):
        raise FeedParseError("got an HTML page instead of an RSS/Atom feed")
    root, doctype, subset = prolog_end(body)
    # feedparser's own DOCTYPE handling reads the bytes before the first "<name": never past
    # the root element found here.  Entity declarations anywhere in the prolog (inside a
    # DOCTYPE or stray) are refused; a comment that mentions one is not a declaration.
    if doctype is not None and subset is not None:
        if _ENTITY_DECL.search(body, subset, doctype[1]):
            raise FeedParseError("document declares XML entities (billion-laughs / XXE); refused")
        raise FeedParseError("document has a DOCTYPE internal subset; refused")
    # Where the scan stopped early (not well-formed), read on to the first "<name" as
    # feedparser's DOCTYPE handling does.
    rest = _NAME_TAG.search(body, root)
    if _ENTITY_DECL.search(_strip_comments(body[: rest.start() if rest else len(body)])):
        raise FeedParseError("document declares XML entities (billion-laughs / XXE); refused")
    if doctype is not None:
        body = body[: doctype[0]] + body[doctype[1] :]
    return body, transcoded


def _strip_comments(head: bytes) -> bytes:
    return re.sub(rb"<!--.*?(-->|$)", b"", head, flags=re.DOTALL)


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
        # dict.get: FeedParserDict's own get maps missing keys to others (with a warning).
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _item(entry: Any) -> FeedItem | None:
    """The item of ``entry``; None when it has neither a title nor any text (nothing to
    publish).  One without a link or guid is kept: the poller derives its id."""
    trimmed: list[str] = []
    title = html_to_text(str(entry.get("title") or "")) or None
    link = str(entry.get("link") or "").strip() or None
    if link and len(link) > MAX_LINK_CHARS:
        link = None
        trimmed.append("link_too_long")
    guid = str(entry.get("id") or "").strip()[:MAX_LINK_CHARS] or None
    content = entry.get("content") or []
    body = " ".join(str(c.get("value") or "") for c in content if isinstance(c, dict))
    has_content = bool(body.strip())
    if not has_content:
        body = str(entry.get("summary") or entry.get("description") or "")
    text = html_to_text(body[: MAX_TEXT_CHARS * 4])
    if not (title or text):
        return None
    if title and len(title) > MAX_TITLE_CHARS:
        trimmed.append("title_truncated")
    if len(text) > MAX_TEXT_CHARS:
        trimmed.append("text_truncated")
    published = _published(entry)
    given = (dict.get(entry, k) for k in ("published", "updated", "created"))
    if published is None and any(given):
        trimmed.append("bad_date")  # a date was given but could not be read
    return FeedItem(
        title=_cap(title, MAX_TITLE_CHARS) if title else None,
        link=link,
        guid=guid,
        text=_cap(text, MAX_TEXT_CHARS),
        has_content=has_content,
        published_at=published,
        trimmed=tuple(trimmed),
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
    safe, transcoded = _defuse(body, _charset(content_type))
    if transcoded and content_type:  # the bytes are UTF-8 now, whatever the server said
        content_type = content_type.split(";")[0].strip() + "; charset=utf-8"
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
    skipped: dict[str, int] = {}
    if len(entries) > max_items:
        warnings.append(f"{len(entries)} items; kept the first {max_items}")
        skipped[OVER_ITEM_CAP] = len(entries) - max_items
        entries = entries[:max_items]
    items: list[FeedItem] = []
    for entry in entries:
        item = _item(entry)
        if item is None:
            skipped[NO_TEXT] = skipped.get(NO_TEXT, 0) + 1
        else:
            items.append(item)
    if skipped.get(NO_TEXT):
        warnings.append(f"{skipped[NO_TEXT]} items without title or text skipped")
    feed_title = html_to_text(str(parsed.get("feed", {}).get("title") or "")) or None
    return ParsedFeed(
        items=items,
        title=_cap(feed_title, MAX_TITLE_CHARS) if feed_title else None,
        warnings=warnings,
        skipped=skipped,
    )
