"""Corrections → evaluation cases (pure): ``marsad feedback export``.

Why: a reader who says "the toll is 25, not 30" or "this is not an incident" has labelled an
article; written in the evaluation sets' formats, the correction becomes a case the extractor
is scored on next time.

What can be exported honestly. A correction knows its alert, and the alert (remembered by the
action store) carries the incident as the stream read it — figures, place, sides, date, the
Arabic evidence sentence, the article ids, sources and links — but not the articles' titles or
texts. So each case names the article by id with ``title``, ``text`` and ``published_at``
null: the text is joined from wherever the articles are kept (the archive ``marsad replay``
reads, the desk's store) before the case is scored. The gold part is what the reader decided,
about this one incident only: ``tallies`` is null (not reviewed) and ``notes`` says so, since
the article may tell other incidents and totals nobody looked at.

* **Wrong toll** → one gold-set line (``../shared/GOLD-CONVENTIONS.md``) per article of the
  incident: the incident with the corrected ``killed``/``injured`` (an empty figure in the
  modal is ``null``, "not reported"), ``max_incident_killed`` from it.
* **Not an incident** → one line per article with no incidents (``max_incident_killed``
  null): nothing in it should have fired.
* **Duplicate of…** is about merging, not reading: with ``--merges``, one merge-set line
  (``tests/fixtures/merge/``) per article of both alerts' incidents, all with the same
  ``gold.event``.

Every line carries ``correction``: who, when, the alert and incident ids, the note, and the
incident's evidence, sources and links, so a reviewer can check the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from alerts.interactive.actions import Correction
from marsad.records import Alert, StoredIncident

#: what ``notes`` says about the parts of the article nobody reviewed
PARTIAL_NOTE = (
    "From a desk correction of one incident; other incidents and tallies of the article were "
    "not reviewed."
)


def _provenance(c: Correction, inc: StoredIncident | None) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "alert_id": c.alert_id,
        "incident_id": c.incident_id,
        "user": c.user,
        "at": c.at.isoformat(),
        "note": c.note,
        "duplicate_of": c.duplicate_of,
        "evidence": inc.evidence if inc else "",
        "sources": list(inc.sources) if inc else [],
        "urls": list(inc.urls) if inc else [],
    }


def gold_incident(inc: StoredIncident, killed: int | None, injured: int | None) -> dict[str, Any]:
    """An incident in the gold sets' shape, with the corrected figures."""
    return {
        "killed": killed,
        "injured": injured,
        "admin1": inc.location.admin1 if inc.location else None,
        "perpetrator": inc.perpetrator,
        "targets": list(inc.targets),
        "event_type": inc.event_type,
        "sub_event_type": inc.sub_event_type,
        "occurred_on": inc.occurred_on.isoformat() if inc.occurred_on else None,
        "background": inc.background,
    }


def _article(article_id: str, inc: StoredIncident) -> dict[str, Any]:
    return {
        "id": article_id,
        "title": None,
        "text": None,
        "published_at": None,
        "source": inc.sources[0] if len(inc.sources) == 1 else None,
        "url": inc.urls[0] if len(inc.urls) == 1 and len(inc.article_ids) == 1 else None,
    }


def _notes(c: Correction) -> str:
    return f"{PARTIAL_NOTE} {c.note}".strip() if c.note else PARTIAL_NOTE


def gold_lines(
    corrections: Iterable[Correction], alert_of: Callable[[str], Alert | None]
) -> Iterator[dict[str, Any]]:
    """Gold-set lines for the wrong-toll and not-an-incident corrections (the newest
    correction of an article wins: a later reader revises an earlier one)."""
    lines: dict[str, dict[str, Any]] = {}
    for c in corrections:
        if c.kind == "duplicate":
            continue
        alert = alert_of(c.alert_id)
        inc = alert.incident if alert else None
        if inc is None:
            continue  # a window alert, or one forgotten: no incident to label
        if c.kind == "wrong_toll":
            incidents = [gold_incident(inc, c.killed, c.injured)]
            top = None if inc.background else c.killed
        else:
            incidents, top = [], None
        for article_id in c.article_ids or tuple(inc.article_ids):
            lines[article_id] = {
                **_article(article_id, inc),
                "gold": {
                    "incidents": incidents,
                    "tallies": None,
                    "max_incident_killed": top,
                    "notes": _notes(c),
                },
                "correction": _provenance(c, inc),
            }
    yield from lines.values()


def merge_lines(
    corrections: Iterable[Correction], alert_of: Callable[[str], Alert | None]
) -> Iterator[dict[str, Any]]:
    """Merge-set lines for the duplicate corrections: both alerts' articles, one event."""
    for c in corrections:
        if c.kind != "duplicate" or not c.duplicate_of:
            continue
        event = "desk:" + min(c.alert_id, c.duplicate_of)
        for alert_id in (c.alert_id, c.duplicate_of):
            alert = alert_of(alert_id)
            inc = alert.incident if alert else None
            if inc is None:
                continue
            for article_id in inc.article_ids:
                yield {
                    **_article(article_id, inc),
                    "gold": {"event": event, "notes": c.note},
                    "correction": _provenance(c, inc),
                }
