"""Making untrusted text safe for Slack ``mrkdwn`` and readable when it is Arabic.

Why: article text reaches Slack.  Slack parses ``<…>`` as mentions (``<!channel>``,
``<@U123>``) and links (``<https://evil|https://bank>``), so every character sequence coming
from an article is escaped exactly as Slack documents (``&`` → ``&amp;``, ``<`` → ``&lt;``,
``>`` → ``&gt;``); links are only ever built by us, from a checked URL, with a label we
derive from the URL itself.

Arabic is kept in its logical order (never reversed); we only add the invisible Unicode
direction marks the bidi algorithm defines, so a trailing full stop or a number sits where
an Arabic reader expects it inside an otherwise left-to-right message.

Slack refuses a whole message (``invalid_blocks``) when one element is over its limit, so
everything here that shortens text cuts at a safe place: never inside an escape (``&amp;``)
or a ``<url|label>`` link, never leaving a direction isolate open; lists are shortened by
whole item with a ``(+N more)`` note (:func:`join_within`), labelled lines by whole line
(:func:`fit_lines`), and our own ``*bold*`` labels and `` `code` `` spans are built around
text already cut (:func:`code`). Lengths are counted as Slack may count them, in UTF-16
units (:func:`slack_len`), which is never less than Python's ``len``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urlsplit

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")

RLM = "\u200f"  # RIGHT-TO-LEFT MARK
RLI = "\u2067"  # RIGHT-TO-LEFT ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE
_ISOLATES = ("\u2066", RLI, "\u2068")  # LRI, RLI, FSI: each closed by one PDI

ELLIPSIS = "…"
#: a link whose escaped target is longer is shown as its label only, not as a link
URL_MAX = 1000
#: a shown non-link (``javascript:…``, not a URL) is cut to this
PLAIN_URL_MAX = 200
#: the path shown after the host in a label, when it is needed to tell links apart
PATH_STUB_MAX = 24


#: bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in untrusted text
#: one left open reorders everything after it, so they are dropped (RLM/LRM are kept)
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def drop_bidi_controls(text: str) -> str:
    """Untrusted text without bidi embedding/override/isolate controls (only ours, balanced,
    may enter a message); for ``plain_text``, which is not escaped."""
    return _BIDI_CONTROLS.sub("", text)


def escape(text: str) -> str:
    """Escape the three control characters Slack's mrkdwn reserves (``&`` first), and drop
    bidi embedding/isolate controls (:func:`drop_bidi_controls`)."""
    text = drop_bidi_controls(text)
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


def quote(text: str, limit: int = 3000) -> str:
    """Escape ``text`` and render it as a mrkdwn block quote, one ``>`` per line, within
    ``limit``: whole lines, the first that does not fit cut (inside its direction marks)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    out: list[str] = []
    used = 0
    for line in lines:
        body = escape(line)
        sep = 1 if out else 0
        marks = 3 if has_arabic(body) else 1  # ">" and the two RLMs
        room = limit - used - sep - marks
        if slack_len(body) > room:
            if room > 40 or not out:
                out.append(f">{rtl_paragraph(truncate(body, max(1, room)))}")
            break
        out.append(f">{rtl_paragraph(body)}")
        used += sep + marks + slack_len(body)
    return "\n".join(out)


def slack_len(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2): never less than ``len(text)``."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _prefix(text: str, limit: int) -> str:
    """The longest prefix whose :func:`slack_len` is at most ``limit``."""
    if limit <= 0:
        return ""
    cut = text[:limit]
    while (over := slack_len(cut) - limit) > 0:
        cut = cut[: len(cut) - over]  # each astral character counts 2: shrinks every round
    return cut


def _outside_markup(cut: str) -> str:
    """Drop a trailing partial escape (``&am``) or partial link (``<https://…|lab``)."""
    while True:
        amp = cut.rfind("&")
        if amp != -1 and ";" not in cut[amp:]:
            cut = cut[:amp]
            continue
        lt = cut.rfind("<")
        if lt != -1 and ">" not in cut[lt:]:
            cut = cut[:lt]
            continue
        return cut


def _open_isolates(text: str) -> int:
    return sum(text.count(mark) for mark in _ISOLATES) - text.count(PDI)


def truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` (Slack's per-element limit), marking the cut with "…".

    Never splits an escape or a link, and closes a direction isolate the cut left open.
    """
    if slack_len(text) <= limit:
        return text
    room = limit - 1
    while True:
        cut = _outside_markup(_prefix(text, room))
        closing = PDI * max(0, _open_isolates(cut))
        if slack_len(cut) + len(closing) + 1 <= limit or not cut:
            return cut + closing + ELLIPSIS
        room = slack_len(cut) - 1


def clip(text: str, limit: int) -> str:
    """Cut plain text (a ``plain_text`` element: no markup) to ``limit``, marking the cut."""
    if slack_len(text) <= limit:
        return text
    return _prefix(text, limit - 1).rstrip() + ELLIPSIS


def more(n: int) -> str:
    """The note after a shortened list."""
    return f" (+{n} more)"


def join_within(
    items: Sequence[str],
    sep: str,
    limit: int,
    note: Callable[[int], str] = more,
    max_items: int | None = None,
) -> str:
    """``sep.join(items)`` if it fits in ``limit``; else as many whole items as fit, with the
    note for the rest (``(+N more)``), the note always kept. No item is cut here: cap each
    item first (:func:`truncate`) when one alone may be too long."""
    cap = len(items) if max_items is None else min(len(items), max_items)
    best, used = 0, 0
    for k in range(1, cap + 1):
        used += slack_len(items[k - 1]) + (len(sep) if k > 1 else 0)
        if used > limit:
            break
        rest = len(items) - k
        if used + (slack_len(note(rest)) if rest else 0) <= limit:
            best = k
    if best == 0:
        text = note(len(items)).strip() if items else ""
        return text if slack_len(text) <= limit else ""
    rest = len(items) - best
    return sep.join(items[:best]) + (note(rest) if rest else "")


def fit_lines(lines: Sequence[str], limit: int, cut_after: int = 40) -> str:
    """Whole lines, newline-joined, within ``limit``; the first line that does not fit is cut
    (only past its first ``cut_after`` characters, so a ``*Label:*`` opening it is never cut),
    and the lines after it are left out."""
    out: list[str] = []
    used = 0
    for line in lines:
        sep = 1 if out else 0
        if used + sep + slack_len(line) <= limit:
            out.append(line)
            used += sep + slack_len(line)
            continue
        room = limit - used - sep
        if room > cut_after:
            out.append(truncate(line, room))
        elif out and used + 1 <= limit:
            out[-1] += ELLIPSIS
        break
    return "\n".join(out)


def code(text: str, limit: int) -> str:
    """``text`` escaped as an inline `` `code` `` span of at most ``limit`` characters.

    A backtick inside would end the span early; it is shown as ``'``."""
    body = escape(text).replace("`", "'")
    return f"`{truncate(body, max(1, limit - 2))}`"


def _path_stub(path: str) -> str:
    stub = " ".join(unquote(path).strip("/").split())  # decoded slug, no newlines
    stub = stub.replace("|", "/")
    if slack_len(stub) > PATH_STUB_MAX:
        stub = _prefix(stub, PATH_STUB_MAX - 1).rstrip() + ELLIPSIS
    return stub


def _host_and_path(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.removeprefix("www."), parts.path


def link_label(url: str, with_path: bool = False) -> str | None:
    """The label a link shows, plain: the URL's own host, with a stub of its path when
    asked (``syriahr.com/ar/مقتل-30…``); ``None`` when ``url`` is not an http(s) URL."""
    found = _host_and_path(url)
    if found is None:
        return None
    host, path = found
    stub = _path_stub(path) if with_path else ""
    return f"{host}/{stub}" if stub else host


def safe_link(url: str, with_path: bool = False) -> str:
    """A link we vouch for: http(s) only, the label is the URL's own host (and, with
    ``with_path``, a stub of its path).

    Anything else (``javascript:``, ``slack://``, text that is not a URL) is shown as
    escaped plain text, never as a clickable link; so is a link whose target is longer than
    :data:`URL_MAX` (its label only).
    """
    raw = url.strip()
    found = _host_and_path(raw)
    if found is None:
        return truncate(escape(raw), PLAIN_URL_MAX)
    host, path = found
    shown = escape(host)
    stub = _path_stub(path) if with_path else ""
    if stub:  # an Arabic slug is isolated, so the host stays on the left
        shown += "/" + isolate_rtl(escape(stub))
    target = escape(raw).replace("|", "%7C").replace(" ", "%20")
    if slack_len(target) > URL_MAX:
        return shown
    return f"<{target}|{shown}>"
