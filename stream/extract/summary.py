"""One English line per incident, built from its fields, for the alert."""

from __future__ import annotations

from marsad.records import Incident
from marsad.vocabulary import actor_name, governorate_name, qualifier_words, vague_word

QUALIFIER_WORDS = qualifier_words()

EVENT_EN = {
    "Armed clash": "attack",
    "Government regains territory": "advance",
    "Non-state actor overtakes territory": "takeover",
    "Air/drone strike": "air/drone strike",
    "Suicide bomb": "suicide bombing",
    "Shelling/artillery/missile attack": "shelling",
    "Remote explosive/landmine/IED": "IED blast",
    "Grenade": "grenade attack",
    "Attack": "attack",
    "Abduction/forced disappearance": "abduction",
}


def _figures(inc: Incident) -> str:
    parts = []
    for value, qual, word in (
        (inc.killed, inc.killed_qualifier, "killed"),
        (inc.injured, inc.injured_qualifier, "injured"),
        (inc.captured, None, "captured"),
    ):
        if value is None:
            continue
        if qual == "vague":  # no number: "dozens killed", or just "killed"
            text = vague_word(value) or ""
        else:
            text = QUALIFIER_WORDS.get(qual or "", "") + str(value)
        parts.append(f"{text.strip()} {word}")
    return ", ".join(parts) if parts else "casualties not reported"


def summarize(inc: Incident) -> str:
    """E.g. "ISIS attack on government forces near Al-Bukamal, Deir ez-Zor: 64 killed"."""
    what = EVENT_EN.get(inc.sub_event_type, "attack")
    if inc.sub_event_type == "Armed clash" and not inc.targets:
        what = "clash"
    head = f"{actor_name(inc.perpetrator, 'phrase')} {what}"
    if inc.targets:
        head += " on " + " and ".join(actor_name(t, "phrase") for t in inc.targets[:2])
    if inc.location is not None:
        where = inc.location.name_en
        gov = governorate_name(inc.location.admin1)
        if gov and gov not in where:
            where = f"{where}, {gov}"
        head += f" near {where}"
    if inc.background:
        head = "Earlier: " + head
    return f"{head[0].upper()}{head[1:]}: {_figures(inc)}"
