from stream.extract.actors import find_actors
from stream.extract.lexicon import Lexicon
from tests.unit.extract.conftest import words_of


def actors(text: str, lex: Lexicon) -> list[tuple[str, str | None]]:
    return [(a.code, a.role) for a in find_actors(words_of(text), lex)]


def test_aliases_with_clitics_and_construct_forms(lex: Lexicon) -> None:
    found = [c for c, _ in actors("اشتباكات بين قسد وعناصر داعش ولواء القدس وللحرس الثوري", lex)]
    assert found == ["SDF", "ISIS", "SYRIAN_GOV", "IRAN_BACKED"]


def test_the_regime_of_2011_2012_reports(lex: Lexicon) -> None:
    """ "القوات السورية" shelling Homs, "الشبيحة" entering a village: the regime's side."""
    assert ("SYRIAN_GOV", "attacker") in actors("قصف شنته القوات السورية ليلاً على حمص", lex)
    assert [c for c, _ in actors("دخلها مسلحون يعرفون بالشبيحة", lex)] == ["SYRIAN_GOV"]
    assert next(c for c, _ in actors("هاجمت قوات سوريا الديمقراطية مواقع داعش", lex)) == "SDF"


def test_the_organisation_resolves_to_the_one_named_before(lex: Lexicon) -> None:
    codes = [c for c, _ in actors("هاجمت هيئة تحرير الشام مواقع للنظام، وقال التنظيم إن", lex)]
    assert codes[-1] == "HTS"
    assert [c for c, _ in actors("نفذ التنظيم هجوماً", lex)] == ["ISIS"]


def test_the_commission_is_the_one_named_before_it(lex: Lexicon) -> None:
    """ "الهيئة" is HTS after "هيئة تحرير الشام" (or with nothing named), the Hashd after
    "هيئة الحشد الشعبي"; militias named in between do not capture it."""
    iraq = "أصيب خمسة من منتسبي هيئة الحشد الشعبي بهجوم لداعش على أحد أفواج الهيئة"
    assert [c for c, _ in actors(iraq, lex)] == ["IRAN_BACKED", "ISIS", "IRAN_BACKED"]
    idlib = "هاجمت هيئة تحرير الشام مواقع الميليشيات الإيرانية، وقالت الهيئة إن"
    assert [c for c, _ in actors(idlib, lex)][-1] == "HTS"
    assert [c for c, _ in actors("قالت الهيئة إن مقاتليها صدوا الهجوم", lex)] == ["HTS"]


def test_attacker_by_verb_before_and_after(lex: Lexicon) -> None:
    assert ("ISIS", "attacker") in actors("شنت خلايا داعش هجوماً على حاجز", lex)
    assert ("ISIS", "attacker") in actors("تنظيم الدولة الإسلامية يهاجم مواقع", lex)
    assert ("TURKEY", "attacker") in actors("بقصف مدفعي شنه الجيش التركي", lex)


def test_target_and_partner(lex: Lexicon) -> None:
    assert ("SYRIAN_GOV", "target") in actors("هجوم على مواقع قوات النظام", lex)
    assert ("SDF", "partner") in actors("قتل عنصر في اشتباك مع قسد", lex)


def test_a_patron_is_not_a_party(lex: Lexicon) -> None:
    codes = [c for c, _ in actors("الفصائل الموالية لتركيا", lex)]
    assert "TURKEY" not in codes


def test_the_killed_are_not_attackers(lex: Lexicon) -> None:
    assert ("SYRIAN_GOV", "attacker") not in actors("عناصر قوات النظام الذين قتلوا", lex)


def test_the_party_that_tells_the_event_is_its_speaker(lex: Lexicon) -> None:
    assert ("@STATE", "speaker") in actors("أعلنت وزارة الدفاع مقتل أربعة عسكريين", lex)
    assert ("SDF", "speaker") in actors("وقالت قسد في بيان إن الهجوم", lex)
    # "بين" is also "between", and a group publishing its own attack is still a side
    assert ("SYRIAN_GOV", "speaker") not in actors("قصف متبادل بين قوات النظام وقسد", lex)
    assert ("ISIS", "speaker") not in actors("نشر تنظيم داعش إصداراً يظهر إعدام عنصرين", lex)


def test_an_aggression_names_its_attacker(lex: Lexicon) -> None:
    """ "العدوان الإسرائيلي": government media call a strike an aggression."""
    assert ("ISRAEL", "attacker") in actors("ارتفاع عدد شهداء العدوان الإسرائيلي على مصياف", lex)
    assert ("ISRAEL", "attacker") not in actors("عن العدو الإسرائيلي في الجولان", lex)


def test_the_passengers_of_a_bus_are_its_target(lex: Lexicon) -> None:
    """ "حافلة تقل عناصر من قوات النظام": carried, so attacked, not attacking."""
    assert ("SYRIAN_GOV", "target") in actors("كمين لحافلة تقل عناصر من قوات النظام", lex)
