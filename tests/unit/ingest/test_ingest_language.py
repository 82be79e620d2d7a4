from ingest.language import detect_language


def test_arabic() -> None:
    assert detect_language("قصفت طائرات حربية مواقع في ريف المدينة صباح اليوم") == "ar"


def test_arabic_with_some_latin() -> None:
    assert detect_language("أعلنت وكالة AFP أن القصف استهدف مواقع عسكرية في المنطقة") == "ar"


def test_english_and_french() -> None:
    assert detect_language("Clashes broke out in the east of the city and the toll rose") == "en"
    assert detect_language("Des affrontements dans la ville et les environs du nord") == "fr"


def test_undetermined() -> None:
    assert detect_language("12345 !!! ---") == "und"
    assert detect_language("Xyzzy plugh") == "und"
