"""End-to-end reading on fixture reports written in the seeds' style (not their text)."""

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from stream.extract.actors import ActorMention
from tests.unit.extract.conftest import current, run


def _news_not_tally(text: str, toll: int, published: str | None = None) -> None:
    """The article reads as one current incident of ``toll`` dead, and no tally of it."""
    ex = run(text, published) if published else run(text)
    assert [i.killed for i in current(ex)] == [toll]
    assert not [t for t in ex.tallies if t.killed == toll]


def test_per_side_tolls_of_one_battle_are_summed() -> None:
    text = (
        "تتواصل الاشتباكات العنيفة بين عناصر تنظيم الدولة الإسلامية وقوات النظام "
        "في محيط مدينة الميادين.\n"
        "ووثق المرصد ارتفاع الخسائر البشرية في هذه المعارك، "
        "حيث ارتفع إلى 19 على الأقل من قوات النظام "
        "هم 12 من السوريين و7 من الميليشيات الموالية لإيران، كما ارتفع إلى 11 عدد قتلى التنظيم."
    )
    ex = run(text, title="تنظيم الدولة يهاجم قوات النظام قرب الميادين")
    live = current(ex)
    assert len(live) == 1
    inc = live[0]
    assert inc.killed == 30
    assert inc.killed_by_actor == {"SYRIAN_GOV": 19, "ISIS": 11}
    assert inc.perpetrator == "ISIS"
    assert inc.location is not None and inc.location.admin1 == "SY-DY"
    assert inc.event_type == "Battles"
    assert inc.killed_qualifier == "at_least"


def test_tally_since_a_date_is_not_an_incident() -> None:
    text = (
        "قتل 3 عناصر من قسد بهجوم لخلايا داعش على حاجز في بلدة الشحيل "
        "بريف دير الزور الشرقي.\n"
        "وبذلك يرتفع إلى 212 عدد قتلى قسد منذ مطلع العام الجاري بهجمات التنظيم، "
        "فيما قتل 64 من عناصر التنظيم خلال الفترة ذاتها."
    )
    ex = run(text)
    assert [i.killed for i in current(ex)] == [3]
    assert sorted(t.killed for t in ex.tallies if t.killed) == [64, 212]


def test_tally_context_carries_to_the_next_sentence() -> None:
    text = (
        "قتل عنصر من الدفاع الوطني برصاص مجهولين في مدينة الميادين.\n"
        "وبلغت حصيلة القتلى خلال الفترة الممتدة من مطلع آذار وحتى اليوم 57 عنصراً من قوات النظام.\n"
        "كما وثق المرصد مقتل 9 مدنيين و3 من الرعاة بهجمات مماثلة."
    )
    ex = run(text)
    assert [i.killed for i in current(ex)] == [1]
    assert {t.killed for t in ex.tallies} >= {57, 9, 3}


def test_recalled_massacre_is_background() -> None:
    text = (
        "استهدفت طائرات حربية روسية بلدة كفرنبل جنوبي إدلب صباح اليوم، ما أدى إلى إصابة 4 مدنيين.\n"
        "وكانت البلدة ذاتها قد شهدت مجزرة في آذار الفائت، "
        "كما سبق ذلك مجزرة أخرى راح ضحيتها 17 مدنياً."
    )
    ex = run(text)
    bg = [i for i in ex.incidents if i.background]
    assert [i.killed for i in bg] == [17]
    assert [i.injured for i in current(ex)] == [4]
    assert all(i.killed is None or i.killed < 10 for i in current(ex))


def test_several_attacks_become_several_incidents() -> None:
    text = (
        "قتل 5 عناصر من قوات النظام بهجوم شنه عناصر داعش على نقطة عسكرية "
        "قرب مدينة تدمر بريف حمص الشرقي.\n"
        "وفي حادثة منفصلة، قتل مدنيان بانفجار لغم أرضي قرب بلدة معدان بريف الرقة الشرقي."
    )
    ex = run(text)
    got = sorted((i.killed, i.location.admin1 if i.location else None) for i in current(ex))
    assert got == [(2, "SY-RA"), (5, "SY-HI")]
    mine = next(i for i in ex.incidents if i.killed == 2)
    assert mine.sub_event_type == "Remote explosive/landmine/IED"


