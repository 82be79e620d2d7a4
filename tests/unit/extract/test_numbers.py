import pytest

from stream.extract.lexicon import Lexicon
from stream.extract.numbers import find_quantities
from tests.unit.extract.conftest import words_of


def values(text: str, lex: Lexicon) -> list[tuple[int, str | None]]:
    return [(q.value, q.qualifier) for q in find_quantities(words_of(text), lex)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مقتل 17 عنصراً", 17),
        ("مقتل ١٧ عنصراً", 17),
        ("مقتل سبعة عناصر", 7),
        ("مقتل تسعة مدنيين", 9),
        ("مقتل ثلاثة عشر مقاتلاً", 13),
        ("مقتل خمسة وعشرين شخصاً", 25),
        ("مقتل مئتين وخمسين عنصراً", 250),
        ("نزوح ثلاثة آلاف مدني", 3000),
        ("مقتل عنصرين", 2),
        ("قتيلان", 2),
        ("سقوط 1,200 قتيل", 1200),
        ("مقتل أحد عناصر الحاجز", 1),
    ],
)
def test_number_forms(text: str, expected: int, lex: Lexicon) -> None:
    assert values(text, lex)[0][0] == expected


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("مقتل نحو 30 عنصراً", "approx"),
        ("مقتل حوالي 30 عنصراً", "approx"),
        ("مقتل أكثر من 30 عنصراً", "more_than"),
        ("مقتل 30 على الأقل", "at_least"),
        ("مقتل ما لا يقل عن 30 عنصراً", "at_least"),
        ("مقتل العشرات من العناصر", "vague"),
    ],
)
def test_qualifiers(text: str, qualifier: str, lex: Lexicon) -> None:
    assert values(text, lex)[0][1] == qualifier


def test_vague_quantities_are_coded_conservatively(lex: Lexicon) -> None:
    assert values("سقوط عشرات القتلى", lex)[0] == (10, "vague")
    assert values("إصابة مئات المدنيين", lex)[0] == (100, "vague")
    assert values("نزوح آلاف العائلات", lex)[0] == (1000, "vague")


def test_conjunction_glued_to_number_word(lex: Lexicon) -> None:
    assert [v for v, _ in values("قتيل وثلاثة جرحى", lex)] == [3]


@pytest.mark.parametrize(
    "text",
    ["قتل عشرون عسكرياً من الفرقة السابعة عشرة", "في الذكرى الحادية عشرة قتل عشرون عسكرياً"],
)
def test_the_ten_of_a_compound_ordinal_is_no_count(text: str, lex: Lexicon) -> None:
    assert values(text, lex) == [(20, None)]


def test_a_cardinal_ten_still_counts(lex: Lexicon) -> None:
    assert values("قتل عشرون عسكرياً وأصيب عشرة آخرون", lex) == [(20, None), (10, None)]
