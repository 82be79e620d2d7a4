from stream.extract.places import Gazetteer, build_gazetteer, find_places, most_specific
from tests.unit.extract.conftest import words_of

ENTRIES = [
    {
        "name_en": "Homs Governorate",
        "aliases_ar": ["محافظة حمص", "ريف حمص"],
        "kind": "governorate",
        "admin1": "SY-HI",
        "country": "SY",
        "lat": 34.7,
        "lon": 37.5,
    },
    {
        "name_en": "Deir ez-Zor Governorate",
        "aliases_ar": ["محافظة دير الزور"],
        "kind": "governorate",
        "admin1": "SY-DY",
        "country": "SY",
        "lat": 35.0,
        "lon": 40.5,
    },
    {
        "name_en": "Homs",
        "aliases_ar": ["حمص", "مدينة حمص"],
        "kind": "city",
        "admin1": "SY-HI",
        "country": "SY",
        "lat": 34.73,
        "lon": 36.72,
    },
    {
        "name_en": "Deir ez-Zor",
        "aliases_ar": ["دير الزور"],
        "kind": "city",
        "admin1": "SY-DY",
        "country": "SY",
        "lat": 35.33,
        "lon": 40.14,
    },
    {
        "name_en": "Al-Quryatayn",
        "aliases_ar": ["القريتين"],
        "kind": "town",
        "admin1": "SY-HI",
        "country": "SY",
        "lat": 34.23,
        "lon": 37.24,
    },
    {
        "name_en": "Khanasir",
        "aliases_ar": ["خناصر"],
        "kind": "town",
        "admin1": "SY-HL",
        "country": "SY",
        "lat": 35.78,
        "lon": 37.5,
    },
    {
        "name_en": "Ithriya",
        "aliases_ar": ["أثريا"],
        "kind": "village",
        "admin1": "SY-HM",
        "country": "SY",
        "lat": 35.5,
        "lon": 37.4,
    },
    {
        "name_en": "Hama",
        "aliases_ar": ["حماة"],
        "kind": "city",
        "admin1": "SY-HM",
        "country": "SY",
        "lat": 35.13,
        "lon": 36.75,
    },
]


def gaz() -> Gazetteer:
    return build_gazetteer(ENTRIES)


def places(text: str) -> list[tuple[str, str | None]]:
    return [(m.place.name_en, m.place.admin1) for m in find_places(words_of(text), gaz())]


def test_rural_and_desert_words_lift_a_city_to_its_governorate() -> None:
    assert places("في بادية دير الزور") == [("Deir ez-Zor Governorate", "SY-DY")]
    assert places("بريف حمص الشرقي") == [("Homs Governorate", "SY-HI")]


def test_dual_province_words_lift_both_names() -> None:
    assert places("في باديتي حمص ودير الزور") == [
        ("Homs Governorate", "SY-HI"),
        ("Deir ez-Zor Governorate", "SY-DY"),
    ]
    assert places("في ريفي دير الزور وحمص") == [
        ("Deir ez-Zor Governorate", "SY-DY"),
        ("Homs Governorate", "SY-HI"),
    ]


def test_most_specific_place_wins() -> None:
    found = find_places(words_of("في بادية حمص قرب بلدة القريتين"), gaz())
    best = most_specific(found)
    assert best is not None and best.place.name_en == "Al-Quryatayn"


def test_a_bearing_from_a_city_is_not_the_place() -> None:
    found = find_places(words_of("قرب أثريا شرقي حماة"), gaz())
    best = most_specific(found)
    assert best is not None and best.place.name_en == "Ithriya"  # Hama's governorate confirms it


def test_a_place_between_two_places_is_around_the_middle() -> None:
    """ "على الطريق بين خناصر وأثريا", "بين بلدتي X وY": the line between them, in the
    second one's governorate; two ends too far apart for one line are a namesake misread
    and stay two places."""
    from stream.extract.places import gazetteer

    found = find_places(words_of("على الطريق بين خناصر وأثريا شرقي حماة"), gazetteer())
    best = most_specific(found)
    assert best is not None and best.place.name_en == "between Khanasir and Ithriya"
    assert best.around and best.place.admin1 == "SY-HM"
    assert [(m.place.name_en, m.reference) for m in found[1:3]] == [
        ("Khanasir", True),
        ("Ithriya", True),
    ]
    far = find_places(words_of("بين البوكمال ودرعا"), gazetteer())
    assert [m.place.name_en for m in far] == ["Al-Bukamal", "Daraa"]


def test_the_real_gazetteer_loads_with_governorates() -> None:
    from stream.extract.places import gazetteer

    g = gazetteer()
    assert {"SY-DY", "SY-HI", "IQ-AN"} <= set(g.governorates)