def test_summing_sentence_is_not_another_incident() -> None:
    text = (
        "شنت خلايا التنظيم هجمات متزامنة أوقعت 9 قتلى في صفوف القوات في باديتي حماة والرقة.\n"
        "وكان عناصر داعش هاجموا حاجزاً في قرية الرهجان بريف حماة الشرقي، ما أدى إلى مقتل 5 عناصر.\n"
        "كذلك قتل 4 عناصر بانفجار عبوة ناسفة قرب بلدة معدان بريف الرقة."
    )
    ex = run(text)
    assert sorted(i.killed for i in current(ex) if i.killed) == [4, 5]


def test_rising_toll_replaces_earlier_count() -> None:
    text = (
        "ارتفع عدد القتلى جراء انفجار سيارة مفخخة في مدينة الباب إلى 19 شخصاً، بينهم 4 أطفال.\n"
        "وكانت الحصيلة الأولية تحدثت عن 11 قتيلاً."
    )
    ex = run(text)
    assert [i.killed for i in current(ex)] == [19]
    assert current(ex)[0].sub_event_type == "Remote explosive/landmine/IED"


def test_no_number_means_null_and_said_none_means_zero() -> None:
    ex = run("سقط عدد من القتلى والجرحى بقصف لقوات النظام على بلدة كنصفرة في جبل الزاوية.")
    assert current(ex) and current(ex)[0].killed is None
    ex = run("سقطت قذائف أطلقتها قوات النظام على بلدة كنصفرة دون وقوع إصابات.")
    assert current(ex) and current(ex)[0].killed == 0


def test_dates_and_summary() -> None:
    text = "قتل 3 عناصر من قسد فجر أمس الخميس بهجوم لداعش على نقطة في بلدة الشحيل بريف دير الزور."
    ex = run(text)
    inc = current(ex)[0]
    assert inc.occurred_on == date(2019, 6, 13)
    assert inc.summary_en is not None and "ISIS" in inc.summary_en and "3 killed" in inc.summary_en
    assert inc.evidence and "3" in inc.evidence
    assert inc.evidence_span is not None


def test_evidence_quotes_the_original_text() -> None:
    text = "قُتل ٤ مدنيين بقصف مدفعي لقوات النظام على بلدة كنصفرة."
    ex = run(text)
    inc = current(ex)[0]
    assert "٤" in inc.evidence
    start, end = inc.evidence_span or (0, 0)
    assert text[start:end] == inc.evidence


def test_non_conflict_deaths_are_not_incidents() -> None:
    ex = run("توفي 6 أشخاص وأصيب 9 آخرون بحادث سير على طريق حمص تدمر صباح اليوم.")
    assert ex.incidents == []


def test_air_strike_execution_abduction_types() -> None:
    air = current(run("قتل 6 مدنيين بغارات للطيران الروسي على بلدة كفرنبل جنوبي إدلب."))[0]
    assert (air.perpetrator, air.sub_event_type) == ("RUSSIA", "Air/drone strike")
    exe = current(run("أعدم تنظيم داعش 3 رعاة في بادية السخنة شرقي حمص."))[0]
    assert (exe.event_type, exe.killed) == ("Violence against civilians", 3)
    abd = current(run("اختطف مسلحون مجهولون شاباً في بلدة الصنمين بريف درعا الشمالي."))
    assert abd and abd[0].sub_event_type == "Abduction/forced disappearance"


def test_killed_and_wounded_together_is_not_a_toll() -> None:
    ex = run("أسفر الكمين عن مقتل وإصابة 9 عناصر من قوات النظام قرب بلدة السخنة شرقي حمص.")
    inc = current(ex)[0]
    assert inc.killed is None and inc.injured is None


def test_a_second_toll_in_another_governorate_is_another_incident() -> None:
    text = (
        "قُتل راعٍ بانفجار لغم أرضي في بادية الرقة، "
        "فيما قتل عنصران من قسد برصاص مجهولين في بلدة ذيبان."
    )
    got = sorted((i.killed, i.location.admin1 if i.location else None) for i in current(run(text)))
    assert got == [(1, "SY-RA"), (2, "SY-DY")]


def test_abduction_without_deaths() -> None:
    inc = current(run("اختطف مسلحون مجهولون 5 مدنيين على طريق بلدة الصنمين بريف درعا."))[0]
    assert inc.captured == 5 and inc.killed is None
    assert inc.sub_event_type == "Abduction/forced disappearance"


