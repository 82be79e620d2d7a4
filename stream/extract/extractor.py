"""The composition root of the extractor: one article in, an :class:`Extraction` out.

Pure: the lexicons are loaded once (cached) and nothing else touches the outside world.
"""

from __future__ import annotations

from datetime import date

from marsad.records import Article, Extraction, Incident, Location, Tally
from stream.extract.actors import ATTACKERS, find_actors
from stream.extract.assemble import Assembled, assemble, choose_place, qualifier
from stream.extract.candidates import Candidate, TallyFigure, read_all
from stream.extract.casualties import find_casualties
from stream.extract.classify import event_type, sides
from stream.extract.confidence import score, signals
from stream.extract.document import Document, read
from stream.extract.event_day import event_day
from stream.extract.judge import judge
from stream.extract.lexicon import Lexicon, lexicon
from stream.extract.normalize import normalize
from stream.extract.places import PlaceMention, article_governorate, most_specific
from stream.extract.segment import tokenize
from stream.extract.summary import summarize


def _anchor(article: Article) -> date | None:
    return article.published_at.date() if article.published_at else None


def headline_attacker(title: str | None, lex: Lexicon) -> str | None:
    """The attacker a headline names ("تنظيم الدولة يهاجم قوات النظام"), if any."""
    if not title:
        return None
    words = [t.text for t in tokenize(normalize(title).text)]
    for mention in find_actors(words, lex):
        if mention.role == "attacker":
            return mention.code
    return None


def _read_all(doc: Document, lex: Lexicon) -> tuple[list[Candidate], list[TallyFigure]]:
    return read_all(doc, find_casualties(doc, lex), lex)


def _evidence(doc: Document, inc: Assembled) -> tuple[str, tuple[int, int] | None]:
    ids = sorted(set(inc.evidence_clauses)) or inc.clauses[:1]
    if not ids:
        return "", None
    parts = [doc.text_of(doc.clauses[i].start, doc.clauses[i].end) for i in ids]
    first, last = doc.clauses[ids[0]], doc.clauses[ids[-1]]
    return " … ".join(p for p in parts if p), doc.original_span(first.start, last.end)


DEAD = ("killed", "executed")


def headline_place(title: str | None, anchor: date | None, lex: Lexicon) -> PlaceMention | None:
    """The place a headline names ("ست قتلى بثلاث ضربات جوية قرب معبر البوكمال"), if any:
    where the report's lead event happened when its body names no place of its own (the
    body's other places belong to what it recalls, its dateline to where it was written)."""
    if not title:
        return None
    return most_specific([m for m in read(title, anchor, lex).places if not m.reference])


def _incident(
    doc: Document,
    inc: Assembled,
    prior: str | None,
    n_incidents: int,
    n_tallies: int,
    titled: PlaceMention | None = None,
) -> Incident:
    place = choose_place(inc) or titled
    perp, targets, inferred = sides(doc, inc, prior)
    etype, sub = event_type(inc, targets, perp)
    location = None
    where = place.place if place is not None else article_governorate(doc.places)
    if where is not None:
        location = Location(
            name_ar=where.name_ar,
            name_en=where.name_en,
            admin1=where.admin1,
            lat=where.lat,
            lon=where.lon,
            vicinity=place is not None and place.around,
        )
    by_actor: dict[str, int] = {}
    # a toll's side is the key it is counted under (a risen total takes the side it raises)
    counted = [(side, cas) for (role, side), cas in inc.tolls.items() if role in DEAD]
    counted += [(cas.actor or "", cas) for cas in inc.extra if cas.role in DEAD]
    for side, cas in counted:
        actor = perp if side == ATTACKERS else side
        if actor:
            by_actor[actor] = by_actor.get(actor, 0) + cas.value
    killed = _sum(inc.total("killed"), inc.total("executed"))
    evidence, span = _evidence(doc, inc)
    found = signals(
        doc,
        inc,
        perpetrator=perp,
        incidents_in_article=n_incidents,
        tallies_in_article=n_tallies,
    )
    record = Incident(
        event_type=etype,
        sub_event_type=sub,
        perpetrator=perp,
        targets=targets,
        location=location,
        occurred_on=inc.date,
        killed=killed,
        injured=inc.total("injured"),
        captured=inc.total("captured"),
        killed_by_actor=by_actor,
        background=inc.background,
        evidence=evidence,
        confidence=round(score(found), 3),
        confidence_signals=[name for name, on in found.items() if on],
        killed_qualifier=qualifier(inc, "killed"),
        injured_qualifier=qualifier(inc, "injured"),
        evidence_span=span,
        perpetrator_inferred=inferred,
    )
    record.summary_en = summarize(record)
    return record


def _sum(a: int | None, b: int | None) -> int | None:
    if a is None and b is None:
        return None
    return (a or 0) + (b or 0)


def _tally(doc: Document, t: TallyFigure) -> Tally:
    c = doc.clauses[t.clause]
    cas = t.casualty
    return Tally(
        killed=cas.value if cas.role in ("killed", "executed") else None,
        injured=cas.value if cas.role == "injured" else None,
        actor=cas.actor if cas.actor and not cas.actor.startswith("@") else "UNKNOWN",
        since=t.since,
        evidence=doc.text_of(c.start, c.end),
    )


def extract_article(article: Article) -> Extraction:
    lex = lexicon()
    anchor = _anchor(article)
    doc = read(article.text, anchor, lex)
    candidates, tally_figures = _read_all(doc, lex)
    judged = judge(doc, assemble(doc, candidates), tally_figures)
    tally_figures = [*tally_figures, *judged.tallies]
    current = [inc for inc in judged.incidents if not inc.background]
    if len(current) == 1:  # a day told elsewhere in the article (stream.extract.event_day)
        only = current[0]
        others = [inc for inc in judged.incidents if inc is not only]
        only.date = event_day(doc, only, others, {t.clause for t in tally_figures}, lex)
    prior = headline_attacker(article.title, lex)
    if not judged.incidents and not tally_figures and article.title:
        # a headline-only item: read the headline as the report
        tdoc = read(article.title, anchor, lex)
        tcands, _ = _read_all(tdoc, lex)
        titled = judge(tdoc, assemble(tdoc, tcands), []).incidents
        incidents = [_incident(tdoc, inc, prior, len(titled), 0) for inc in titled]
    else:
        n = len(judged.incidents)
        # the lead (first current) incident happened where the headline says, if the body
        # does not say
        lead = current[0] if current else None
        headline = headline_place(article.title, anchor, lex) if lead else None
        incidents = [
            _incident(doc, inc, prior, n, len(tally_figures), headline if inc is lead else None)
            for inc in judged.incidents
        ]
    return Extraction(
        id=article.id,
        incidents=incidents,
        tallies=[_tally(doc, t) for t in tally_figures],
    )
