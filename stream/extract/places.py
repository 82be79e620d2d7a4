"""Places from the gazetteer (marsad/data/places.yaml), resolved the way a coder reads them.

"ريف حمص الشرقي", "بادية دير الزور", "باديتي دير الزور وحمص" and "ريفي حمص ودير الزور"
name governorates: a rural/desert/province word before a place resolves to that place's
governorate.  Among the places an incident mentions, the most specific kind wins
(a village over its district over its governorate), ties going to the first mentioned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from marsad.geography import km_between
from marsad.vocabulary import DATA_DIR as PLACES_DIR
from stream.extract.lexicon import (
    PhraseIndex,
    lexicon,
    load_yaml,
    prefix_forms,
)
from stream.extract.normalize import norm
from stream.extract.schema import PlacesFile, WordsFile, validate
from stream.extract.segment import PHRASE_STOPS

#: Lower is more specific.
KIND_RANK: dict[str, int] = {
    "neighbourhood": 0,
    "village": 0,
    "town": 0,
    "oil_field": 0,
    "gas_field": 0,
    "base": 0,
    "airport": 0,
    "dam": 0,
    "crossing": 0,
    "station": 0,
    "city": 1,
    "subdistrict": 2,
    "district": 3,
    "road": 3,  # between two towns (``_roads``); never in the gazetteer
    "mountain": 4,
    "desert": 4,
    "region": 4,
    "river": 5,
    "governorate": 6,
}


@dataclass(frozen=True)
class Place:
    name_en: str
    name_ar: str
    kind: str
    admin1: str | None
    country: str | None
    lat: float | None
    lon: float | None
    #: False for a settlement named in the text but missing from the gazetteer
    listed: bool = True

    @property
    def rank(self) -> int:
        return KIND_RANK.get(self.kind, 3)


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    place: Place
    reference: bool = False  # "شرقي حمص": a bearing from the place, not the place itself
    #: "بادية الرصافة", "جنوب تدمر": the event is around the place (ranked as the
    #: governorate-level phrase it used to be lifted to, so the choice among places holds)
    around: bool = False
    #: "بغداد - واع": where the outlet wrote from, the report's place only when it names none
    dateline: bool = False
    #: "نقلوا إلى مشفى X", "العائدين من كربلاء": where people went or came from
    away: bool = False

    @property
    def rank(self) -> int:
        if self.reference or self.around:
            return max(self.place.rank, KIND_RANK["governorate"])
        return self.place.rank


@dataclass(frozen=True)
class Gazetteer:
    index: PhraseIndex[Place]
    governorates: dict[str, Place]
    #: normalized names of the governorates' seats ("حمص" of "محافظة حمص"): "ريف حمص" is
    #: the governorate, "ريف منبج" the country around a town
    seats: frozenset[str] = frozenset()
    #: places of another country that share a name with the place indexed under it, by
    #: that place's English name (``namesakes_ar`` in the gazetteer; see :func:`_namesake`)
    namesakes: dict[str, tuple[Place, ...]] = field(default_factory=dict)


def _place(entry: dict[str, Any]) -> Place:
    aliases = entry.get("aliases_ar") or [entry.get("name_en", "")]
    return Place(
        name_en=str(entry["name_en"]),
        name_ar=str(aliases[0]),
        kind=str(entry.get("kind", "town")),
        admin1=entry.get("admin1"),
        country=entry.get("country"),
        lat=float(entry["lat"]) if entry.get("lat") is not None else None,
        lon=float(entry["lon"]) if entry.get("lon") is not None else None,
    )


def build_gazetteer(entries: list[dict[str, Any]]) -> Gazetteer:
    """Index entries by normalized alias; the first entry owning an alias keeps it."""
    index: PhraseIndex[Place] = PhraseIndex()
    governorates: dict[str, Place] = {}
    seats: set[str] = set()
    owners: dict[str, Place] = {}
    shared: list[tuple[str, Place]] = []
    for entry in entries:
        place = _place(entry)
        shared += [(norm(str(a)), place) for a in entry.get("namesakes_ar") or []]
        if place.kind == "governorate" and place.admin1 and place.admin1 not in governorates:
            governorates[place.admin1] = place
        if place.kind == "governorate":
            seats |= {
                norm(str(a)).removeprefix(norm("محافظة ")).strip()
                for a in entry.get("aliases_ar") or []
                if norm(str(a)).startswith(norm("محافظة "))
            }
        for alias in entry.get("aliases_ar") or []:
            key = norm(str(alias))
            if key and key not in owners:
                owners[key] = place
                index.add(str(alias), place)
    namesakes: dict[str, list[Place]] = {}
    for key, place in shared:
        owner = owners.get(key)
        if owner is None or owner.country == place.country:
            raise ValueError(
                f"{place.name_en}: namesake {key!r} is no name of a place in another country"
            )
        namesakes.setdefault(owner.name_en, []).append(place)
    return Gazetteer(
        index, governorates, frozenset(seats), {k: tuple(v) for k, v in namesakes.items()}
    )


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Load every ``places*.yaml`` of the kernel's data directory once (places.yaml first)."""
    entries: list[dict[str, Any]] = []
    files = sorted(PLACES_DIR.glob("places*.yaml"), key=lambda p: (p.name != "places.yaml", p.name))
    for path in files:
        data = load_yaml(path.name, PLACES_DIR)
        validate(path.name, data, PlacesFile)  # a bad entry fails here, with file and key
        entries.extend(data["places"])
    return build_gazetteer(entries)