def test_attackers_counted_among_the_dead() -> None:
    text = (
        "قتل 6 عناصر من قسد بهجوم شنه عناصر داعش على حاجز قرب بلدة الشحيل بريف دير الزور، "
        "كما قتل 2 من المهاجمين خلال الاشتباك."
    )
    inc = current(run(text))[0]
    assert inc.killed == 8
    assert inc.killed_by_actor == {"SDF": 6, "ISIS": 2}


def test_headline_only_article_is_read_from_its_title() -> None:
    ex = run("", title="مقتل 4 عناصر من قوات النظام بانفجار لغم في بادية السخنة")
    assert [i.killed for i in ex.incidents] == [4]


def test_since_a_few_days_or_since_the_attack_began_is_a_continuing_battle() -> None:
    text = (
        "تتواصل المعارك العنيفة في محيط بلدة الهول منذ 3 أيام بين قسد وخلايا التنظيم، "
        "وارتفع إلى 27 عدد القتلى من الطرفين."
    )
    ex = run(text)
    assert [i.killed for i in current(ex)] == [27] and not ex.tallies
    ex = run("ارتفع عدد قتلى قوات النظام منذ بدء الهجوم على محور الغاب إلى 30 عنصراً.")
    assert [i.killed for i in current(ex)] == [30]


def test_two_tolls_at_two_places_of_one_governorate() -> None:
    text = (
        "قتل 6 مدنيين في قصف مدفعي لقوات النظام على مدينة أريحا جنوبي إدلب، "
        "بينما قتل 3 عناصر من قوات النظام بقصف للفصائل على مواقعهم في بلدة كفرنبل."
    )
    got = sorted((i.killed, i.perpetrator) for i in current(run(text)))
    assert got == [(3, "OPPOSITION"), (6, "SYRIAN_GOV")]


SOHR_STYLE = (
    "محافظة حماة – المرصد السوري لحقوق الإنسان:: تتواصل الاشتباكات العنيفة منذ صباح أمس الثلاثاء "
    'على محاور في ريف حماة الشرقي، بين عناصر تنظيم "الدولة الإسلامية" من جهة، وقوات النظام '
    "والمسلحين الموالين لها من جهة أخرى، إثر هجوم عنيف نفذه التنظيم على مواقع في محيط قرية "
    "الرهجان، ترافق مع قصف متبادل بين الطرفين.\n"
    "ووثق المرصد السوري ارتفاع الخسائر البشرية، حيث ارتفع إلى 22 على الأقل عدد عناصر قوات النظام "
    "الذين قتلوا في هذه الهجمات، بينهم ضابطان، كما قتل 9 من عناصر التنظيم بينهم 3 فجروا أنفسهم، "
    "وبذلك يرتفع إلى 417 عدد عناصر قوات النظام الذين قتلوا في البادية منذ مطلع العام الجاري.\n"
    "وفي سياق منفصل، قتل مدنيان اثنان وأصيب 4 آخرون جراء انفجار لغم أرضي بسيارة كانت تقلهم في "
    "بادية السخنة شرقي حمص، صباح اليوم.\n"
    "وكانت قوات النظام قد تمكنت في الـ 3 من آذار الفائت من استعادة السيطرة على قرية الرهجان بعد "
    "معارك عنيفة قتل خلالها 31 عنصراً من الطرفين."
)


def test_a_long_report_with_battle_tally_mine_and_recalled_battle() -> None:
    ex = run(SOHR_STYLE, published="2021-05-19T12:00:00+03:00")
    live = sorted(current(ex), key=lambda i: -(i.killed or 0))
    assert [(i.killed, i.location.admin1 if i.location else None) for i in live] == [
        (31, "SY-HM"),
        (2, "SY-HI"),
    ]
    battle, mine = live
    assert battle.killed_by_actor == {"SYRIAN_GOV": 22, "ISIS": 9}
    assert battle.perpetrator == "ISIS" and battle.occurred_on == date(2021, 5, 18)
    assert mine.injured == 4 and mine.sub_event_type == "Remote explosive/landmine/IED"
    earlier = [i for i in ex.incidents if i.background]
    assert [(i.killed, i.sub_event_type) for i in earlier] == [(31, "Government regains territory")]
    assert [(t.killed, t.actor, t.since) for t in ex.tallies] == [
        (417, "SYRIAN_GOV", date(2021, 1, 1))
    ]


