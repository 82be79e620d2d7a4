"""Canonical URLs, stable article ids and text fingerprints: how "the same story" is recognized.

The id of an article is derived from its canonical URL only, so the same story fetched twice,
from two feeds, over http and https, or with ``?utm_source=…`` appended, gets the same id —
and the stream processor (keyed by id) sees one story.  An item with a guid but no link is
identified by its feed and guid; one with neither by :func:`derived_id` (its feed, title,
published time and a hash of its text).  The text fingerprint catches the same story
re-published under a new URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: Query parameters that identify a campaign or a click, never the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref", "ref_src", "ref_url", "referrer",
        "cmpid", "spm", "amp", "ncid", "ito", "xtor", "s_cid", "oly_enc_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "__hs", "at_")
DEFAULT_PORTS = {"http": 80, "https": 443}
ID_HEX_CHARS = 24

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Normalize ``url``: https, lower-case host without ``www.`` or default port, no
    fragment, no tracking parameters, remaining parameters sorted, path percent-encoding
    normalized.  Two URLs of the same document map to the same string."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        scheme = "https"
    host = (parts.hostname or "").lower().rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if host else host
    host = host.removeprefix("www.")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port not in DEFAULT_PORTS.values():
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def stable_id(key: str) -> str:
    """A short, stable, URL-safe id: the first 24 hex digits of the key's SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]


def article_id(url: str) -> str:
    """The article id of ``url`` (canonical URL hashed)."""
    return stable_id(canonical_url(url))


def guid_id(feed_url: str, guid: str) -> str:
    """The id of an item that has a guid but no link: unique within its feed."""
    return stable_id(f"{canonical_url(feed_url)}#{guid}")


def derived_id(feed_url: str, title: str | None, published: datetime | None, text: str) -> str:
    """The id of an item with neither a link nor a guid: its feed (canonical URL), its title
    and text as :func:`normalize_text` reduces them (markup, spacing and diacritics do not
    count) and its published time in UTC.  The same item served again gets the same id; an
    edit of its words makes it a new item (the text fingerprint may still catch it)."""
    when = published.astimezone(UTC).isoformat() if published else ""
    words = hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
    key = "\x1f".join(
        ("derived", canonical_url(feed_url), normalize_text(title or ""), when, words)
    )
    return stable_id(key)


def normalize_text(text: str) -> str:
    """Text reduced to what survives re-publication: NFKC, no Arabic diacritics or tatweel,
    one alef/yeh/teh-marbuta form, no punctuation, single spaces, case-folded."""
    text = unicodedata.normalize("NFKC", text)
    text = _ARABIC_DIACRITICS.sub("", text).translate(_ALEF_FORMS)
    return " ".join(_NON_WORD.sub(" ", text).split()).casefold()


def text_fingerprint(title: str | None, text: str) -> str | None:
    """Fingerprint of a story's words; None when too short to identify a story by text alone
    (a one-line summary is shared by too many unrelated items)."""
    body = normalize_text(text)
    if len(body) < 80:
        return None
    return "t:" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]
