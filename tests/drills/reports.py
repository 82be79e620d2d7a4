"""Arabic incident reports for the drills, written from a small template set of our own.

Why generated: a drill needs hundreds of distinct reports whose facts (place, actors, toll)
vary, some of which are follow-ups that raise an earlier report's toll (so incidents are
revised and alerts updated). Every text carries its dispatch number, so no two reports share
a text fingerprint and the poller never drops one as a re-publication.

Pure: ``story(seq)`` and ``follow_up(story, seq)`` depend only on their arguments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: (place as printed, governorate code) — names the extractor's gazetteer knows.
PLACES: tuple[tuple[str, str], ...] = (
    ("بلدة كفرنبل في ريف إدلب الجنوبي", "SY-ID"),
    ("مدينة الباب بريف حلب الشرقي", "SY-HL"),
    ("بادية الميادين بريف دير الزور الشرقي", "SY-DY"),
    ("مدينة تدمر في ريف حمص الشرقي", "SY-HI"),
    ("مدينة السلمية بريف حماة الشرقي", "SY-HM"),
    ("مدينة طفس في ريف درعا الغربي", "SY-DR"),
    ("مدينة دوما في الغوطة الشرقية", "SY-RD"),
    ("بلدة السخنة في بادية حمص", "SY-HI"),
    ("مدينة مصياف بريف حماة الغربي", "SY-HM"),
    ("مدينة القامشلي بريف الحسكة", "SY-HA"),
)

#: (attacker, attacked) phrasings.
ACTORS: tuple[tuple[str, str], ...] = (
    ("عناصر تنظيم الدولة الإسلامية", "قوات النظام"),
    ("قوات النظام", "فصائل المعارضة"),
    ("مسلحون مجهولون", "عناصر من الدفاع الوطني"),
    ("خلايا تابعة لتنظيم داعش", "قوات سوريا الديمقراطية"),
)

#: First reports: {n} dead, {a} attacker, {v} victims, {p} place.
FIRST = (
    "قُتل {n} عنصراً من {v}، اليوم، في هجوم شنه {a} على مواقعهم في {p}.",
    "قُتل {n} من {v}، اليوم، إثر هجوم نفذه {a} على نقطة عسكرية في {p}.",
    "قُتل {n} من {v} اليوم في كمين نصبه {a} لرتل عسكري في {p}.",
)
#: Follow-ups raising the toll of a story told before.
UPDATE = (
    "ارتفع عدد قتلى {v} جراء هجوم {a} على مواقعهم في {p} اليوم إلى {n} قتيلاً.",
    "ارتفعت حصيلة قتلى الهجوم الذي شنه {a} على {v} في {p} اليوم إلى {n} قتيلاً.",
)
TAILS = (
    "وأفاد مراسلو الرصد بأن الاشتباكات تواصلت حتى ساعات المساء.",
    "ونقلت سيارات الإسعاف عدداً من المصابين إلى مستشفيات المنطقة.",
    "ولم تصدر أي جهة رسمية تعليقاً على ما جرى حتى إعداد هذا الخبر.",
    "وتشهد المنطقة توتراً متزايداً منذ أيام.",
)

#: Reports are dated on consecutive days, so unrelated stories do not merge by accident.
EPOCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Report:
    """One feed item to publish: ``slug`` is unique and becomes the article URL's last part."""

    slug: str
    title: str
    text: str
    published: datetime
    story: int
    killed: int


@dataclass(frozen=True)
class Story:
    seq: int
    place: str
    admin1: str
    attacker: str
    victims: str
    killed: int
    day: datetime


def story(seq: int, *, min_killed: int = 3, max_killed: int = 30) -> Story:
    """Story ``seq``: its place, actors and first toll (deterministic)."""
    rng = random.Random(seq * 7919)
    place, admin1 = PLACES[seq % len(PLACES)]
    attacker, victims = ACTORS[rng.randrange(len(ACTORS))]
    # Each place hosts a story every len(PLACES) seqs; spread those over distinct days
    # further apart than the merge window (2 days), so two stories never merge.
    day = EPOCH + timedelta(days=3 * (seq // len(PLACES)))
    return Story(seq, place, admin1, attacker, victims, rng.randint(min_killed, max_killed), day)


def _text(template: str, s: Story, killed: int, seq: int, rng: random.Random) -> str:
    first = template.format(n=killed, a=s.attacker, v=s.victims, p=s.place)
    return " ".join([first, rng.choice(TAILS), f"(برقية الرصد رقم {seq})"])


def first_report(s: Story) -> Report:
    rng = random.Random(s.seq)
    text = _text(FIRST[s.seq % len(FIRST)], s, s.killed, s.seq, rng)
    title = f"مقتل {s.killed} في هجوم في {s.place.split(' ')[1]}"
    return Report(f"story-{s.seq}", title, text, s.day, s.seq, s.killed)


def follow_up(s: Story, step: int = 1) -> Report:
    """The ``step``-th follow-up of ``s``: a higher toll, published a few hours later."""
    killed = s.killed + 4 * step + (s.seq % 3)
    rng = random.Random(s.seq * 31 + step)
    text = _text(UPDATE[(s.seq + step) % len(UPDATE)], s, killed, 100_000 * step + s.seq, rng)
    title = f"ارتفاع حصيلة قتلى الهجوم في {s.place.split(' ')[1]} إلى {killed}"
    return Report(
        f"story-{s.seq}-update-{step}",
        title,
        text,
        s.day + timedelta(hours=2 * step),
        s.seq,
        killed,
    )
