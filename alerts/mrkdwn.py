"""Making untrusted text safe for Slack ``mrkdwn`` and readable when it is Arabic.

Why: article text reaches Slack.  Slack parses ``<…>`` as mentions (``<!channel>``,
``<@U123>``) and links (``<https://evil|https://bank>``), so every character sequence coming
from an article is escaped exactly as Slack documents (``&`` → ``&amp;``, ``<`` → ``&lt;``,
``>`` → ``&gt;``); links are only ever built by us, from a checked URL, with a label we
derive from the URL itself.

Arabic is kept in its logical order (never reversed); we only add the invisible Unicode
direction marks the bidi algorithm defines, so a trailing full stop or a number sits where
an Arabic reader expects it inside an otherwise left-to-right message.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")

RLM = "\u200f"  # RIGHT-TO-LEFT MARK
RLI = "\u2067"  # RIGHT-TO-LEFT ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE


def escape(text: str) -> str:
    """Escape the three control characters Slack's mrkdwn reserves (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def isolate_rtl(text: str) -> str:
    """Wrap an Arabic run placed inside a left-to-right line (e.g. "البوكمال · Al-Bukamal").

    The isolate keeps the run's neutral characters (punctuation, digits) with it instead of
    letting them drift to the neighbouring Latin text.  Text without Arabic is unchanged.
    """
    return f"{RLI}{text}{PDI}" if has_arabic(text) else text


def rtl_paragraph(text: str) -> str:
    """Mark a whole Arabic paragraph right-to-left (RLM at both ends; order untouched)."""
    return f"{RLM}{text}{RLM}" if has_arabic(text) else text


def quote(text: str) -> str:
    """Escape ``text`` and render it as a mrkdwn block quote, one ``>`` per line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    return "\n".join(f">{rtl_paragraph(escape(line))}" for line in lines)


def safe_link(url: str) -> str:
    """A link we vouch for: http(s) only, the label is the URL's own host.

    Anything else (``javascript:``, ``slack://``, text that is not a URL) is shown as
    escaped plain text, never as a clickable link.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return escape(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return escape(raw)
    target = escape(raw).replace("|", "%7C").replace(" ", "%20")
    label = escape(parts.hostname.removeprefix("www."))
    return f"<{target}|{label}>"


def truncate(text: str, limit: int) -> str:
    """Cut to Slack's per-element limit, marking the cut (never splitting an escape)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