def test_superlative_since_is_a_comparison_not_a_period() -> None:
    ex = run("قتل 12 عنصراً من قوات النظام في هجوم لداعش قرب السخنة هو الأعنف منذ أشهر.")
    assert [i.killed for i in current(ex)] == [12] and not ex.tallies
    # "من أبشع الجرائم منذ بدء الثورة": a massacre compared with the war, not the war's toll
    ex = run("قتل 106 أشخاص في مجزرة الحولة بريف حمص، في واحدة من أبشع الجرائم منذ بدء الثورة.")
    assert [i.killed for i in current(ex)] == [106] and not ex.tallies
    ex = run("قتل 106 أشخاص في ريف حمص منذ بدء الثورة.")
    assert not current(ex) and [t.killed for t in ex.tallies] == [106]


def test_an_earlier_report_dates_no_earlier_event() -> None:
    """ "في وقت سابق" after "بعد أن كانت … قد" tells when an earlier count came, not the event."""
    ex = run(
        "أودى الانفجار الذي ضرب حي الميدان في دمشق اليوم بحياة 25 شخصاً، بعد أن كانت وكالة"
        " سانا قد اكتفت في وقت سابق بالإشارة إلى وقوع ضحايا."
    )
    assert [i.killed for i in current(ex)] == [25]
    ex = run("وكان خمسة أشخاص قد قتلوا في وقت سابق بانفجار عبوة ناسفة في حي الميدان بدمشق.")
    assert not current(ex) and [i.killed for i in ex.incidents if i.background] == [5]


def test_a_toll_reaching_a_figure_today_is_the_incident() -> None:
    ex = run("بلغت حصيلة الضحايا اليوم 14 قتيلاً بقصف مدفعي لقوات النظام على مدينة أريحا.")
    assert [i.killed for i in current(ex)] == [14]
    ex = run("ارتفع عدد القتلى في بلدة الأتارب ليصل إلى 15 مدنياً جراء القصف المدفعي.")
    assert [i.killed for i in current(ex)] == [15]
    ex = run("بلغت حصيلة القتلى في صفوف قوات النظام منذ مطلع العام 300 عنصر.")
    assert ex.incidents == [] and [t.killed for t in ex.tallies] == [300]


def test_only_material_damage_is_zero() -> None:
    ex = run("سقطت قذائف على مدينة الباب واقتصرت الأضرار على الماديات.")
    assert [(i.killed, i.injured) for i in current(ex)] == [(0, 0)]


def test_where_the_wounded_were_taken_is_not_the_place() -> None:
    ex = run("قتل 3 مدنيين بقصف على بلدة الأتارب، ونقل الجرحى إلى مشافي مدينة إدلب.")
    inc = current(ex)[0]
    assert inc.location is not None and inc.location.admin1 == "SY-HL"


def test_background_filler_sentences_add_no_incident() -> None:
    text = (
        "قتل 3 عناصر من قوات النظام بهجوم لخلايا داعش على حاجز قرب مدينة تدمر شرقي حمص.\n"
        "وتتعرض بلدات جبل الزاوية لقصف شبه يومي من قبل قوات النظام.\n"
        "ويأتي ذلك في ظل تصاعد الهجمات التي تستهدف قوات النظام في بادية الرقة.\n"
        "وتواصل قوات النظام عمليات تمشيط في بادية حمص بحثاً عن خلايا التنظيم."
    )
    assert [i.killed for i in run(text).incidents] == [3]


def test_a_sentence_setting_the_attack_in_its_context_adds_no_incident() -> None:
    """ "ويأتي الاستهداف بالتوازي مع هجمات … خلفت شهداء": the attacks it recalls are the
    campaign the report sits in, not a further incident at the place they name."""
    text = (
        "قتل مواطن وأصيب خمسة آخرون بقصف طائرة مسيرة تركية على ورشة في بلدة صرين.\n"
        "ويأتي الاستهداف بالتوازي مع هجمات على قوافل الأهالي المتوجهة إلى سد تشرين، "
        "والتي خلفت شهداء وجرحى بين المدنيين."
    )
    found = run(text).incidents
    assert [(i.killed, i.location and i.location.name_en) for i in found] == [(1, "Sarrin")]


