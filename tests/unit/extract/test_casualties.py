"""Which numbers are casualty counts, of what kind and side, and which are parts."""

from stream.extract.casualties import find_casualties
from stream.extract.document import read
from stream.extract.lexicon import Lexicon


def found(text: str, lex: Lexicon) -> list[tuple[int, str, str | None, bool]]:
    doc = read(text, None, lex)
    return [(c.value, c.role, c.actor, c.part) for c in find_casualties(doc, lex)]


def test_killed_and_injured_in_one_phrase(lex: Lexicon) -> None:
    got = found("أسفر الهجوم عن مقتل 6 عناصر وإصابة ثلاثة آخرين من قوات النظام.", lex)
    assert got == [(6, "killed", "SYRIAN_GOV", False), (3, "injured", "SYRIAN_GOV", False)]


def test_number_then_casualty_noun(lex: Lexicon) -> None:
    got = found("وقع الانفجار موقعاً ثمانية قتلى وخمسة عشر جريحاً من المدنيين.", lex)
    assert [(v, r) for v, r, _, _ in got] == [(8, "killed"), (15, "injured")]


def test_singular_and_dual_nouns(lex: Lexicon) -> None:
    assert found("أدى القصف إلى مقتل طفل.", lex)[0][:2] == (1, "killed")
    assert found("استشهد جنديان في الهجوم.", lex)[0][:2] == (2, "killed")
    assert found("قتل رجل وزوجته بقذيفة.", lex)[:2] == [
        (1, "killed", None, False),
        (1, "killed", None, False),
    ]


def test_execution_and_capture(lex: Lexicon) -> None:
    got = found("أعدم التنظيم ثلاثة عناصر من قسد كان قد أسرهم.", lex)
    assert got[0][:3] == (3, "executed", "SDF")


def test_breakdown_numbers_are_parts(lex: Lexicon) -> None:
    text = (
        "ارتفع إلى 35 عدد قتلى قوات النظام هم 20 من السوريين، و9 من لواء فاطميون، "
        "والبقية من حزب الله."
    )
    got = found(text, lex)
    assert got[0][:2] == (35, "killed") and not got[0][3]
    assert all(part for _, _, _, part in got[1:])


def test_new_count_after_comma_is_not_a_part(lex: Lexicon) -> None:
    got = found("مقتل 7 عناصر من قسد بينهم قيادي، ومقتل 4 من مقاتلي داعش.", lex)
    mains = [(v, a) for v, _, a, part in got if not part]
    assert mains == [(7, "SDF"), (4, "ISIS")]


def test_number_right_after_among_them_is_a_part_of_an_earlier_count(lex: Lexicon) -> None:
    got = found("نقلت فرق الإسعاف الجرحى إلى المشفى، بينهم ثلاثة أطفال.", lex)
    assert got and all(part for *_, part in got)


def test_non_casualty_numbers(lex: Lexicon) -> None:
    text = (
        "تقدمت قوات اللواء 105 مسافة 12 كلم خلال 36 ساعة في عام 2016، ورصدت 40 مليون دولار "
        "وأطلقت 300 قذيفة على 5 قرى، في الصفحة 7."
    )
    assert found(text, lex) == []


def test_a_year_followed_by_persons_is_a_count(lex: Lexicon) -> None:
    assert found("قتل 2011 عنصراً من الميليشيات خلال الحرب.", lex)[0][:2] == (2011, "killed")


def test_rising_toll_without_a_casualty_word_is_killed(lex: Lexicon) -> None:
    got = found("وتواصلت الاشتباكات، حيث ارتفع إلى 17 على الأقل من عناصر التنظيم.", lex)
    assert got[0][:3] == (17, "killed", "ISIS")
