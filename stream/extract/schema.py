"""The shape of every lexicon file, checked once at load.

Why: the extractor's words are data (``data/*.yaml``) edited by analysts, and a misspelt key
or a number written where a word list belongs used to surface as a KeyError deep in an
article, or as silently missing matches. Every file is validated here when the lexicon is
first loaded; a mistake stops start-up with the file, the line and the key path at fault
(``…/data/cues.yaml:40: rising.3: Input should be a valid string``); the reading and the
wording are the kernel's :class:`marsad.config_files.ConfigFile`, as for the other config files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from marsad.config_files import ConfigFile
from marsad.errors import ConfigError
from stream.extract.normalize import norm

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Words = list[Word]


def word_set(words: Iterable[str]) -> frozenset[str]:
    """Words normalized like article text, for membership tests."""
    return frozenset(norm(w) for w in words)


def norm_map(mapping: dict[str, int]) -> dict[str, int]:
    """Words with a number each, the words normalized like article text."""
    return {norm(k): int(v) for k, v in mapping.items()}


#: a word group the reading steps test membership in, normalized at load
WordSet = Annotated[frozenset[Word], AfterValidator(word_set)]
#: words with a number each ("مطلع" -> 1), normalized at load
WordMap = Annotated[dict[Word, int], AfterValidator(norm_map)]


class LexiconError(ConfigError):
    """A lexicon file is missing, not YAML, or not of its schema (``file:line: key: what``)."""


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorsFile(_File):
    actors: dict[str, Words]
    organisations: list[str]
    default_organisation: str
    body_names: Words
    default_body: str


class TriggersFile(_File):
    roles: dict[str, Words]
    events: dict[str, Words]
    attack_verbs: Words
    origin_words: Words
    accuse_verbs: Words
    accusation_objects: Words
    attack_nouns: Words
    transparent_words: Words
    target_words: Words
    partner_words: Words
    patron_words: Words


class CuesFile(_File):
    tally: Words
    period_report: Words
    cumulative: Words
    superlatives: Words
    occurrences: Words
    tally_continuation: Words
    single_event: Words
    since: Words
    background: Words
    pluperfect: Words
    generic: Words
    breakdown: Words
    aside: Words
    rising: Words
    no_casualties: Words
    no_casualty_negations: Words
    no_casualty_nouns: Words
    no_casualty_blockers: Words
    mixed_casualties: Words
    connectives: Words
    bare_connectives: Words
    boilerplate: Words
    period_units: Words
    recent_since: Words
    # article-level judgements (stream/extract/judge.py)
    combined_counts: Words
    summary_scope: Words
    alternative_sources: Words
    earlier_count: Words
    subset_openers: Words
    several_events: Words
    next_day: Words


class NumbersFile(_File):
    units: dict[str, int]
    tens: dict[str, int]
    hundreds: dict[str, int]
    multipliers: dict[str, int]
    vague: dict[str, int]
    qualifiers_before: dict[str, Words]
    qualifiers_after: dict[str, Words]
    person_nouns: Words
    dual_nouns: Words
    added_persons: Words
    added_openers: Words
    companions: Words
    companion_duals: Words
    companion_groups: Words
    singular_nouns: Words
    non_casualty_after: Words
    non_casualty_before: Words
    ordinals: Words


class DatesFile(_File):
    months: dict[int, Words]
    weekdays: dict[int, Words]
    relative_days: dict[int, Words]
    past_words: Words
    current_words: Words


class WordsFile(_File):
    """``words.yaml``: the small groups the reading steps decide with, ready to use."""

    during_words: WordSet
    dual_periods: WordSet
    elapsed_links: WordSet
    ago_units: WordSet
    until_words: WordSet
    short_since_units: WordMap
    both_sides: WordSet
    toll_openers: WordSet
    actor_stops: WordSet
    parted_verbs: WordSet
    met_verbs: WordSet
    life_verbs: WordSet
    more_words: WordSet
    age_words: WordSet
    injured_nouns: WordSet
    life_objects: WordSet
    killed_forms: WordSet
    aircraft: WordSet
    nationality: WordSet
    ownership: WordSet
    against: WordSet
    relatives: WordSet
    speech_verbs: WordSet
    month_parts: WordMap
    year_words: WordSet
    singular_verbs: WordSet
    split_idiom_verbs: WordSet
    outlet_tags: WordSet
    province_words: WordSet
    dual_province_words: WordSet
    directions: WordSet
    place_nouns: WordSet
    settlement_nouns: WordSet
    not_place_names: WordSet
    name_openers: WordSet
    away: WordSet
    funeral_words: WordSet
    away_links: WordSet
    not_months: list[str]
    road_words: WordSet
    road_adjectives: WordSet
    affiliation_words: WordSet
    street_words: WordSet
    word_names: WordSet
    country_words: dict[str, WordSet]
    place_links: WordSet
    aside_openers: WordSet


class PlaceEntry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name_en: Word
    aliases_ar: Words
    kind: Word
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    #: names this place shares with a place of another country that owns them ("الرصافة":
    #: Baghdad's east bank and the Raqqa town); the text's country decides which is meant
    namesakes_ar: list[Word] = Field(default_factory=list)


class PlacesFile(_File):
    places: list[PlaceEntry]


M = TypeVar("M", bound=BaseModel)


def lexicon_file(model: type[M]) -> ConfigFile[M]:
    """How a lexicon file of schema ``model`` is read and its mistakes reported."""
    return ConfigFile(
        model, what="lexicon file", shape="a mapping of word groups", error=LexiconError
    )


def validate(name: str, raw: Any, model: type[M]) -> M:
    """The file's content as its model, or a LexiconError naming the file and key path."""
    return lexicon_file(model).validate(raw, name)