def _text_country(
    words: list[str], places: list[Place], gaz: Gazetteer, w: WordsFile
) -> str | None:
    """The country a text is about, for a name two countries share: the one its other
    places and its country words (``country_words``: "العراق", "بغداد") name most; ``None``
    on a tie or when nothing says."""
    votes: Counter[str] = Counter(
        p.country for p in places if p.country and p.name_en not in gaz.namesakes
    )
    for word in words:
        forms = set(prefix_forms(word))
        votes.update(c for c, names in w.country_words.items() if forms & names)
    top = votes.most_common(2)
    if not top or (len(top) > 1 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def _namesake(place: Place, country: str | None, gaz: Gazetteer) -> Place:
    """``place``, or its namesake in ``country`` when the text is about that country
    ("بجانب الرصافة" in a report from Baghdad is the east bank, not the Raqqa town)."""
    if country is None or place.country == country:
        return place
    return next((p for p in gaz.namesakes.get(place.name_en, ()) if p.country == country), place)


def _base(word: str) -> set[str]:
    return set(prefix_forms(word))


def find_places(words: list[str], gaz: Gazetteer | None = None) -> list[PlaceMention]:
    """Place mentions, with province words lifting a place to its governorate."""
    gaz = gaz or gazetteer()
    w = lexicon().words
    out: list[PlaceMention] = []
    dual_open = False
    matches = list(gaz.index.find_all(words))
    shared = any(m.value.name_en in gaz.namesakes for m in matches)
    country = _text_country(words, [m.value for m in matches], gaz, w) if shared else None
    for m in matches:
        place = _namesake(m.value, country, gaz)
        start = m.start
        prev = words[m.start - 1] if m.start > 0 else ""
        prev_forms = _base(prev)
        if _a_common_word(words, m.start, m.end, prev_forms, w) or prev_forms & w.street_words:
            continue  # a common word, or a street's name ("شارع بغداد" in Damascus)
        # the place just before, when this one is joined to it by "و" ("دير الزور وحمص")
        joined_to = (
            out[-1] if out and out[-1].end == m.start and words[m.start].startswith("و") else None
        )
        lifted = bool(prev_forms & w.province_words) or _country_of(words, m.start, w)
        if lifted and not prev_forms & w.province_words:
            start = m.start - 2  # "الريف الشرقي لدير الزور"
        elif lifted:
            dual_open = bool(prev_forms & w.dual_province_words)
            start = m.start - 1
        elif dual_open and joined_to is not None:
            lifted = True  # "باديتي دير الزور وحمص": the second one too
        else:
            dual_open = False
        around = False
        if lifted and place.kind != "governorate" and place.admin1 in gaz.governorates:
            if _a_seat(words[m.start : m.end], place, gaz) or dual_open:
                place = gaz.governorates[place.admin1]
            else:
                around = True  # "بادية الرصافة": the country around a town, not the province
        # "جنوب مدينة كوباني", "على طريق أثريا": around the place (a bearing, a road to it)
        bearing = _bearing(words, m.start, w) or _road_to(words, m.start, w)
        # "مراسل دير الزور 24": an outlet's name, not where anything happened; "بغداد - واع",
        # "أربيل (كوردستان 24)-": the dateline names where the outlet wrote from
        dateline = _dateline(words, m.start, m.end)
        outlet = (
            dateline
            or (m.end < len(words) and words[m.end] in w.outlet_tags)
            or bool(prev_forms & w.affiliation_words)
        )
        # "العائدين من كربلاء والنجف": the second of two places joined by "و" goes with the first
        away = _destination(words, m.start, w) or (joined_to is not None and joined_to.away)
        reference = place.kind != "governorate" and (
            bearing or outlet or away or _funeral(words, m.start, w)
        )
        around = around or (reference and bearing)
        mention = PlaceMention(start, m.end, place, reference, around, dateline, away=away)
        if m.start > 0 and words[m.start - 1] == "(" and out and out[-1].place == place:
            # "عين العرب (كوباني)": the same place named again, as it was told
            mention = replace(out[-1], start=start, end=m.end)
        out.append(mention)
    out = _roads(out, words, w)
    return sorted([*out, *_unlisted(words, out, w)], key=lambda m: m.start)


def _roads(out: list[PlaceMention], words: list[str], w: WordsFile) -> list[PlaceMention]:
    """ "على طريق دمشق – السويداء", "بين بلدتي X وY": a road or a line between two places is
    one place, the country around its middle, not one of its ends. Read as either end, two
    reports of one ambush on the road (one naming it, one the nearer town) would be ~90 km
    apart. The ends stay, as references: their governorates are the line's too."""
    merged: list[PlaceMention] = []
    for m in out:
        prev = merged[-1] if merged else None
        kind = _line_kind(prev, m, words, w) if prev is not None else None
        if prev is not None and kind == "far":
            # "الخط الإداري الفاصل بين الرقة ودير الزور", "الأوتوستراد الدولي حلب – دمشق": a
            # line too long to place an event; its ends only bound it
            merged[-1:] = [replace(e, around=False, reference=True) for e in (prev, m)]
            continue
        if prev is not None and kind is not None:
            line = replace(prev, end=m.end, place=_road(prev.place, m.place, road=kind == "road"))
            ends = [replace(e, around=False, reference=True) for e in (prev, m)]
            merged[-1:] = [replace(line, around=True), *ends]
            continue
        merged.append(m)
    return merged


def _line_kind(prev: PlaceMention, m: PlaceMention, words: list[str], w: WordsFile) -> str | None:
    """ "road" for "طريق X – Y", "between" for "بين X وY", "far" for either when the two lie
    too far apart for one line, else ``None`` (also when they are one place or lack
    coordinates)."""
    a, b = prev.place, m.place
    if a.lat is None or b.lat is None or a.name_en == b.name_en:
        return None
    gap = words[prev.end : m.start]
    joined = not gap or (len(gap) == 1 and gap[0] in _DATELINE_MARKS)
    kind = None
    if prev.around and joined and _road_to(words, prev.start, w) and _road_to(words, m.start, w):
        kind = "road"
    elif not gap and words[m.start].startswith("و") and _between(words, prev.start, w):
        kind = "between"
    if kind is not None and km_between(a.lat, a.lon, b.lat, b.lon) > _MAX_LINE_KM:  # type: ignore[arg-type]
        return "far"
    return kind


#: Two ends further apart are no road or line one event lies on: a namesake read for one of
#: them ("بين الطيبة وأم المياذن" is Daraa's Al-Tayba, not the one in Homs the gazetteer has).
_MAX_LINE_KM = 120.0


def _between(words: list[str], start: int, w: WordsFile) -> bool:
    """ "بين قضاء الجبايش وقضاء المدينة", "الطريق بين خناصر وأثريا", "بين بلدتي X وY"."""
    k = start - 1
    if k >= 0 and set(prefix_forms(words[k])) & (w.place_nouns | w.settlement_nouns):
        k -= 1
    return k >= 0 and "بين" in prefix_forms(words[k])


def _road(a: Place, b: Place, *, road: bool = True) -> Place:
    """The line between two places, at its middle; in the governorate of the second named
    (the road's destination: "طريق دمشق – السويداء" is told by Suwayda's outlets)."""
    return Place(
        name_en=f"{a.name_en}–{b.name_en} road" if road else f"between {a.name_en} and {b.name_en}",
        name_ar=f"طريق {a.name_ar} – {b.name_ar}" if road else f"بين {a.name_ar} و{b.name_ar}",
        kind="road",
        admin1=b.admin1,
        country=b.country,
        lat=round((a.lat + b.lat) / 2, 4),  # type: ignore[operator]
        lon=round((a.lon + b.lon) / 2, 4),  # type: ignore[operator]
    )


def _a_common_word(words: list[str], start: int, end: int, prev: set[str], w: WordsFile) -> bool:
    """ "قافلة احتجاجية سلمية": a name that is also a common word (``word_names``) is a
    place only where a place is expected: after a preposition, a place noun, a province
    word or a bearing, with a preposition attached ("بسلمية"), or as the dateline."""
    name = " ".join(words[start:end])
    if name not in w.word_names:
        return False  # not the bare word: a clitic is attached, or another alias matched
    licensing = w.place_links | w.place_nouns | w.settlement_nouns | w.province_words
    # a text's first word is its dateline ("القائم - واع")
    return not (start == 0 or prev & licensing or _direction(words[start - 1], w))


_DATELINE_MARKS = frozenset({"-", "–", "—", "(", "/"})
#: what may stand between a dateline's place and the outlet's name before its mark
_DATELINE_LEADS = frozenset({":", "،", ","})
#: "مركز الأخبار – الحسكة": how many words an outlet's desk may take before its dateline
_DESK_WORDS = 3


def _dateline(words: list[str], start: int, end: int) -> bool:
    """Where the outlet wrote from, at the text's start: the place then a mark ("بغداد -
    واع", "أربيل (كوردستان 24)-"), or a desk of a few words, a mark, then the place
    ("مركز الأخبار – الحسكة")."""
    if start == 0:
        if end < len(words) and words[end] in _DATELINE_LEADS:
            # "بغداد: «الشرق الأوسط» -", "بغداد، العراق (CNN) –": the outlet, then the mark
            return any(t in _DATELINE_MARKS for t in words[end + 1 : end + 4])
        return any(t in _DATELINE_MARKS for t in words[end : end + 2])
    desk = words[: start - 1]
    return (
        words[start - 1] in _DATELINE_MARKS
        and 0 < len(desk) <= _DESK_WORDS
        and not any(t in _DATELINE_MARKS or t.isdigit() for t in desk)
    )


def _direction(word: str, w: WordsFile) -> bool:
    return bool(set(prefix_forms(word)) & w.directions) or word.removeprefix("ال") in w.directions


def _bearing(words: list[str], start: int, w: WordsFile) -> bool:
    """ "جنوب مدينة كوباني", "إلى الجنوب من كوباني", "في الجنوب الشرقي لكوباني": a bearing
    from the place, so the event lies around it, not in it."""
    k = start - 1
    if k >= 0 and set(prefix_forms(words[k])) & w.place_nouns:
        k -= 1  # "جنوب مدينة X"
    if k < 0:
        return False
    if _direction(words[k], w):
        return True
    return words[k] == "من" and k >= 1 and _direction(words[k - 1], w)


def _road_to(words: list[str], start: int, w: WordsFile) -> bool:
    """ "على طريق أثريا", "أوتوستراد دمشق – درعا": the road leading to the place."""
    k = start - 1
    if k >= 0 and words[k] in _DATELINE_MARKS:
        k -= 2  # the second town of "طريق دمشق – السويداء"
    if k >= 1 and words[k] in w.road_adjectives:
        k -= 1  # "الطريق الدولي حلب – دمشق", "الطريق السريع بغداد – كركوك"
    return k >= 0 and bool(set(prefix_forms(words[k])) & w.road_words)


def _country_of(words: list[str], start: int, w: WordsFile) -> bool:
    """ "في الريف الشرقي لدير الزور": a province word and its bearing, then the place with
    "ل" attached, name the province as "ريف دير الزور الشرقي" does."""
    return (
        start >= 2
        and words[start].startswith("ل")
        and words[start - 2].removeprefix("ال") in w.province_words
        and words[start - 1].removeprefix("ال") in w.directions
    )


def _a_seat(named: list[str], place: Place, gaz: Gazetteer) -> bool:
    """Whether a place lifted by "ريف"/"بادية" stands for its governorate: a seat ("ريف
    حمص") or anything coarser than a city (a district's country is the district's)."""
    first = prefix_forms(named[0]) if named else ()
    return place.rank >= KIND_RANK["subdistrict"] or any(
        " ".join([f, *named[1:]]) in gaz.seats for f in first
    )


def _unlisted(words: list[str], known: list[PlaceMention], w: WordsFile) -> list[PlaceMention]:
    """ "في بلدة حزارين", "قرية أم الحنطة": a settlement the gazetteer lacks is still a
    place of its own (no governorate: that comes from the places around it), so that two
    strikes on two such villages stay two incidents."""
    covered = {k for m in known for k in range(m.start, m.end)}
    out: list[PlaceMention] = []
    for i in range(len(words) - 1):
        j = i + 1
        if j in covered or not set(prefix_forms(words[i])) & w.settlement_nouns:
            continue
        name = words[j]
        if len(name) < 3 or not name.isalpha() or name in w.not_place_names:
            continue
        if set(prefix_forms(name)) & (w.settlement_nouns | w.not_place_names | w.place_nouns):
            continue
        end = j + 1
        if name in w.name_openers and end < len(words) and words[end].isalpha():
            # "قرية الشيخ محمد", "ناحية خان بني سعد": the opener is half a name; read alone,
            # the villages of "الشيخ محمد" and "الشيخ حسن" would be one place
            end += 1
            name = " ".join(words[j:end])
        place = Place(name, name, "village", None, None, None, None, listed=False)
        out.append(PlaceMention(j, end, place, False))
    return out


def _destination(words: list[str], start: int, w: WordsFile) -> bool:
    """ "نقل الجرحى إلى مشفى مدينة X", "انطلاقاً من X": where people went or came from."""
    k = start - 1
    while (
        k >= 0 and k >= start - 4 and set(prefix_forms(words[k])) & (w.place_nouns | w.away_links)
    ):
        k -= 1
    return k >= 0 and bool(set(prefix_forms(words[k])) & w.away)


def _funeral(words: list[str], start: int, w: WordsFile) -> bool:
    """ "شيّع الحشد الشعبي في بغداد مقاتليه": the place of a funeral or a burial, told a
    few words after it in the same clause, is not where the dead were killed."""
    for k in range(start - 1, max(-1, start - 6), -1):
        if words[k] in PHRASE_STOPS:
            return False
        if set(prefix_forms(words[k])) & w.funeral_words:
            return True
    return False


def most_specific(mentions: list[PlaceMention]) -> PlaceMention | None:
    """The most specific place mentioned.

    Among equally specific places, the one whose governorate the other mentions confirm
    wins ("بين خناصر وأثريا شرقي حماة": Ithriya), then the first one.
    """
    usable = [m for m in mentions if m.place.admin1]
    if not usable:
        return None
    # "حي الخالدية بمدينة حلب": a place whose own container, named right after it, lies in
    # another governorate is a namesake elsewhere (Homs has a Khalidiya too); a city named
    # as a bearing ("السيدة زينب جنوب دمشق") is no container
    consistent = [
        m
        for m in usable
        if not any(
            m.end <= n.start <= m.end + 4
            and n.place.kind == "city"
            and not n.reference
            and n.rank > m.rank
            and n.place.admin1 != m.place.admin1
            for n in usable
        )
    ]
    usable = consistent or usable
    votes = Counter(m.place.admin1 for m in usable)
    # among equals, an outlet's dateline or where people came from or went to comes last
    return min(
        usable,
        key=lambda m: (
            m.rank,
            m.dateline,
            m.reference and not m.around,
            -votes[m.place.admin1],
            m.start,
        ),
    )


def article_governorate(mentions: list[PlaceMention], gaz: Gazetteer | None = None) -> Place | None:
    """The governorate a report is about: the one most of its places lie in (the first named
    breaks ties). An incident told with no place of its own ("قتل 4 من عناصر داعش في قصف
    مدفعي استهدف موقعاً لهم") happened there, as a reader would assume."""
    gaz = gaz or gazetteer()
    named = [m.place.admin1 for m in mentions if m.place.admin1 and not m.reference]
    named = named or [m.place.admin1 for m in mentions if m.place.admin1 and m.dateline]
    if not named:
        return None
    votes = Counter(named)
    best = max(votes, key=lambda a: (votes[a], -named.index(a)))
    return gaz.governorates.get(best)
