"""Does a clause speak of a period (a tally) or of a time well before the report (a recall)?

Why here: a running total ("منذ الـ 22 من أيار", "خلال خمس سنوات", "بلغت حصيلة", "وبذلك
يرتفع") must never become an incident, and an event recalled weeks later must never alert
as news. Both are judgements about time words around a clause, kept apart from the reading
of events so each can be tested alone. "منذ فجر أمس" opens a continuing battle, not a period;
"الهجوم الأعنف منذ أشهر" is a comparison, not a period.
"""

from __future__ import annotations

from datetime import date, timedelta

from stream.extract.document import Document
from stream.extract.lexicon import Lexicon, prefix_forms
from stream.extract.segment import Clause


def since_is_recent(doc: Document, pos: int, lex: Lexicon) -> tuple[bool, date | None]:
    """After "منذ" at token ``pos``: does the period start recently (a continuing battle)?"""
    words = doc.words
    if any(set(prefix_forms(w)) & lex.words.until_words for w in words[pos + 2 : pos + 9]):
        return False, None  # "منذ 4 تشرين الأول حتى عصر اليوم": a period with both ends
    window = words[pos + 1 : pos + 5]
    recent_word = any(set(prefix_forms(w)) & lex.recent_since for w in window)
    q = next(iter(doc.within(doc.quantities, pos + 1, pos + 3)), None)
    if q is not None and q.end < len(words) and words[q.end] in lex.words.short_since_units:
        # "منذ 3 أيام", "منذ 48 ساعة": a battle still going on
        return q.value * lex.words.short_since_units[words[q.end]] <= 72, None
    if doc.within(doc.cues["single_event"], pos + 1, pos + 4):
        return True, None  # "منذ بدء الهجوم": since this attack began
    told = doc.within(doc.events, pos + 1, pos + 2)
    if told and told[0].value not in ("killing", "none"):
        # "منذ اقتحام تنظيم الدولة الحقل يوم أمس": since the event itself, told by its verbal
        # noun, with its own day a few words on
        day = next(iter(doc.within(doc.dates, pos + 2, pos + 10)), None)
        if day is not None and day.value is not None and doc.anchor is not None:
            return day.value >= doc.anchor - timedelta(days=3), day.value
    start = next(iter(doc.within(doc.dates, pos + 1, pos + 6)), None)
    start_value = start.value if start else None
    if recent_word:
        return True, start_value
    if start_value is not None and doc.anchor is not None:
        return start_value >= doc.anchor - timedelta(days=3), start_value
    return False, start_value


def _period_after_during(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "خلال خمس سنوات", "خلال 3 أشهر": a period of weeks or more."""
    words = doc.words
    for q in doc.within(doc.quantities, c.start, c.end):
        during = q.start > 0 and words[q.start - 1] in lex.words.during_words
        if during and q.end < len(words) and words[q.end] in lex.period_units:
            return True
    return False


def elapsed_recall(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "بعد نحو شهر على تفجير مماثل", "بعد أسبوعين من هجوم": weeks have passed since the
    event this clause names, so it is a recalled one, not today's."""
    words = doc.words
    for k in range(c.start, c.end - 2):
        if "بعد" not in prefix_forms(words[k]):
            continue
        for j in range(k + 1, min(k + 4, c.end - 1)):
            w = words[j]
            if w in lex.period_units or w in lex.words.dual_periods:
                return words[j + 1] in lex.words.elapsed_links
    return False


def ago(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "قبل أسبوع", "قبل نحو شهرين": a time well before today."""
    words = doc.words
    for k in range(c.start, c.end - 1):
        if "قبل" in prefix_forms(words[k]) and any(
            w in lex.words.ago_units for w in words[k + 1 : min(k + 4, c.end)]
        ):
            return True
    return False


def compared_since(doc: Document, start: int, end: int) -> set[int]:
    """Positions of "منذ" that close a comparison ("أعنف قصف … منذ عام 2020"), not a period.
    The superlative may stand ten words back ("في أعلى عدد من القتلى تخلفه غارات … منذ")."""
    return {
        m.start
        for m in doc.within(doc.cues["since"], start, end)
        if doc.within(doc.cues["superlatives"], m.start - 10, m.start)
    }


def clause_is_tally(doc: Document, ci: int, lex: Lexicon) -> tuple[bool, date | None]:
    c = doc.clauses[ci]
    since_date: date | None = None
    tally = False
    # "الهجوم الأعنف منذ أشهر", "أعنف قصف … منذ عام 2020": a comparison, not a period; and
    # "للمرة الثانية خلال أسبوع" counts attacks in the period, not its dead
    compared = compared_since(doc, c.start, c.end)
    for m in doc.within(doc.cues["since"], c.start, c.end):
        if m.start in compared:
            continue
        recent, start = since_is_recent(doc, m.start, lex)
        since_date = start
        if not recent:
            tally = True
    single = doc.has_cue("single_event", c.start, c.end)
    today = any(d.kind in ("relative", "weekday") for d in doc.within(doc.dates, c.start, c.end))
    cumulative = doc.has_cue("cumulative", c.start, c.end) and not today
    period_phrase = any(
        m.start not in compared and not doc.within(doc.cues["occurrences"], m.start - 3, m.start)
        for m in doc.within(doc.cues["tally"], c.start, c.end)
    )
    if (period_phrase or cumulative) and not single:
        tally = True
        if since_date is None:
            since_date = next(
                (d.value for d in doc.within(doc.dates, c.start, c.end) if d.value), None
            )
    report = doc.has_cue("period_report", c.start, c.end)
    if report or _period_after_during(doc, c, lex) or _during_named_period(doc, c, lex):
        tally = True
    return tally, since_date


def _during_named_period(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "خلال آذار الماضي", "خلال شهر آب", "خلال عام 2019": a whole month or year."""
    words = doc.words
    for k in range(c.start, c.end - 1):
        if words[k] not in lex.words.during_words:
            continue
        ahead = doc.within(doc.dates, k + 1, k + 4)
        if any(d.kind in ("month", "year") for d in ahead):
            return True
    return False


def old(d: date | None, anchor: date | None, days: int) -> bool:
    """The date lies more than ``days`` days before the report's anchor date."""
    return d is not None and anchor is not None and d < anchor - timedelta(days=days)