def test_a_tribal_feud_is_an_armed_clash() -> None:
    """ "ارتفعت حصيلة النزاع العشائري … إلى سبعة قتلى": a feud fought with machine guns is a
    clash (ACLED's communal violence), its risen toll the incident's."""
    found = run(
        "ارتفعت حصيلة النزاع العشائري الذي اندلع اليوم في قضاء الجبايش إلى سبعة قتلى."
    ).incidents
    assert [(i.killed, i.sub_event_type) for i in found] == [(7, "Armed clash")]


def test_the_ministry_that_announces_an_attack_is_not_its_perpetrator() -> None:
    """ "أعلنت وزارة الداخلية أن مجموعة … هاجمت": the state speaks; the attackers are the
    unnamed group, and the ministry is no side of the attack either."""
    ex = run(
        "أعلنت وزارة الداخلية أن مجموعة خارجة عن القانون هاجمت حاجزاً في بلدة صحنايا بريف "
        "دمشق، ما أدى إلى مقتل 3 مدنيين."
    )
    (inc,) = ex.incidents
    assert (inc.perpetrator, inc.targets, inc.killed) == ("UNKNOWN", ["CIVILIANS"], 3)


def test_unknown_gunmen_named_in_a_battle_are_its_perpetrator() -> None:
    """The fallback for a battle without an explicit attacker (the first named party that
    is not a victim) counts "مسلحون مجهولون" too: it is not the state whose post they hit."""
    from stream.extract.classify import sides

    doc = SimpleNamespace(actors=[ActorMention(0, 2, "UNKNOWN"), ActorMention(5, 7, "SYRIAN_GOV")])
    inc = SimpleNamespace(actors=[0, 1], tolls={}, events={"clash": 0, "takeover": 0, "attack": 1})
    assert sides(cast(Any, doc), cast(Any, inc), None)[:2] == ("UNKNOWN", ["SYRIAN_GOV"])


def test_a_toll_raised_today_for_wednesdays_strikes_is_wednesdays_event() -> None:
    """The raise is told today ("اليوم الجمعة"); the strikes were on Wednesday. The event's
    day is the earliest day told with it, not the first one written."""
    text = (
        "رفع المرصد السوري، اليوم الجمعة، حصيلة قتلى الغارات التي استهدفت مواقع في مدينة "
        "تدمر يوم الأربعاء الماضي إلى 57 قتيلاً من المقاتلين الموالين لإيران."
    )
    ex = run(text, published="2024-11-22T14:00:00+03:00")
    assert [(i.killed, i.occurred_on) for i in current(ex)] == [(57, date(2024, 11, 20))]


def test_a_month_named_with_the_day_is_not_the_events_day() -> None:
    """ "مساء السبت، السادس من كانون الثاني 2024": the month is not a day of its own, so the
    earliest day told is Saturday, not 1 January."""
    text = (
        "قتل عنصران من الحشد الشعبي وأصيب ثلاثة آخرون مساء السبت، السادس من كانون الثاني "
        "2024، بهجوم لداعش على أحد الأفواج في قضاء طوزخورماتو."
    )
    ex = run(text, published="2024-01-06T22:30:00+03:00")
    assert [(i.killed, i.occurred_on) for i in ex.incidents] == [(2, date(2024, 1, 6))]


def test_the_highest_toll_since_the_war_began_is_a_comparison_not_a_period() -> None:
    """The superlative may stand several words before "منذ"; the strike is still an
    incident, not a tally since 2011."""
    text = (
        "بلغت حصيلة الضربات الإسرائيلية على تدمر، أمس الأربعاء، 79 قتيلاً من المقاتلين "
        "الموالين لإيران، في أعلى عدد من القتلى تخلفه غارات إسرائيلية على هذه المجموعات "
        "منذ اندلاع النزاع في 2011."
    )
    ex = run(text, published="2024-11-21T07:10:00+03:00")
    assert [i.killed for i in current(ex)] == [79]
    assert not ex.tallies


