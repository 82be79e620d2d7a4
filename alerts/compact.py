"""Alert → the compact message of a review route (``style: compact`` in routing.yaml; pure).

Why a second layout: the review channel gets readings the extractor is unsure of. A reviewer
checks one thing — is this reading right? — and needs the toll, the place, the date, why it is
under review (its confidence and the signals behind it) and the report to check against, in
one glance; the full alert's header, Arabic summary, field grid and evidence quote are for a
desk acting on an event. So: one section, then the desk's part (status and buttons,
:func:`alerts.blocks.desk_blocks`) exactly as on a full alert, so a reviewer can correct or
dismiss the reading from the message. The fallback text and the metadata are the full
alert's (:func:`alerts.blocks.fallback_text`, :func:`alerts.blocks.metadata`): the notifier
finds its own posts after a crash the same way whatever the layout.

Words are data (``compact.yaml``); every value from upstream is escaped and capped before our
markup goes around it, and the report's link is built by :func:`alerts.mrkdwn.safe_link`;
where ``MARSAD_PUBLIC_URL`` is set, the section ends with the link to the incident's page on
the web desk (:func:`alerts.blocks.desk_link`), kept whole however long the rest is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from alerts import blocks
from alerts.labels import QUALIFIER_WORDS, governorate_name
from alerts.mrkdwn import code, escape, join_within, safe_link, slack_len, truncate
from marsad.records import Alert, StoredIncident

WORDS_FILE = Path(__file__).with_name("compact.yaml")
#: the line of signal names
SIGNALS_MAX = 600


@lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORDS_FILE.read_text("utf-8"))
    return loaded


def _figure(value: int | None, qualifier: str | None) -> str:
    return f"{QUALIFIER_WORDS.get(qualifier or '', '')}{value}"


def toll(inc: StoredIncident) -> str:
    if inc.killed is None:
        text = "toll not reported"
    else:
        text = f"*{_figure(inc.killed, inc.killed_qualifier)} killed*"
    if inc.injured:
        text += f", {_figure(inc.injured, inc.injured_qualifier)} injured"
    return text


def place(inc: StoredIncident) -> str:
    loc = inc.location
    if loc is None:
        return "place not reported"
    text = truncate(escape(loc.name_en or loc.name_ar), blocks.VALUE_MAX)
    gov = governorate_name(loc.admin1)
    if gov and gov != loc.name_en:
        text += f", {truncate(escape(gov), blocks.VALUE_MAX)}"
    return text


def why(inc: StoredIncident) -> str:
    """Its confidence, and the signals that set it, in words."""
    w = words()
    text = str(w["why"]).format(confidence=f"{inc.confidence:.2f}")
    named: dict[str, str] = w["signals"]
    shown = [truncate(escape(named.get(s, s)), blocks.ITEM_MAX) for s in inc.confidence_signals]
    if shown:
        text += f" ({w['signals_lead']}: {join_within(shown, ', ', SIGNALS_MAX)})"
    return text


def compact_text(alert: Alert, public_url: str = "") -> str:
    """The one section's mrkdwn (ending with the link to the desk, when there is one)."""
    parts = [str(words()["lead"])]
    if alert.merged_into:  # a twin's last revision: the reading lives on in another alert
        parts.append(f"merged into alert {code(alert.merged_into, blocks.VALUE_MAX)}")
    inc = alert.incident
    if inc is not None:
        parts += [toll(inc), place(inc), inc.occurred_on.isoformat() if inc.occurred_on else ""]
        parts.append(why(inc))
        if inc.urls:
            parts.append(safe_link(inc.urls[0], with_path=True))
    else:
        parts.append(truncate(escape(alert.summary_en or alert.rule), blocks.VALUE_MAX))
    parts.append(f"alert {code(alert.id, blocks.VALUE_MAX)}")
    link = blocks.desk_link(alert, public_url)
    tail = f" · {link}" if link else ""
    return truncate(" · ".join(p for p in parts if p), blocks.SECTION_MAX - slack_len(tail)) + tail


def render(
    alert: Alert, desk: blocks.Desk | None = None, public_url: str = ""
) -> blocks.SlackMessage:
    """The compact message for one alert revision (with the desk's part, where given, and
    the link to the desk when ``public_url`` is set)."""
    out: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": compact_text(alert, public_url)}}
    ]
    if desk is not None:
        out.extend(blocks.desk_blocks(alert, desk))
    return blocks.SlackMessage(
        text=blocks.fallback_text(alert),
        blocks=out,
        metadata=blocks.metadata(alert.id, alert.revision),
    )
