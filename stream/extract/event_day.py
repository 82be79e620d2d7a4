"""The day an incident happened, when the sentence that counts it only says when it was told.

Official statements and agency copy open with the day of the statement ("أعلنت خلية الإعلام
الأمني، اليوم الأحد، استشهاد ضابطين", "بحسب ما أفاد مصدر أمني اليوم الاثنين") and give the
event's own day in a later sentence that adds no toll and no place of its own ("وأوضح المصدر
أن الهجوم وقع مساء السبت", "نفذت يوم 12 أغسطس الجاري ضربة جوية"). Read alone, the first
sentence dates the attack a day or two late, which is enough to keep it from the other
outlets' reports of the same event.

:func:`event_day` gives an article's only current incident the day told elsewhere in the
article when the incident has no day, or only a day told with a speech verb, and the rest of
the article (the incident's own clauses, and clauses no tally or other incident holds) names
exactly one other day, on or before
the incident's, within :data:`RECENT_DAYS` of publication. Anything less clear keeps the day
the incident was read with.
"""

from __future__ import annotations

from datetime import date

from stream.extract.assemble import Assembled
from stream.extract.dates import DateMention
from stream.extract.document import PUNCT, Document
from stream.extract.lexicon import Lexicon, prefix_forms

#: a day further back than this from publication is recalled, not this report's event
RECENT_DAYS = 3
#: how many words before a day a speech verb may stand ("أعلنت خلية الإعلام الأمني، اليوم")
SPEECH_REACH = 6


def told_with_speech(doc: Document, d: DateMention, lex: Lexicon) -> bool:
    """The day is when somebody spoke: a speech verb a few words before it, in its sentence,
    with no event or toll word between ("أفاد مصدر أمني كوردي اليوم الاثنين")."""
    sentence = doc.sentences[doc.clause_sentence[doc.clause_of(d.start)]]
    seen = 0
    for k in range(d.start - 1, sentence.start - 1, -1):
        word = doc.words[k]
        if word in PUNCT:
            continue
        if set(prefix_forms(word)) & lex.words.speech_verbs:
            return True
        if any(m.start <= k < m.end for m in doc.events) or any(
            r.start <= k < r.end for r in doc.roles
        ):
            return False
        seen += 1
        if seen >= SPEECH_REACH:
            return False
    return False


def _days(doc: Document, clauses: set[int]) -> list[DateMention]:
    return [
        d
        for d in doc.dates
        if d.value is not None
        and d.kind not in ("month", "year")
        and doc.clause_of(d.start) in clauses
    ]


def event_day(
    doc: Document,
    inc: Assembled,
    others: list[Assembled],
    tally_clauses: set[int],
    lex: Lexicon,
) -> date | None:
    """The incident's day: its own, unless it has none or only a spoken one and the article
    tells one other recent day, in the incident's clauses or in clauses no tally and no other
    incident holds."""
    if inc.background or doc.anchor is None:
        return inc.date
    own = [d for d in _days(doc, set(inc.clauses)) if d.value == inc.date]
    if inc.date is not None and not (own and all(told_with_speech(doc, d, lex) for d in own)):
        return inc.date
    taken = set(tally_clauses)
    for other in others:
        taken |= set(other.clauses)
    free = set(range(len(doc.clauses))) - taken  # its own clauses and those nobody read
    latest = inc.date or doc.anchor
    days = {
        d.value
        for d in _days(doc, free)
        if d.value is not None
        and d.value <= latest
        and (doc.anchor - d.value).days <= RECENT_DAYS
        and not told_with_speech(doc, d, lex)
    }
    return days.pop() if len(days) == 1 else inc.date