def test_the_iraqi_air_force_is_the_iraqi_government() -> None:
    """ "طيران القوة الجوية" (the Iraqi usage) strikes ISIS: the attacker is the state, not
    the group it struck."""
    text = (
        "قتل خمسة من عناصر داعش بضربة جوية نفذها طيران القوة الجوية على وكر للتنظيم "
        "في وادي الشاي شرقي صلاح الدين."
    )
    (inc,) = current(run(text))
    assert inc.perpetrator == "IRAQ_GOV" and "ISIS" in inc.targets, inc


def test_a_side_named_as_the_target_is_not_the_attacker() -> None:
    """In an ambush on a bus carrying soldiers, the soldiers' side is who was attacked; an
    unnamed attacker stays unknown rather than becoming the side that was hit."""
    text = (
        "تعرضت حافلة عسكرية تقل عناصر من قوات النظام لكمين نصبه مسلحون في بادية السخنة "
        "بريف حمص الشرقي، ما أدى إلى سقوط عدد من القتلى والجرحى."
    )
    live = current(run(text))
    assert len(live) == 1
    assert live[0].perpetrator == "UNKNOWN"
    assert "SYRIAN_GOV" in live[0].targets


def test_a_statement_day_gives_way_to_the_day_the_attack_happened() -> None:
    """Agency copy dates the statement ("أعلنت …، اليوم الأحد،") and tells the attack's own
    day in a later sentence with no toll of its own; the incident takes the attack's day."""
    text = (
        "أعلنت خلية الإعلام الأمني، اليوم الأحد، مقتل جنديين وإصابة ثلاثة آخرين بهجوم "
        "لعناصر داعش على موقع عسكري في قضاء الدبس بمحافظة كركوك.\n"
        "وأوضحت الخلية أن الهجوم وقع في وقت متأخر من مساء أمس السبت بالأسلحة الخفيفة."
    )
    live = current(run(text, published="2023-06-11T10:00:00+03:00"))
    assert len(live) == 1
    assert live[0].occurred_on == date(2023, 6, 10)


def test_the_day_of_the_attack_itself_stays() -> None:
    """ "قتل … اليوم الأحد": the day is the event's (no speech verb before it), and a day
    recalled later in the article does not move it."""
    text = (
        "قتل جنديان وأصيب ثلاثة آخرون، اليوم الأحد، بهجوم لعناصر داعش على موقع عسكري في "
        "قضاء الدبس بمحافظة كركوك.\n"
        "وكانت المنطقة قد شهدت أمس السبت انتشاراً أمنياً واسعاً."
    )
    live = current(run(text, published="2023-06-11T10:00:00+03:00"))
    assert len(live) == 1
    assert live[0].occurred_on == date(2023, 6, 11)


def test_a_body_without_a_place_takes_the_headline_s_place() -> None:
    """The body tells the strike without naming where and recalls an attack elsewhere; the
    headline names the town. The lead incident is the headline's, not the recalled place's."""
    text = (
        "قال مصدران محليان إن غارتين جويتين استهدفتا ليل الثلاثاء مستودعاً قرب المعبر "
        "الحدودي، ما أسفر عن مقتل أربعة مسلحين وإصابة ثلاثة.\n"
        "وتأتي الغارتان بعد يوم من هجوم بطائرات مسيرة على قاعدة في أربيل."
    )
    with_title = current(run(text, title="أربعة قتلى بغارتين جويتين قرب معبر البوكمال"))
    without = current(run(text))
    assert with_title[0].location is not None and with_title[0].location.admin1 == "SY-DY"
    assert without[0].location is None or without[0].location.admin1 != "SY-DY"


def test_a_battle_s_fallback_perpetrator_is_marked_a_guess() -> None:
    """No attacker is named: the first side that is no victim ("الأمن العام", whose member
    died) stands as perpetrator, marked inferred; an attacker named by the text is not."""
    guessed = current(
        run("لقي عنصر في جهاز الأمن العام حتفه بهجوم على حاجز في مدينة الميادين اليوم.")
    )
    named = current(run("قتل عنصران من قوات النظام بهجوم لخلايا داعش على حاجز في مدينة الميادين."))
    assert len(guessed) == 1 and guessed[0].perpetrator_inferred
    assert named[0].perpetrator == "ISIS" and not named[0].perpetrator_inferred
    assert "perpetrator_inferred" not in named[0].model_dump(mode="json")


