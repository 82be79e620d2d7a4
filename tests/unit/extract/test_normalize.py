from stream.extract.normalize import norm, normalize


def test_letters_digits_and_diacritics_are_canonical() -> None:
    n = normalize("قُتِلَ ٣ مدنيين وأُصيب ۱۲ آخرون في الرقة")
    assert n.text == "قتل 3 مدنيين واصيب 12 اخرون في الرقه"


def test_alef_maksura_and_teh_marbuta() -> None:
    assert norm("قتلى على بلدة") == "قتلي علي بلده"


def test_tatweel_prefix_before_number_is_dropped() -> None:
    assert norm("في الـ 14 من تموز") == "في 14 من تموز"


def test_detached_clitic_rejoins_its_word() -> None:
    assert norm("بهجوم لـ قوات النظام") == "بهجوم لقوات النظام"
    assert norm('مواقع لـ"قسد"') == "مواقع لقسد"


def test_curly_quotes_are_removed() -> None:
    assert norm("تنظيم “داعش” و«النصرة»") == "تنظيم داعش والنصره"


def test_offsets_map_back_to_original_text() -> None:
    original = "قُتل ١٥ عنصراً من “قسد”"
    n = normalize(original)
    start = n.text.index("15")
    assert n.original_slice(start, start + 2) == "١٥"
    start = n.text.index("قسد")
    assert n.original_slice(start, start + 3) == "قسد"


def test_fast_path_equals_the_character_loop_on_every_fixture_text() -> None:
    """The translate-based fast path must give exactly the loop's text and offset map."""
    import json
    from pathlib import Path

    from stream.extract.normalize import _normalize_loop, _normalize_simple

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    texts = [
        json.loads(line)["text"]
        for name in ("dev_gold.jsonl", "dev_gold_2.jsonl")
        for line in (fixtures / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts.append("قُتل ٣٤ عنصراً — «مدنيون» في الرقّة، ۱۲ جريحاً\u200f!")
    checked = 0
    for text in texts:
        fast = _normalize_simple(text)
        if fast is None:
            continue
        slow = _normalize_loop(text, set())
        assert (fast.text, fast.origin) == (slow.text, slow.origin)
        checked += 1
    assert checked >= len(texts) // 2
