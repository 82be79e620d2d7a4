"""Checks on the gazetteer `marsad/data/places.yaml`.

The extractor resolves every place name through this file, so a wrong admin1 code, a
coordinate in the wrong country or an alias owned by two entries silently misplaces
incidents. These tests catch such data errors before they reach an alert.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from marsad.geography import boundaries

PLACES_PATH = Path(__file__).resolve().parents[3] / "marsad" / "data" / "places.yaml"

REQUIRED_KEYS = {"name_en", "aliases_ar", "kind", "admin1", "country", "lat", "lon"}

KINDS = {
    "governorate",
    "district",
    "subdistrict",
    "city",
    "town",
    "village",
    "oil_field",
    "gas_field",
    "base",
    "airport",
    "dam",
    "crossing",
    "desert",
    "mountain",
    "station",
    "region",
    "river",
    "neighbourhood",
}


#: Natural Earth's admin-1 outlines (marsad.geography), a source independent of the gazetteer
def _codes(country: str) -> set[str]:
    return {
        f["properties"]["admin1"]
        for f in boundaries()["features"]
        if f["properties"]["country"] == country
    }


SYRIAN_GOVERNORATES = _codes("SY")
IRAQI_GOVERNORATES = _codes("IQ")
LEBANESE_GOVERNORATES = {"LB-AK", "LB-AS", "LB-BA", "LB-BH", "LB-BI", "LB-JA", "LB-JL", "LB-NA"}
TURKISH_PROVINCES = {"TR-01", "TR-27", "TR-31", "TR-47", "TR-63", "TR-73", "TR-79"}
JORDANIAN_GOVERNORATES = {
    "JO-AJ",
    "JO-AM",
    "JO-AQ",
    "JO-AT",
    "JO-AZ",
    "JO-BA",
    "JO-IR",
    "JO-JA",
    "JO-KA",
    "JO-MA",
    "JO-MD",
    "JO-MN",
}
KNOWN_ADMIN1 = (
    SYRIAN_GOVERNORATES
    | IRAQI_GOVERNORATES
    | LEBANESE_GOVERNORATES
    | TURKISH_PROVINCES
    | JORDANIAN_GOVERNORATES
)
ADMIN1_PATTERN = re.compile(r"^(SY|IQ|LB|TR|JO)-[A-Z0-9]{1,3}$")

# (lat_min, lat_max, lon_min, lon_max), generous by a few hundredths of a degree.
COUNTRY_BOXES = {
    "SY": (32.30, 37.35, 35.60, 42.40),
    "IQ": (29.05, 37.40, 38.75, 48.65),
    "LB": (33.05, 34.70, 35.10, 36.65),
    "TR": (35.80, 42.15, 25.60, 44.85),
    "JO": (29.15, 33.40, 34.90, 39.35),
}

ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
# Words that appear in ordinary prose far more often than as a place's name.
COMMON_WORDS = {
    "الحقل",
    "المدينة",
    "البلدة",
    "القرية",
    "المنطقة",
    "الريف",
    "البادية",
    "المطار",
    "القاعدة",
    "المعبر",
    "الجزيرة",
    "الفرات",
    "صور",
    "المصنع",
}


@pytest.fixture(scope="module")
def places() -> list[dict[str, Any]]:
    document = yaml.safe_load(PLACES_PATH.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and isinstance(document.get("places"), list)
    entries: list[dict[str, Any]] = document["places"]
    return entries


def test_has_at_least_400_entries(places: list[dict[str, Any]]) -> None:
    assert len(places) >= 400


def test_every_entry_has_required_keys_and_types(places: list[dict[str, Any]]) -> None:
    for entry in places:
        assert set(entry) >= REQUIRED_KEYS, entry
        assert isinstance(entry["name_en"], str) and entry["name_en"].strip(), entry
        aliases = entry["aliases_ar"]
        assert isinstance(aliases, list) and aliases, entry
        for alias in aliases:
            assert isinstance(alias, str) and alias == alias.strip() and alias, entry
            assert ARABIC_LETTER.search(alias), (entry["name_en"], alias)
        assert isinstance(entry["lat"], float | int) and isinstance(entry["lon"], float | int)


def test_kinds_are_in_the_allowed_set(places: list[dict[str, Any]]) -> None:
    bad = [(e["name_en"], e["kind"]) for e in places if e["kind"] not in KINDS]
    assert not bad


def test_admin1_codes_are_known_iso_3166_2(places: list[dict[str, Any]]) -> None:
    for entry in places:
        code = entry["admin1"]
        assert ADMIN1_PATTERN.match(code), (entry["name_en"], code)
        assert code in KNOWN_ADMIN1, (entry["name_en"], code)
        assert code.split("-")[0] == entry["country"], (entry["name_en"], code)


def test_coordinates_fall_inside_their_country(places: list[dict[str, Any]]) -> None:
    outside = []
    for entry in places:
        lat_min, lat_max, lon_min, lon_max = COUNTRY_BOXES[entry["country"]]
        if not (lat_min <= entry["lat"] <= lat_max and lon_min <= entry["lon"] <= lon_max):
            outside.append((entry["name_en"], entry["lat"], entry["lon"]))
    assert not outside


def test_all_syrian_and_iraqi_governorates_present(places: list[dict[str, Any]]) -> None:
    governorates = {e["admin1"] for e in places if e["kind"] == "governorate"}
    assert governorates >= SYRIAN_GOVERNORATES
    assert governorates >= IRAQI_GOVERNORATES


def test_every_syrian_governorate_has_districts_except_damascus(
    places: list[dict[str, Any]],
) -> None:
    districts = Counter(e["admin1"] for e in places if e["kind"] == "district")
    assert {code for code in SYRIAN_GOVERNORATES if districts[code] < 2} == {"SY-DI"}


def test_no_alias_is_shared_by_two_entries(places: list[dict[str, Any]]) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for entry in places:
        for alias in set(entry["aliases_ar"]):
            owners[unicodedata.normalize("NFC", alias)].append(entry["name_en"])
    shared = {alias: names for alias, names in owners.items() if len(names) > 1}
    assert not shared


def _canonical(alias: str) -> str:
    """The spelling-insensitive key a matcher compares: hamza-carrying alefs, alef maksura,
    teh marbuta, diacritics and tatweel are the usual differences between two outlets'
    spellings of one name, so two entries must not collide once those are ignored."""
    alias = unicodedata.normalize("NFC", alias)
    alias = re.sub("[\u0622\u0623\u0625\u0671]", "\u0627", alias)
    alias = alias.replace("\u0649", "\u064a").replace("\u0629", "\u0647")
    alias = re.sub("[\u064b-\u0652\u0670\u0640]", "", alias)
    return " ".join(alias.lower().split())


def test_no_alias_collides_after_spelling_normalization(places: list[dict[str, Any]]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in places:
        for alias in entry["aliases_ar"]:
            owners[_canonical(alias)].add(entry["name_en"])
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}


def test_canonical_key_merges_spelling_variants() -> None:
    assert _canonical("الرّقة") == _canonical("الرقه")
    assert _canonical("إدلب") == _canonical("ادلب")
    assert _canonical("ديالى") == _canonical("ديالي")
    assert _canonical("حماة") != _canonical("حمص")


def test_names_are_unique(places: list[dict[str, Any]]) -> None:
    counts = Counter(e["name_en"] for e in places)
    assert [name for name, n in counts.items() if n > 1] == []


def test_no_alias_is_a_bare_common_word(places: list[dict[str, Any]]) -> None:
    bare = [(e["name_en"], a) for e in places for a in e["aliases_ar"] if a in COMMON_WORDS]
    assert not bare


@pytest.mark.parametrize(
    ("alias", "name_en", "admin1"),
    [
        ("البوكمال", "Al-Bukamal", "SY-DY"),
        ("البو كمال", "Al-Bukamal", "SY-DY"),
        ("ديرالزور", "Deir ez-Zor", "SY-DY"),
        ("الرّقة", "Raqqa", "SY-RA"),
        ("المحطة الثانية", "T2 Pumping Station", "SY-DY"),
        ("حقل آراك", "Arak Oil Field", "SY-HI"),
        ("تدمر", "Palmyra", "SY-HI"),
        ("عين العرب", "Kobani", "SY-HL"),
        ("القائم", "Al-Qaim", "IQ-AN"),
        ("الحشد الشعبي", None, None),
    ],
)
def test_well_known_aliases_resolve(
    places: list[dict[str, Any]], alias: str, name_en: str | None, admin1: str | None
) -> None:
    matches = [(e["name_en"], e["admin1"]) for e in places if alias in e["aliases_ar"]]
    expected = [] if name_en is None else [(name_en, admin1)]
    assert matches == expected