def test_a_second_attack_within_a_week_is_news_not_a_tally() -> None:
    """ "للمرة الثانية خلال أسبوع" counts attacks in a period, not the period's dead, and the
    year of a comparison ("أعنف هجوم منذ مطلع العام الماضي") recalls nothing."""
    text = (
        "للمرة الثالثة خلال شهر، شن مسلحون هجوماً على رعاة أغنام في بادية تدمر، راح ضحيته "
        "17 شخصاً، في ما يعد أعنف هجوم في المنطقة منذ مطلع العام الماضي."
    )
    _news_not_tally(text, 17)
    # a real period still counts as one
    tally = run("قتل 17 شخصاً خلال شهر في هجمات متفرقة ببادية تدمر.")
    assert not [i for i in current(tally) if i.killed == 17]


def test_the_city_of_a_funeral_is_not_where_the_dead_were_killed() -> None:
    """The strike was at Al-Qaim; the fighters were buried in Baghdad. The funeral's city,
    told first, does not become the incident's place ("قرب مقبرة القرية" still would)."""
    text = (
        "شيّع الحشد الشعبي في بغداد، اليوم الأحد، مقاتليه الذين قتلوا بالغارات التي استهدفت "
        "مقراته في منطقة القائم ليل الجمعة، وعددهم 16 مقاتلاً."
    )
    (inc,) = current(run(text))
    assert inc.location is not None and inc.location.name_en == "Al-Qaim"
    near = current(run("قتل جنديان بهجوم قرب مقبرة قرية في قضاء الدبس بمحافظة كركوك اليوم."))
    assert near[0].location is not None and near[0].location.admin1 == "IQ-KI"


def test_government_forces_are_the_state_of_the_country_told() -> None:
    """ "القوات الحكومية" in a report from Tikrit is Iraq's army, in one from Deir ez-Zor
    Damascus's: the generic words take the state of the report's country."""
    clash = "قتل 12 مسلحاً من تنظيم الدولة الإسلامية في اشتباكات مع القوات الحكومية قرب مدينة {}."
    assert [i.perpetrator for i in current(run(clash.format("تكريت")))] == ["IRAQ_GOV"]
    assert [i.perpetrator for i in current(run(clash.format("دير الزور")))] == ["SYRIAN_GOV"]


def test_civilians_killed_beside_soldiers_name_no_perpetrator() -> None:
    """Gunmen kill 46 civilians and 7 soldiers: neither the civilians nor the soldiers, the
    only sides named, fought the attack, so the perpetrator stays unknown."""
    text = (
        "قتل 46 مدنياً و7 عناصر من قوات النظام بهجوم على جامعي الكمأة في بادية السخنة مساء الجمعة."
    )
    (inc,) = current(run(text))
    assert inc.perpetrator == "UNKNOWN" and inc.killed == 53
    assert set(inc.targets) == {"CIVILIANS", "SYRIAN_GOV"}


def test_a_massacre_committed_by_a_group_names_it() -> None:
    """ "مسلحون من داعش ارتكبوا مجزرة": the group that committed it is the perpetrator."""
    text = (
        "أفادت مصادر محلية بأن مسلحين من تنظيم داعش ارتكبوا اليوم مجزرة في قرية عياش بريف "
        "دير الزور الغربي راح ضحيتها 40 مدنياً."
    )
    inc = current(run(text))[0]
    assert (inc.perpetrator, inc.killed) == ("ISIS", 40)


def test_bombings_in_the_plural_are_an_event_and_a_door_is_no_month() -> None:
    """ "بثلاثة تفجيرات" tells the event as much as "بتفجير"; "عند باب قسم الطوارئ" (a
    door) is not "in August", so the sentence keeps today's date and stays news."""
    text = (
        "قتل أكثر من عشرين شخصاً في ثلاثة تفجيرات ضربت صباح اليوم محيط الكراجات في مدينة "
        "طرطوس، وفجر انتحاري نفسه عند باب قسم الطوارئ في المشفى."
    )
    (inc,) = current(run(text))
    assert inc.killed == 20 and inc.event_type == "Explosions/Remote violence"
    assert inc.location is not None and inc.location.admin1 == "SY-TA"
    assert inc.occurred_on is not None and inc.occurred_on.month != 8


