"""Dates in report prose, resolved against the article's publication date.

Absolute ("الـ 8 من حزيران / يونيو الجاري", "24 مارس/آذار 2019") with either month-name
system, month-only ("أواخر شهر تموز الفائت"), years ("منذ عام 2014"), and relative days
("أمس", "فجر أمس الجمعة", "اليوم الخميس", "الأحد الفائت").  A date without a year is the
latest such date not after publication: reports speak of the recent past.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from marsad.records import DateKind
from stream.extract.lexicon import Lexicon


@dataclass(frozen=True)
class DateMention:
    start: int  # token indices [start, end)
    end: int
    value: date | None
    kind: DateKind


def _year(words: list[str], i: int) -> int | None:
    tok = words[i] if i < len(words) else ""
    if tok.isdigit() and len(tok) == 4 and 1950 <= int(tok) <= 2100:
        return int(tok)
    return None


def _numeric_date(words: list[str], i: int) -> tuple[int, date] | None:
    """ "1/4/2024" (day/month/year, as Arabic reports write it) or "2024-04-01"."""
    if i + 4 >= len(words) or not words[i].isdigit():
        return None
    a, sep, b, sep2, c = words[i : i + 5]
    if sep != sep2 or sep not in ("/", "-") or not (b.isdigit() and c.isdigit()):
        return None
    if len(words[i]) == 4:
        year, month, day = int(words[i]), int(b), int(c)
    elif len(c) == 4:
        day, month, year = int(a), int(b), int(c)
    else:
        return None
    value = _safe_date(year, month, day) if 1 <= month <= 12 and 1 <= day <= 31 else None
    return (i + 5, value) if value is not None else None


def _infer_year(month: int, day: int, anchor: date | None) -> int | None:
    if anchor is None:
        return None
    year = anchor.year
    day = min(day, calendar.monthrange(year, month)[1])
    if date(year, month, day) > anchor + timedelta(days=1):
        year -= 1
    return year


def _safe_date(year: int | None, month: int, day: int) -> date | None:
    if year is None:
        return None
    day = max(1, min(day, calendar.monthrange(year, month)[1]))
    return date(year, month, day)


def _month_tail(
    words: list[str], j: int, lex: Lexicon, anchor: date | None
) -> tuple[int, int | None, bool]:
    """After a month name: skip "/ other month", past/current words, "من العام 2018".

    Returns (end index, explicit year or None, whether "the past" was said of the year).
    """
    n = len(words)
    if j < n and words[j] == "/":
        m = lex.months.match_at(words, j + 1)
        if m is not None:
            j = m.end
    past_year = False
    year: int | None = None
    for _ in range(6):
        if j >= n:
            break
        tok = words[j]
        if (
            tok in lex.past_words
            or tok in lex.current_words
            or (tok == "من" and j + 1 < n and words[j + 1] in lex.words.year_words)
        ):
            j += 1
        elif tok in lex.words.year_words:
            j += 1
            if j < n and words[j] in lex.past_words:
                past_year = True
                j += 1
            elif j < n and words[j] in lex.current_words:
                j += 1
        elif _year(words, j) is not None:
            year = _year(words, j)
            j += 1
            break
        else:
            break
    if year is None and past_year and anchor is not None:
        year = anchor.year - 1
    return j, year, past_year


def find_dates(words: list[str], lex: Lexicon, anchor: date | None) -> list[DateMention]:
    out: list[DateMention] = []
    n = len(words)
    i = 0
    while i < n:
        tok = words[i]
        numeric = _numeric_date(words, i)
        if numeric is not None:
            numeric_end, written = numeric
            if out and out[-1].kind == "weekday" and out[-1].end == i:
                out.pop()  # "الاثنين 1/4/2024": the written date, not the weekday's guess
            out.append(DateMention(i, numeric_end, written, "absolute"))
            i = numeric_end
            continue
        # day + month
        if tok.isdigit() and 1 <= int(tok) <= 31 and len(tok) <= 2:
            j = i + 1
            if j < n and words[j] == "من":
                j += 1
            if j < n and words[j] == "شهر":
                j += 1
            m = lex.months.match_at(words, j) if j < n else None
            if m is not None:
                end, year, _ = _month_tail(words, m.end, lex, anchor)
                if year is None:
                    year = _infer_year(m.value, int(tok), anchor)
                out.append(DateMention(i, end, _safe_date(year, m.value, int(tok)), "absolute"))
                i = end
                continue
            if j < n and words[j] in ("الشهر",) and j + 1 < n:
                rel = words[j + 1]
                if anchor is not None and (rel in lex.past_words or rel in lex.current_words):
                    first = anchor.replace(day=1)
                    base = (
                        (first - timedelta(days=1)).replace(day=1)
                        if rel in lex.past_words
                        else first
                    )
                    out.append(
                        DateMention(
                            i, j + 2, _safe_date(base.year, base.month, int(tok)), "absolute"
                        )
                    )
                    i = j + 2
                    continue
        # month without a day
        m = lex.months.match_at(words, i)
        if m is not None:
            day = 1
            start = i
            k = i - 1
            if k >= 0 and words[k] == "شهر":
                k -= 1
            if k >= 0 and words[k] in lex.words.month_parts:
                day = lex.words.month_parts[words[k]]
                start = k
            end, year, _ = _month_tail(words, m.end, lex, anchor)
            if year is None:
                year = _infer_year(m.value, day, anchor)
            out.append(DateMention(start, end, _safe_date(year, m.value, day), "month"))
            i = end
            continue
        # "مطلع العام الجاري", "منذ بداية العام الماضي"
        if (
            tok in lex.words.month_parts
            and i + 2 < n
            and words[i + 1] in lex.words.year_words
            and anchor is not None
        ):
            rel = words[i + 2]
            if rel in lex.current_words or rel in lex.past_words:
                year = anchor.year - (1 if rel in lex.past_words else 0)
                out.append(DateMention(i, i + 3, date(year, 1, 1), "year"))
                i += 3
                continue
        # a bare year: "عام 2014", "مطلع 2021"
        year = _year(words, i)
        if (
            year is not None
            and i > 0
            and (words[i - 1] in lex.words.year_words or words[i - 1] in lex.words.month_parts)
        ):
            out.append(DateMention(i - 1, i + 1, date(year, 1, 1), "year"))
            i += 1
            continue
        # relative days and weekdays
        r = lex.relative_days.match_at(words, i)
        w = lex.weekdays.match_at(words, i)
        if r is not None:
            end = r.end
            w2 = lex.weekdays.match_at(words, end) if end < n else None
            if w2 is not None:
                end = w2.end
            value = anchor + timedelta(days=r.value) if anchor else None
            out.append(DateMention(i, end, value, "relative"))
            i = end
            continue
        if w is not None:
            end = w.end
            past = end < n and words[end] in lex.past_words
            if past:
                end += 1
            value = None
            if anchor is not None:
                delta = (anchor.weekday() - w.value) % 7
                if past and delta == 0:
                    delta = 7
                value = anchor - timedelta(days=delta)
            out.append(DateMention(i, end, value, "weekday"))
            i = end
            continue
        i += 1
    return out
