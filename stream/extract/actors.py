"""Actors: who is named, and whether as attacker, target or the other side of a clash.

Aliases come from data/actors.yaml.  "التنظيم" (the organisation) resolves to the
organisation named last, as a reader resolves it.  A patron after "الموالين لـ"/"التابعة لـ"
is not a party to the fighting and is dropped.  Roles come from the words around a name:
an attack verb or noun before it (VSO: "هاجمت خلايا داعش", "بهجوم لتنظيم الدولة") or an attack
verb right after it (SVO: "تنظيم الدولة يهاجم") makes an attacker; "على/ضد/في صفوف" a target;
"مع" after a clash word the other side.
"""

from __future__ import annotations

from dataclasses import dataclass

from marsad.records import ActorRole
from stream.extract.lexicon import Lexicon, prefix_forms
from stream.extract.normalize import norm
from stream.extract.segment import PHRASE_STOPS

ORG = "@ORG"
BODY = "@BODY"  # "الهيئة": the commission named last (HTS in Idlib, the Hashd in Iraq)
ATTACKERS = "@ATK"  # "المهاجمين": whoever attacked
STATE = "@STATE"  # "الشرطة", "القوات الأمنية": the state where it happened


@dataclass(frozen=True)
class ActorMention:
    start: int
    end: int
    code: str
    role: ActorRole | None = None
    #: named by a generic word ("الشرطة", "القوات الأمنية"): a state, not an armed side
    generic: bool = False


def _forms(word: str) -> set[str]:
    forms = set(prefix_forms(word))
    # accusative tanween: "تجمعاً" is "تجمع", "موقعاً" is "موقع"
    return forms | {f[:-1] for f in forms if f.endswith("ا") and len(f) >= 4}


def _resolve(
    words: list[str], matches: list[tuple[int, int, str]], lex: Lexicon
) -> list[tuple[int, int, str]]:
    out = []
    last_org: str | None = None
    last_body: str | None = None
    for start, end, code in matches:
        if code == ORG:
            code = last_org or lex.default_organisation
        elif code == BODY:
            code = last_body or lex.default_body
        if code in lex.organisations:
            last_org = code
        named = lex.body_names.match_at(words, start)
        if named is not None and named.end == end:
            last_body = code
        out.append((start, end, code))
    return out


def _governing(words: list[str], start: int, lex: Lexicon, limit: int = 5) -> list[int]:
    """Indices of the words before ``start`` that can govern it, looking through
    transparent words ("مجموعات من", "عناصر")."""
    out: list[int] = []
    k = start - 1
    while k >= 0 and len(out) < limit:
        word = words[k]
        if word in PHRASE_STOPS:
            break
        out.append(k)
        if not (_forms(word) & lex.transparent_words):
            break
        k -= 1
    return out


def _after_clash(words: list[str], k: int, lex: Lexicon) -> bool:
    """ "باشتباكات مع X", "يشتبك مع X": "مع" names the other side only after a clash word."""
    for j in (k - 1, k - 2):
        if j >= 0:
            m = lex.events.match_at(words, j)
            if m is not None and m.value == "clash":
                return True
    return False


def _role(words: list[str], start: int, end: int, lex: Lexicon) -> ActorRole | None:
    if start > 0 and set(_forms(words[start - 1])) & lex.words.speech_verbs:
        return "speaker"  # "أعلنت وزارة الدفاع", "قال المرصد": who tells it, not a side
    alias_words = set(words[start:end])
    if alias_words & lex.words.aircraft:
        return "attacker"
    if any(set(_forms(w)) & lex.words.aircraft for w in words[max(0, start - 2) : start]):
        return "attacker"  # "طائرات F-16 العراقية", "مسيرة تركية"
    for k in _governing(words, start, lex):
        forms = _forms(words[k])
        verb = lex.attack_verbs.match_at(words, k)
        if verb is not None and verb.end >= k + 1:
            if k < start - 1 and set(_forms(words[k])) & lex.words.killed_forms:
                return None  # "قتل عنصر من قوات النظام": a member of them was killed
            return "attacker"
        if forms & lex.attack_nouns:
            return "attacker"
        if forms & lex.origin_words or (
            forms & lex.target_words and k > 0 and _forms(words[k - 1]) & lex.origin_words
        ):
            return "attacker"  # "مصدرها مواقع قوات النظام": where the fire came from
        if forms & lex.target_words:
            return "target"
        if forms & lex.partner_words and _after_clash(words, k, lex):
            return "partner"
    if end + 1 < len(words) and words[end] == "قد":
        end += 1  # "قوات النظام قد تمكنت"
    if end < len(words) and words[end] not in lex.words.relatives:  # "الذين قتلوا": the ones killed
        verb = lex.attack_verbs.match_at(words, end)
        tok = words[end]
        # a verb right after the name; "بقصف"/"لهجوم" (a preposition glued on) are nouns
        glued = (
            tok[:1] in ("ب", "ل", "ك") and not norm(verb.entry).startswith(tok[:1])
            if verb
            else True
        )
        if verb is not None and tok not in lex.words.killed_forms and not glued:
            return "attacker"
    return None


def find_actors(words: list[str], lex: Lexicon) -> list[ActorMention]:
    raw = [(m.start, m.end, m.value) for m in lex.actors.find_all(words)]
    kept = []
    owners: set[int] = set()
    for start, end, code in raw:
        prev = words[start - 1] if start > 0 else ""
        if prev in lex.words.ownership and _armed_before(words, start - 1, lex):
            owners.add(start)  # "الطائرات الحربية التابعة للنظام": the regime's aircraft
        elif prev in lex.patron_words or prev in lex.words.nationality:
            continue  # "الموالين لروسيا", "من الجنسية العراقية": not a party
        kept.append((start, end, code))
    mentions = [
        ActorMention(
            start, end, code, "attacker" if start in owners else _role(words, start, end, lex)
        )
        for start, end, code in _resolve(words, kept, lex)
    ]
    return _accused(words, mentions, lex)


def _armed_before(words: list[str], pos: int, lex: Lexicon) -> bool:
    """An aircraft or weapon word shortly before ``pos`` ("برصاص عناصر حاجز تابع لـ")."""
    for k in range(pos - 1, max(-1, pos - 5), -1):
        if words[k] in PHRASE_STOPS:
            return False
        forms = _forms(words[k])
        if forms & lex.words.against:
            return False  # "غارات على مقرات الميليشيات التابعة لإيران": the target's patron
        if forms & lex.words.aircraft or forms & lex.attack_nouns:
            return True
    return False


def _accused(words: list[str], mentions: list[ActorMention], lex: Lexicon) -> list[ActorMention]:
    """ "اتهمت مصادر محلية قوات النظام بالوقوف وراء القصف", "اتهم نائب داعش بتنفيذ الهجوم":
    the parties named between an accusation verb and its object are the attackers; a party
    right after the verb is the accuser (its subject), unless it is the only one."""
    if not mentions:
        return mentions
    out = list(mentions)
    for k, word in enumerate(words):
        if not (_forms(word) & lex.accuse_verbs):
            continue
        obj = None
        for j in range(k + 1, min(k + 14, len(words))):
            if words[j] in PHRASE_STOPS:
                break
            if words[j] in lex.accusation_objects:
                obj = j
                break
        if obj is None:
            continue
        inside = [i for i, m in enumerate(out) if k < m.start < obj]
        if len(inside) > 1 and out[inside[0]].start == k + 1:
            inside = inside[1:]
        for i in inside:
            m = out[i]
            out[i] = ActorMention(m.start, m.end, m.code, "attacker")
    return out