def test_a_town_told_by_its_bearing_from_a_city_elsewhere_is_no_namesake() -> None:
    """ "السيدة زينب جنوب دمشق": Damascus (SY-DI) is a bearing, not the container of a
    namesake, so the town (SY-RD) is the place."""
    from stream.extract.places import gazetteer

    found = find_places(words_of("انفجار في بلدة السيدة زينب جنوب دمشق"), gazetteer())
    best = most_specific(found)
    assert best is not None and (best.place.name_en, best.place.admin1) == (
        "Sayyida Zaynab",
        "SY-RD",
    )
    contained = most_specific(find_places(words_of("في حي الخالدية بمدينة حلب"), gazetteer()))
    assert contained is not None and contained.place.admin1 == "SY-HL"


def _real(text: str) -> list[tuple[str, str | None, bool]]:
    from stream.extract.places import gazetteer

    return [
        (m.place.name_en, m.place.admin1, m.around)
        for m in find_places(words_of(text), gazetteer())
    ]


def test_the_desert_of_a_town_is_around_the_town_not_its_whole_governorate() -> None:
    """ "بادية الرصافة" is the country around Al-Rusafa; "بادية حمص" is still the
    governorate (a seat's countryside), and so is each of two seats in the dual."""
    assert _real("في بادية الرصافة") == [("Al-Rusafa", "SY-RA", True)]
    assert _real("في بادية حمص") == [("Homs Governorate", "SY-HI", False)]
    assert _real("في ريفي حمص وحماة") == [
        ("Homs Governorate", "SY-HI", False),
        ("Hama Governorate", "SY-HM", False),
    ]


def test_a_bearing_from_a_town_is_around_it() -> None:
    assert _real("في البادية جنوب مدينة تدمر") == [("Palmyra", "SY-HI", True)]


def test_the_eastern_countryside_of_a_seat_is_its_governorate() -> None:
    """ "في الريف الشرقي لدير الزور" names the province as "ريف دير الزور الشرقي" does."""
    assert _real("في الريف الشرقي لدير الزور") == [("Deir ez-Zor Governorate", "SY-DY", False)]


def test_a_local_outlets_name_is_not_a_place_of_the_event() -> None:
    found = find_places(words_of("وقال مراسل دير الزور 24 إن الهجوم وقع في حسرات"), gaz())
    assert [m.reference for m in found if m.place.name_en == "Deir ez-Zor"] == [True]


def test_a_dateline_is_where_the_outlet_wrote_from() -> None:
    """ "أربيل (كوردستان 24)-" and "بغداد - واع" open the text: not the event's place, but
    the report's governorate when it names no other place."""
    from stream.extract.places import article_governorate, gazetteer

    erbil = find_places(
        words_of("أربيل (كوردستان 24)- قتل ضابطان قرب دبس شمال غرب كركوك"), gazetteer()
    )
    first = erbil[0]
    assert (first.place.name_en, first.reference, first.dateline) == ("Erbil", True, True)
    best = most_specific(erbil)
    assert best is not None and best.place.name_en == "Dibis"
    baghdad = find_places(
        words_of("بغداد - واع\\nاستهدفت طائرة مسيرة مركبة في حي المشتل"), gazetteer()
    )
    found = article_governorate(baghdad, gazetteer())
    assert found is not None and found.admin1 == "IQ-BG"


def test_a_dateline_may_name_the_outlet_after_a_colon_or_a_country() -> None:
    """ "الموصل: «الشرق الأوسط» -" and "الموصل، العراق (CNN) –": the outlet wrote from
    Mosul; the event is where the text then says."""
    from stream.extract.places import gazetteer

    for opening in ("الموصل: «الشرق الأوسط» -", "الموصل، العراق (CNN) –"):
        found = find_places(words_of(f"{opening} قتل جنديان بهجوم قرب تكريت"), gazetteer())
        assert [(m.place.name_en, m.reference) for m in found] == [
            ("Mosul", True),
            ("Tikrit", False),
        ], opening
    # a place that opens the text and goes on with its sentence is the event's
    found = find_places(words_of("الموصل، قتل جنديان بهجوم ليل أمس"), gazetteer())
    assert [(m.place.name_en, m.reference) for m in found] == [("Mosul", False)]


def test_where_the_aircraft_came_from_is_not_the_place() -> None:
    """ "شن عدواناً انطلاقاً من اتجاه منطقة التنف استهدف مباني داخل تدمر": Palmyra."""
    from stream.extract.places import gazetteer

    text = "شن العدو عدواناً جوياً انطلاقاً من اتجاه منطقة التنف، استهدف مباني داخل تدمر"
    found = find_places(words_of(text), gazetteer())
    assert [(m.place.name_en, m.reference) for m in found] == [
        ("Al-Tanf", True),
        ("Palmyra", False),
    ]


