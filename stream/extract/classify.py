"""ACLED event type and the two sides of an assembled incident.

Event type follows ACLED's definitions: a clash between armed groups (including attacks on
positions and ambushes) is a Battle even when suicide vehicles or shelling are part of it;
without a clash, an air/drone strike, IED, suicide bombing or shelling is Explosions/Remote
violence; executions and abductions, and attacks that only hit civilians, are Violence
against civilians.

Perpetrator: an explicit attacker ("هاجمت خلايا داعش"), else the other side of a
"clash with" whose victims are named, else the attacker the headline names, else the first
named party that is not a victim (a guess, marked ``inferred``).
"""

from __future__ import annotations

from typing import NamedTuple

from marsad.records import EventType
from stream.extract.actors import ATTACKERS
from stream.extract.assemble import Assembled
from stream.extract.document import Document

CIVILIANS = "CIVILIANS"
UNKNOWN = "UNKNOWN"


STATE_ACTORS = frozenset({"SYRIAN_GOV", "IRAQ_GOV", "RUSSIA", "TURKEY", "IRAN_BACKED"})


def event_type(inc: Assembled, targets: list[str], perp: str = UNKNOWN) -> tuple[EventType, str]:
    ev = inc.events
    clash = ev["clash"]
    victims = {side for (role, side) in inc.tolls if role in ("killed", "injured") and side}
    # "استشهاد خمسة مدنيين": the dead are civilians, whoever else the sentence names
    only_civilians = (bool(targets) and all(t == CIVILIANS for t in targets)) or (
        victims == {CIVILIANS}
    )
    if ev["takeover"]:
        state = perp in STATE_ACTORS
        return (
            "Battles",
            "Government regains territory" if state else "Non-state actor overtakes territory",
        )
    executed_only = inc.total("executed") and not inc.total("killed")
    if ev["execution"] and (not clash or executed_only):
        return "Violence against civilians", "Attack"
    if ev["abduction"] and not clash and not inc.total("killed") and not inc.total("injured"):
        return "Violence against civilians", "Abduction/forced disappearance"
    if ev["air"] and ev["air"] > clash:
        return "Explosions/Remote violence", "Air/drone strike"
    if ev["suicide"] and not clash:
        return "Explosions/Remote violence", "Suicide bomb"
    if ev["grenade"] and not clash:
        return "Explosions/Remote violence", "Grenade"
    if (ev["ied"] or ev["blasts"]) and not clash:
        return "Explosions/Remote violence", "Remote explosive/landmine/IED"
    if ev["shelling"] and not clash:
        return "Explosions/Remote violence", "Shelling/artillery/missile attack"
    if (only_civilians or ((ev["shooting"] or ev["attack"]) and not targets)) and not clash:
        return "Violence against civilians", "Attack"
    return "Battles", "Armed clash"


class Sides(NamedTuple):
    perpetrator: str
    targets: list[str]
    #: the perpetrator is the battle fallback (the first named party that is no victim), not
    #: an attacker the text or its headline names: right about half the time (it is often
    #: the victims' own side, "عنصر في قوات سوريا الديمقراطية", or the agency telling it),
    #: so the merge step reads it as a guess, never as a contradiction
    inferred: bool = False


def sides(doc: Document, inc: Assembled, prior: str | None) -> Sides:
    mentions = [
        doc.actors[i]
        for i in sorted(set(inc.actors))
        if doc.actors[i].code != ATTACKERS and doc.actors[i].role != "speaker"
    ]
    present = [m.code for m in mentions]
    victims = [
        actor
        for (role, actor) in inc.tolls
        if role in ("killed", "injured", "captured", "executed") and actor and actor != ATTACKERS
    ]
    attackers = [m.code for m in mentions if m.role == "attacker" and m.code != CIVILIANS]
    partners = [m.code for m in mentions if m.role == "partner" and m.code not in victims]
    perp: str | None = None
    inferred = False
    if partners and victims:
        perp = partners[0]  # "مقتل عنصر من X باشتباكات مع Y": Y is the other side
    elif attackers:
        perp = attackers[0]
    elif prior and prior in present:
        perp = prior
    elif inc.events["clash"] or inc.events["takeover"] or inc.events["attack"]:
        # two sides named in a battle: the one that is not (only) counting dead
        inferred = True
        perp = next(
            (
                m.code
                for m in mentions
                if m.code not in victims and m.code != CIVILIANS and m.role != "target"
            ),
            None,
        )
        # two armed sides counting their dead: the one told last fought the first; civilians
        # killed beside soldiers ("46 مدنياً و7 عناصر من قوات النظام") name no side that fought
        armed = [v for v in victims if v != CIVILIANS]
        if perp is None and len(set(armed)) > 1:
            perp = armed[-1]
    perp = perp or UNKNOWN
    targets: list[str] = []
    for code in [*victims, *present]:
        if code != perp and code != UNKNOWN and code not in targets:
            targets.append(code)
    return Sides(perp, targets, inferred and perp != UNKNOWN)