def test_two_blasts_or_blasts_that_shook_a_place_are_an_event_without_a_toll() -> None:
    """ "هز انفجاران حي الميدان" and "انفجارات تهز محيط المطار" tell explosions at a place,
    though nobody has counted the dead yet; "هجمات وتفجيرات" in a list of habits do not."""
    for text in (
        "هز انفجاران متتاليان صباح اليوم حي الميدان في دمشق، وسط أنباء عن ضحايا.",
        "انفجارات تهز محيط مطار دير الزور العسكري منذ ساعات الصباح.",
    ):
        (inc,) = current(run(text))
        assert inc.event_type == "Explosions/Remote violence", text
        assert inc.killed is None, text
    habits = "تعيش المنطقة على وقع انتهاكات بين قتل وسرقة ونهب وهجمات وتفجيرات."
    assert current(run(habits)) == []


def test_gunmen_who_stormed_a_town_are_a_battle_though_nobody_counted_the_dead() -> None:
    """ "اقتحموا" (they stormed), the plural of "اقتحم", tells the attack as the singular does."""
    text = (
        "اقتحم عشرات المسلحين صباح اليوم بلدة العلم شرقي تكريت بعد تدمير حواجز أمنية عند أطرافها."
    )
    plural = text.replace("اقتحم عشرات المسلحين", "قال شهود إن مسلحين اقتحموا")
    for t in (text, plural):
        (inc,) = current(run(t))
        assert inc.event_type == "Battles", t


def test_a_habit_clause_lends_the_incident_no_perpetrator() -> None:
    """ "اتهم ناشطون خلايا مرتبطة بالنظام بالوقوف وراء التفجيرات المتكررة" is about a run of
    bombings, not this one; "يعتقد أن خلايا داعش تقف وراء التفجير" is about this one."""
    event = "قتل 14 شخصاً بانفجار سيارة مفخخة قرب دوار في مدينة اعزاز شمالي حلب اليوم.\n"
    habit = event + "واتهم ناشطون خلايا مرتبطة بالنظام بالوقوف وراء التفجيرات المتكررة."
    this = event + "ويعتقد أن خلايا داعش تقف وراء التفجير، إذ تنشط في المنطقة منذ أشهر."
    assert [i.perpetrator for i in current(run(habit))] == ["UNKNOWN"]
    assert [i.perpetrator for i in current(run(this))] == ["ISIS"]


def test_a_toll_since_the_attack_itself_is_the_attack_s_toll() -> None:
    """ "ارتفع إلى 90 عدد القتلى منذ اقتحام التنظيم الحقل يوم أمس": the count runs from the
    event, told by its verbal noun with its day a few words on, not over a period."""
    text = (
        "ارتفع إلى 90 على الأقل عدد القتلى في صفوف حراس حقل الشاعر منذ اقتحام تنظيم الدولة "
        "الإسلامية الحقل يوم أمس الخميس."
    )
    _news_not_tally(text, 90, "2014-07-18T10:00:00+03:00")
    # since an attack weeks ago, it is a period's count
    old = run(
        text.replace("يوم أمس الخميس", "في الثالث من حزيران"), published="2014-07-18T10:00:00+03:00"
    )
    assert not [i for i in current(old) if i.killed == 90]


def test_the_bloodiest_since_years_ago_is_a_comparison_not_a_period() -> None:
    """ "من أكثر الهجمات دموية منذ أكثر من أربع سنوات": "منذ" compares the attack with years
    of others, it does not open the period of a tally."""
    text = (
        "وثق المرصد مقتل 96 شخصاً على الأقل في الغارات التي نفذتها طائرات النظام أمس على سوق "
        "في مدينة دوما، ما يجعلها من أكثر الهجمات دموية منذ أكثر من أربع سنوات."
    )
    _news_not_tally(text, 96)


def test_tens_more_bodies_do_not_replace_the_risen_toll() -> None:
    """ "ليبلغ 183 قتيلاً …، إضافة إلى عشرات الجثث": "عشرات" is a round "tens" (10, vague);
    it adds to a count but never replaces the precise figure the sentence just gave."""
    text = (
        "ارتفعت حصيلة القصف الذي استهدف قرية الطيبة بريف حمص أمس لتبلغ 183 قتيلاً بحسب "
        "ناشطين، قالوا إنهم انتشلوا أكثر من مئة جثة من تحت الأنقاض، إضافة إلى عشرات الجثث "
        "الأخرى في الحقول."
    )
    assert [i.killed for i in current(run(text))] == [183]