def test_a_place_naming_an_office_is_its_affiliation() -> None:
    """ "أعلنت مديرية صحة حماة أن … في محيط مدينة مصياف": the strike was near Masyaf."""
    from stream.extract.places import gazetteer

    text = "أعلنت مديرية صحة حماة أن أربعة مواطنين قتلوا في محيط مدينة مصياف"
    found = find_places(words_of(text), gazetteer())
    best = most_specific(found)
    assert [m.reference for m in found] == [True, False]
    assert best is not None and best.place.name_en == "Masyaf"
    # a security directorate, told after its title: "مدير الأمن العام باللاذقية"
    text = "قال مدير الأمن العام باللاذقية إن مسلحين هاجموا حواجز في مدينة جبلة"
    best = most_specific(find_places(words_of(text), gazetteer()))
    assert best is not None and best.place.name_en == "Jableh"
    # a government named by its capital: "قوات حكومة دمشق"
    text = "قتل خمسة من قوات حكومة دمشق بقصف مسيرة تركية جنوب القامشلي"
    best = most_specific(find_places(words_of(text), gazetteer()))
    assert best is not None and best.place.name_en == "Qamishli"


def test_bearings_told_every_way_are_around_the_town() -> None:
    for text in (
        "على بعد 15 كيلومتراً جنوب مدينة كوباني",
        "إلى الجنوب من كوباني",
        "في الجنوب الشرقي لكوباني",
    ):
        assert _real(text) == [("Kobani", "SY-HL", True)], text


def test_a_road_named_for_a_town_is_around_it() -> None:
    """ "على طريق السخنة": near Al-Sukhnah, not in it."""
    assert _real("كمين على طريق السخنة") == [("Al-Sukhnah", "SY-HI", True)]


def test_a_road_between_two_towns_is_around_its_middle() -> None:
    """ "طريق دمشق – السويداء": one place, the road; its ends stay as references (not
    around), so their governorates still count as the report's."""
    from stream.extract.places import gazetteer

    for text in ("كمين على طريق دمشق – السويداء", "على أوتوستراد دمشق - السويداء الدولي"):
        found = find_places(words_of(text), gazetteer())
        road, *ends = found
        assert (road.place.name_en, road.around, road.place.kind) == (
            "Damascus–As-Suwayda road",
            True,
            "road",
        ), text
        assert [(m.place.name_en, m.around, m.reference) for m in ends] == [
            ("Damascus", False, True),
            ("As-Suwayda", False, True),
        ], text
        damascus, suwayda = (m.place for m in ends)
        assert road.place.lat is not None and damascus.lat is not None and suwayda.lat is not None
        assert min(damascus.lat, suwayda.lat) < road.place.lat < max(damascus.lat, suwayda.lat)
        assert road.place.admin1 == "SY-SU", road.place.admin1  # the destination's
    # "الطريق الدولي حماة – حمص": the road's epithet between it and its towns
    found = find_places(words_of("قصف على الطريق الدولي حماة – حمص"), gazetteer())
    assert (found[0].place.kind, found[0].around) == ("road", True)
    # two towns not joined by a road word stay two places
    assert [n for n, *_ in _real("في دمشق والسويداء")] == ["Damascus", "As-Suwayda"]


def test_a_name_repeated_in_parentheses_keeps_how_it_was_told() -> None:
    assert _real("في ريف عين العرب (كوباني)") == [("Kobani", "SY-HL", True)] * 2


def test_a_name_that_is_also_a_common_word_is_a_place_only_where_one_is_expected() -> None:
    """ "قافلة احتجاجية سلمية" is a peaceful convoy, not Al-Salamiyah; "في سلمية", "بادية
    سلمية", "بسلمية", "غربي القائم" and a dateline are the places."""
    assert [n for n, *_ in _real("قصف على قافلة احتجاجية سلمية قرب سد تشرين")] == ["Tishreen Dam"]
    assert _real("الحكومة القائم عملها") == []
    for text in ("اشتباكات في سلمية", "في بادية سلمية الشرقية", "قصف بسلمية", "القائم - واع"):
        assert [n for n, *_ in _real(text)] in (["Al-Salamiyah"], ["Al-Qaim"]), text
    assert [n for n, *_ in _real("غربي القائم")] == ["Al-Qaim"]
    # Baghdad's quarters named by common words: "الدورة البرلمانية" is a session
    assert _real("خلال الدورة البرلمانية الحالية") == []
    assert _real("انفجار عبوة في الدورة جنوبي بغداد")[0][0] == "Al-Dora"
    assert [n for n, *_ in _real("تفجير في علوة جميلة")] == ["Jamila (Baghdad)"]


