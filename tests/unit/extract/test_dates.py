from datetime import date

import pytest

from stream.extract.dates import find_dates
from stream.extract.lexicon import Lexicon
from tests.unit.extract.conftest import words_of

ANCHOR = date(2019, 6, 14)  # a Friday


def first(text: str, lex: Lexicon, anchor: date = ANCHOR) -> date | None:
    found = find_dates(words_of(text), lex, anchor)
    return found[0].value if found else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("في الـ 3 من أيار / مايو الجاري", date(2019, 5, 3)),
        ("في 3 مايو", date(2019, 5, 3)),
        ("في 3 أيار", date(2019, 5, 3)),
        ("في 20 تشرين الثاني / نوفمبر الفائت", date(2018, 11, 20)),
        ("منذ 11 كانون الثاني 2017", date(2017, 1, 11)),
        ("في 9 الشهر الماضي", date(2019, 5, 9)),
        ("أمس", date(2019, 6, 13)),
        ("فجر أمس الخميس", date(2019, 6, 13)),
        ("اليوم الجمعة", date(2019, 6, 14)),
        ("يوم أمس الأول", date(2019, 6, 12)),
        ("الثلاثاء الفائت", date(2019, 6, 11)),
        ("الجمعة الماضي", date(2019, 6, 7)),
    ],
)
def test_dates_resolve_against_publication(text: str, expected: date, lex: Lexicon) -> None:
    assert first(text, lex) == expected


def test_month_after_publication_means_last_year(lex: Lexicon) -> None:
    assert first("في 5 آب", lex) == date(2018, 8, 5)


def test_no_anchor_gives_no_relative_date(lex: Lexicon) -> None:
    found = find_dates(words_of("قتل أمس"), lex, None)
    assert found and found[0].value is None


def test_a_father_or_a_pick_up_is_not_august() -> None:
    """ "أب" (hamza) and "آب" (madda) normalize alike; only the written month is August."""
    from stream.extract.document import read
    from stream.extract.lexicon import lexicon

    def months(text: str) -> list[date | None]:
        return [d.value for d in read(text, date(2024, 9, 5), lexicon()).dates if d.kind == "month"]

    assert months("استهداف عجلة من نوع بيك أب في قضاء جوارتا") == []
    assert months("قتل أب وابنه بقصف") == []
    assert months("في آب الماضي") == [date(2024, 8, 1)]
