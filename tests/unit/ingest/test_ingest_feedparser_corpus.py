"""feedparser's own test documents through Marsad's parse path (issue #13 item 2).

Every document that feedparser itself parses without ``bozo`` must be accepted by
:func:`ingest.parse.parse_feed` with the same number of entries (each one an item, or counted
as ``no_text`` when it has neither a title nor any text), except on purpose:

* documents that declare entities in their DOCTYPE: refused (billion laughs / XXE);
* well-formed XML that feedparser does not recognise as a feed and that has no entries
  (CDF channel-only documents here): reported as "not an RSS/Atom feed", so that a wrong URL
  answering some other XML is a parse_error, not a quiet "ok".

Ill-formed (``bozo``) documents must never crash the parse path: they are read or refused
with a :class:`FeedParseError`.  The documents are a BSD-licensed subset, see
``tests/fixtures/feedparser/README.md``.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path
from typing import Any

import feedparser
import pytest

from ingest.errors import FeedParseError
from ingest.parse import html_to_text, parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "feedparser"
DOCUMENTS = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.xml"))
#: Refused on purpose, with the reason the refusal must give.
REFUSED = {
    "wellformed/rss/entity_in_doctype.xml": "declares XML entities",
    "wellformed/rdf/doctype_contains_entity_decl.xml": "declares XML entities",
}
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)


def _feedparser(data: bytes, headers: dict[str, str]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feedparser.parse(io.BytesIO(data), response_headers=headers, sanitize_html=False)


def _has_text(entry: Any) -> bool:
    """A title or text that is more than markup (an ``<svg>`` or an empty ``<span>`` is not)."""
    content = " ".join(str(c.get("value") or "") for c in entry.get("content") or [])
    body = content.strip() or str(entry.get("summary") or entry.get("description") or "")
    return bool(html_to_text(str(entry.get("title") or "")) or html_to_text(body))


def test_corpus_is_the_vendored_subset() -> None:
    assert 150 <= len(DOCUMENTS) <= 200
    assert (CORPUS / "LICENSE").read_text().count("Redistribution and use") >= 1
    assert sum(p.stat().st_size for p in CORPUS.rglob("*")) < 2_000_000


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_read_as_feedparser_reads_it(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    headers = {k.decode().strip().lower(): v.decode().strip() for k, v in _HEADER.findall(data)}
    expected = _feedparser(data, dict(headers))
    if name in REFUSED:
        with pytest.raises(FeedParseError, match=REFUSED[name]):
            parse_feed(data, content_type=headers.get("content-type"))
        return
    if expected.get("bozo"):
        with contextlib.suppress(FeedParseError):  # refused with a reason: fine here
            parse_feed(data, content_type=headers.get("content-type"))
        return
    entries = expected.get("entries") or []
    if not expected.get("version") and not entries:
        with pytest.raises(FeedParseError, match="not an RSS/Atom feed"):
            parse_feed(data, content_type=headers.get("content-type"))
        return
    feed = parse_feed(data, content_type=headers.get("content-type"))
    # Every entry is either an item or counted; only entries with nothing to say are left out.
    assert len(feed.items) + sum(feed.skipped.values()) == len(entries), feed.warnings
    assert len(feed.items) == sum(1 for e in entries if _has_text(e)), feed.skipped
    assert set(feed.skipped) <= {"no_text"}