def test_a_dateline_after_the_outlets_desk_is_where_it_wrote_from() -> None:
    """ "مركز الأخبار – الحسكة": a desk name, a mark, then the place; a place after a mark
    further into the text is no dateline."""
    from stream.extract.places import gazetteer

    found = find_places(
        words_of("مركز الأخبار – الحسكة\nقتل مقاتل بانفجار لغم بالقرب من ناحية مركدة"),
        gazetteer(),
    )
    first = found[0]
    assert (first.place.name_en, first.dateline, first.reference) == ("Al-Hasakah", True, True)
    best = most_specific(found)
    assert best is not None and best.place.name_en.startswith("Markada")
    told = find_places(words_of("قتل ثلاثة عناصر في الهجوم – الحسكة"), gazetteer())
    assert not any(m.dateline for m in told)


def test_a_bearing_from_a_canton_is_around_its_city() -> None:
    """ "جنوب مقاطعة الحسكة": a bearing from the place, told through an admin noun."""
    from stream.extract.places import gazetteer

    (m,) = find_places(words_of("انفجر لغم جنوب مقاطعة الحسكة"), gazetteer())
    assert (m.place.name_en, m.reference, m.around) == ("Al-Hasakah", True, True)


def test_a_village_the_gazetteer_lacks_keeps_its_two_word_name() -> None:
    """ "قرية الشيخ محمد" and "قرية الشيخ حسن" are two villages: read as "الشيخ" alone, two
    strikes on them would be told at one place."""
    one = [n for n, *_ in _real("قصف على قرية الشيخ محمد")]
    two = [n for n, *_ in _real("قصف على قرية الشيخ حسن")]
    assert one == ["الشيخ محمد"] and two == ["الشيخ حسن"]
    assert [n for n, *_ in _real("قصف على قرية حزارين")] == ["حزارين"]
    # "حي سكني": a residential quarter, no name
    assert _real("سقطت قذيفة على حي سكني") == []


def test_the_ends_of_a_line_too_long_for_one_place_only_bound_it() -> None:
    """ "الخط الفاصل بين الرقة ودير الزور" (about 130 km): the two cities bound a line no
    event lies on; the event is at the mountain the report names."""
    from stream.extract.places import gazetteer

    text = "انفجر لغم قرب جبل البشري الممتد على الخط الفاصل بين الرقة ودير الزور"
    found = find_places(words_of(text), gazetteer())
    assert [(m.place.name_en, m.reference) for m in found] == [
        ("Jabal al-Bishri", False),
        ("Raqqa", True),
        ("Deir ez-Zor", True),
    ]
    best = most_specific(found)
    assert best is not None and best.place.name_en == "Jabal al-Bishri"


def test_where_people_came_from_is_not_the_place_nor_its_governorate() -> None:
    """ "تجمعات للزوار العائدين من كربلاء والنجف": both cities are where the pilgrims came
    from; the blasts that hit them in Sadr City are one place's event, not a wide one."""
    from stream.extract.places import gazetteer
    from tests.unit.extract.conftest import current, run

    text = (
        "هزت انفجارات مدينة الصدر شرقي بغداد، استهدفت تجمعات للزوار العائدين من كربلاء "
        "والنجف، ما أوقع عدداً من القتلى والجرحى."
    )
    found = find_places(words_of(text), gazetteer())
    assert [
        (m.place.name_en, m.away) for m in found if m.place.name_en in ("Karbala", "Najaf")
    ] == [
        ("Karbala", True),
        ("Najaf", True),
    ]
    (inc,) = current(run(text))
    assert inc.location is not None and inc.location.name_en == "Sadr City"


def test_a_street_named_after_a_city_is_no_mention_of_it() -> None:
    """ "شارع بغداد" in Damascus, "بشارع حلب" in Hama: the street's name, not the city (a
    report of a Damascus bombing read at Baghdad would be keyed to Iraq)."""
    assert [n for n, *_ in _real("انفجرت سيارة مفخخة عند ساحة التحرير في شارع بغداد")] == []
    assert [n for n, *_ in _real("سقطت قذيفة بشارع حلب في مدينة حماة")] == ["Hama"]
    assert [n for n, *_ in _real("انفجار في بغداد")] == ["Baghdad"]


def test_kiswah_is_a_place_where_a_place_is_expected_and_cloth_elsewhere() -> None:
    """ "الكسوة" is also a word (clothing, the Kaaba's cover): a town after a preposition
    ("على الكسوة", "قرب الكسوة") or with one attached, not in "توزيع الكسوة الشتوية"."""
    for text in ("غارات إسرائيلية على الكسوة", "قتلى قرب الكسوة", "انفجار بالكسوة"):
        assert [n for n, *_ in _real(text)] == ["Al-Kiswah"]
    assert _real("بدأ توزيع الكسوة الشتوية على الأسر") == []
