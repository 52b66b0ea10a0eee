"""Answers from articles the code has never seen (issue 10): written here, in the style of real news."""

from __future__ import annotations

import pytest

from bot.knowledge.ingest import parse_article, split_sentences
from bot.knowledge.qa import KnowledgeIndex
from bot.render.knowledge import answer_plain, answer_text

RETURN_EN = """---
title: "Crew-12 Splashes Down After Long Stay on the Station"
date: 2033-04-02
source: Example Space News
---

NASA's SpaceX Crew-12 mission ended early Tuesday when the Dragon spacecraft Resolute splashed down off the coast of Tampa, Florida, at 4:12 a.m. EDT.

Commander Priya Natarajan, pilot Tomasz Wielki, and mission specialists Kenji Aoyama and Lucía Ferrer undocked from the Harmony module on Monday. The crew of four spent 181 days in orbit. They travelled 78,201,554 miles and completed 2,896 orbits around Earth.

Natarajan conducted two spacewalks to install a new solar array, and Ferrer grew lettuce in the Veggie facility. The crew also supported a welcome ceremony for the arriving Crew-13 astronauts on March 28.
"""

NAUKA_EN = """---
title: "Russia's Nauka Module Docks With the Station"
date: 2031-07-29
source: Example Orbit Weekly
---

The Nauka laboratory module, the largest Russian addition in years, docked with the International Space Station on Thursday. The module has a mass of about 20 t and is 13 meters long.
Nauka spent eight days catching up with the station after its launch from Baikonur.
"""

SHENZHOU_ZH = """---
title: "神舟二十号载人飞船发射成功"
date: 2030-05-20
source: 示例航天新闻
---

据中国载人航天工程办公室消息，5月20日9时41分，长征二号F遥二十运载火箭在酒泉卫星发射中心点火发射，成功将神舟二十号载人飞船送入预定轨道。

航天员陈海峰、李思远、周晓岚将在天宫空间站驻留约6个月。神舟二十号飞船入轨后，将与天和核心舱径向端口对接。
"""


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    idx = index_of(("crew12.md", RETURN_EN), ("nauka.md", NAUKA_EN), ("shenzhou20.md", SHENZHOU_ZH))
    return idx


def index_of(*articles: tuple[str, str]) -> KnowledgeIndex:
    """An index of these (file name, text) articles, numbered from 1 in order."""
    idx = KnowledgeIndex()
    for i, (name, text) in enumerate(articles, 1):
        idx.add_article(i, parse_article(text.encode(), filename=name), guild_id=None)
    return idx


def ask(index: KnowledgeIndex, question: str) -> tuple[bool, str, str | None]:
    answer = index.answer(question, guild_id=None)
    return answer.found, answer_plain(answer, answer.language), answer_text(answer) if answer.found else None


def test_the_subject_may_be_in_the_title_or_the_sentence_before(index: KnowledgeIndex) -> None:
    found, reply, lead = ask(index, "How many days did the Crew-12 astronauts spend in orbit?")
    assert found and lead == "181 days" and "The crew of four spent 181 days in orbit." in reply


def test_a_mission_named_only_in_passing_gets_no_borrowed_number(index: KnowledgeIndex) -> None:
    # Crew-13 appears in the Crew-12 article, but the 181 days are Crew-12's.
    assert not ask(index, "How many days did Crew-13 spend in orbit?")[0]
    assert not ask(index, "What was the weather like when Crew-13 launched?")[0]


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("What time did Crew-12 splash down?", "4:12 a.m. EDT"),
        ("Where did the Crew-12 Dragon splash down?", "Tampa"),
        ("How far did the Crew-12 crew travel?", "78,201,554 miles"),
        ("How many orbits did Crew-12 complete?", "2,896 orbits"),
        ("Which module did Crew-12 undock from?", "Harmony"),
        ("How many spacewalks did Natarajan conduct?", "two spacewalks"),
        ("How long is the Nauka module?", "13 meters"),
        ("How heavy is the Nauka module?", "20 t"),
    ],
)
def test_the_value_asked_for_leads_the_reply(index: KnowledgeIndex, question: str, lead: str) -> None:
    found, _reply, got = ask(index, question)
    assert found and got is not None and lead in got


def test_a_module_number_is_never_the_station_s(index: KnowledgeIndex) -> None:
    assert not ask(index, "How much does the ISS weigh?")[0]
    assert not ask(index, "国际空间站有多重？")[0]
    assert all(fact.key != "mass" for fact in index.key_facts(None))


@pytest.mark.parametrize(
    "question",
    [
        "hey bot, quick question: how many days did the crew-12 astronauts spend in orbit",
        "um, How many days did the Crew-12 astronauts spend in orbit??",
        "HOW MANY DAYS DID THE CREW-12 ASTRONAUTS SPEND IN ORBIT",
        "how many days did crew-12 spend in orbit",
    ],
)
def test_chatter_case_and_punctuation_do_not_lose_the_answer(index: KnowledgeIndex, question: str) -> None:
    found, _reply, lead = ask(index, question)
    assert found and lead == "181 days"


def test_a_misspelt_name_is_matched_to_the_articles_names(index: KnowledgeIndex) -> None:
    found, _reply, lead = ask(index, "How many spacewalks did Natarajen conduct?")
    assert found and lead is not None and "two" in lead


def test_chinese_question_english_article_answers_in_chinese(index: KnowledgeIndex) -> None:
    found, reply, lead = ask(index, "嗨，请问Crew-12的四名宇航员在轨道上待了多少天？")
    assert found and lead == "181天"
    assert "The crew of four spent 181 days in orbit." in reply and "引自英文原文" in reply


def test_english_question_chinese_article_answers_in_english(index: KnowledgeIndex) -> None:
    found, reply, lead = ask(index, "When did Shenzhou-20 launch?")
    assert found and lead is not None and "May 20" in lead
    assert "神舟二十号" in reply and "quoted from the Chinese article" in reply
    found, reply, lead = ask(index, "Who are the Shenzhou-20 astronauts?")
    assert found and lead is not None and "Chen Haifeng" in lead and "陈海峰" in reply


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("神舟二十号是什么时候发射的？", "5月20日"),
        ("神舟二十號是用什麼火箭發射的？", "长征二号F"),  # Traditional characters
        ("神舟二十号将与哪个舱对接？", "天和"),
        ("神舟二十号的航天员要在天宫驻留多久？", "6个月"),
    ],
)
def test_chinese_questions_on_a_chinese_article(index: KnowledgeIndex, question: str, expected: str) -> None:
    found, reply, _lead = ask(index, question)
    assert found and expected in reply


def test_not_in_my_articles_names_the_nearest_ones(index: KnowledgeIndex) -> None:
    answer = index.answer("How many days did Crew-13 spend in orbit?", guild_id=None)
    reply = answer_plain(answer, "en")
    assert reply.startswith("Not in my articles") and "Crew-12 Splashes Down" in reply


def test_sentences_split_at_citations_abbreviations_and_chinese_marks() -> None:
    assert split_sentences("It docked in 2022.[8] Prior to that it was 3.5 m long. Next.") == [
        "It docked in 2022.[8]",
        "Prior to that it was 3.5 m long.",
        "Next.",
    ]
    assert split_sentences("Lift-off was at 3:27 a.m. Aug. 26 from the U.S. coast. Dr. Lee watched.") == [
        "Lift-off was at 3:27 a.m. Aug. 26 from the U.S. coast.",
        "Dr. Lee watched.",
    ]
    assert split_sentences("“我们到了！”她说。飞船已对接？是的。") == [
        "“我们到了！”她说。",
        "飞船已对接？",
        "是的。",
    ]


SPACEWALK_EN = """---
title: "Two Astronauts Replace a Coolant Pump Outside the Station"
date: 2032-09-14
source: Example Orbit Weekly
---

Finishing 40 minutes ahead of schedule, the spacewalk ended after seven hours and 10 minutes.
The 42-year-old flight engineer Mateo Ruiz and his partner Ines Kowalczyk stowed the old pump on the truss.
Two visitors will be aboard the station for 9 days, before riding home with Ruiz on October 2.
"""


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("How long did the spacewalk last?", "seven hours and 10 minutes"),
        ("how long did the spacewalk take", "seven hours and 10 minutes"),
        ("How long will the visitors stay aboard the station?", "9 days"),
    ],
)
def test_how_long_is_the_duration_not_an_offset_or_an_age(question: str, lead: str) -> None:
    """ "40 minutes ahead of schedule" is how much earlier, "42-year-old" an age; "for 9 days, before …" is
    still a duration."""
    idx = index_of(
        ("crew12.md", RETURN_EN),
        ("nauka.md", NAUKA_EN),
        ("shenzhou20.md", SHENZHOU_ZH),
        ("pump.md", SPACEWALK_EN),
    )
    found, _reply, got = ask(idx, question)
    assert found and got == lead


HERMES_4 = """---
title: "Cargo Ship Hermes 4 Reaches the Station"
date: 2034-02-10
source: Example Orbit Weekly
---

The Hermes 4 docked at 2:15 a.m. on Tuesday, carrying 3.1 tons of food, fuel and experiments.
Crew-13 docked on April 9.
Crew-14 launched on May 2 from Florida and will stay for six months.
"""

HERMES_5 = """---
title: "Hermes 5 Cargo Ship Launches"
date: 2034-08-01
source: Example Orbit Weekly
---

The Hermes 5 lifted off on Friday carrying 2.4 tons of supplies for the crew.
"""

SHENZHOU_ARABIC_ZH = """---
title: "神舟21号航天员完成出舱活动"
date: 2035-03-02
source: 示例航天新闻
---

神舟21号航天员完成第一次出舱活动，出舱活动历时约6小时35分钟。
"""


@pytest.fixture(scope="module")
def designated() -> KnowledgeIndex:
    idx = index_of(
        ("h4.md", HERMES_4), ("h5.md", HERMES_5), ("sz21.md", SHENZHOU_ARABIC_ZH), ("crew12.md", RETURN_EN)
    )
    return idx


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        # "Hermes 4" is one designator like "Crew-7": Hermes 5's tons are not Hermes 4's; its 4 and the
        # 2 of "2:15 a.m." are no quantities
        ("How much cargo was Hermes 4 carrying?", "3.1 tons"),
        ("How much cargo did Hermes 5 carry?", "2.4 tons"),
        # 神舟二十一号 is 神舟21号
        ("神舟二十一号的第一次出舱活动持续了多久？", "6小时35分钟"),
        ("When did Crew-14 launch?", "May 2"),
    ],
)
def test_a_name_and_its_number_are_one_designator(
    designated: KnowledgeIndex, question: str, lead: str
) -> None:
    found, _reply, got = ask(designated, question)
    assert found and got is not None and lead in got


def test_when_asks_about_the_event_named(designated: KnowledgeIndex) -> None:
    """The article gives Crew-14's launch, not its docking: "when did it dock" is not answered with the
    launch, nor with Crew-13's docking in the sentence before."""
    assert not ask(designated, "When did Crew-14 dock to the station?")[0]
    assert not ask(designated, "Where did Hermes 5 land?")[0]


FAR_SUBJECT_EN = """---
title: "A Cargo Ship Berths at the Station"
date: 2034-11-03
source: Example Orbit Weekly
---

Hermes 6 was captured by the station's robotic arm on Sunday.

Flight controllers in Houston watched the approach. The astronauts opened the hatch on Monday morning.
They began unloading food, clothes and spare parts the same day.

The cargo ship had launched from Wallops Island three days earlier.
"""

TWO_SHIPS_EN = """---
title: "Two Cargo Ships at Once"
date: 2034-12-09
source: Example Orbit Weekly
---

Hermes 8 left the station on Tuesday, and Hermes 9 arrived on Thursday.

Flight controllers in Houston watched both. The astronauts opened the hatch on Friday morning.
They began unloading food, clothes and spare parts the same day.

The cargo ship had launched from Tanegashima four days earlier.
"""


def test_an_article_about_one_mission_answers_far_from_its_name() -> None:
    """The launch site is four sentences after the only "Hermes 6"; an article naming two ships of the
    same name does not lend either its unattributed sentence."""
    idx = index_of(("far.md", FAR_SUBJECT_EN), ("two.md", TWO_SHIPS_EN))
    found, _reply, got = ask(idx, "Where did Hermes 6 launch from?")
    assert found and got == "Wallops Island"
    assert not ask(idx, "Where did Hermes 9 launch from?")[0]


LANDING_ZH = """---
title: "联盟飞船返回舱着陆"
date: 2035-06-04
source: 示例航天新闻
---

载有3名宇航员的飞船从空间站返回，当地时间3日晨在哈萨克斯坦境内成功降落。

返回地球的是美国宇航员佩吉·惠特森和杰克·费希尔，以及俄罗斯宇航员费奥多尔·尤尔奇欣。
"""


def test_chinese_names_are_people_not_places_dates_or_titles() -> None:
    idx = index_of(("landing.md", LANDING_ZH))
    found, _reply, got = ask(idx, "返回地球的宇航员是谁？")
    assert found and got is not None
    names = got.split("、")
    assert "佩吉·惠特森" in names and "杰克·费希尔" in names
    assert not {"哈萨克斯坦", "日晨", "航员费奥多尔·尤尔奇欣"} & set(names), got


REPLACEMENT_EN = """---
title: "An Empty Soyuz Will Fly Up to Replace Soyuz MS-40"
date: 2036-01-12
source: Example Orbit Weekly
---

Roscosmos said it will send up an empty Soyuz spacecraft to replace Soyuz MS-40 and bring its crew home in the autumn.
A coolant leak caused by a micrometeoroid strike left the spacecraft unsafe for its crew.
"""


def test_why_is_answered_by_the_sentence_giving_the_cause() -> None:
    idx = index_of(("ms40.md", REPLACEMENT_EN))
    found, reply, _lead = ask(idx, "Why can't the Soyuz MS-40 crew come home on their own spacecraft?")
    assert found and "coolant leak" in reply


DOCKING_ZH = """---
title: "进步号货运飞船手动对接空间站"
date: 2037-08-16
source: 示例航天新闻
---

进步99号货运飞船于莫斯科时间10点半成功和国际空间站对接。

航天员第一次出舱活动历时约七个小时。
"""


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("进步99号是几点和空间站对接的？", "10点半"),
        ("What time did Progress 99 dock with the station?", "10:30"),
        ("航天员第一次出舱活动持续了多久？", "七个小时"),
        # the question's month is the article's date, not in its text
        ("When did Progress 99 dock with the station in August 2037?", "10:30"),
    ],
)
def test_chinese_clock_and_count_words_and_the_article_date(question: str, lead: str) -> None:
    idx = index_of(("p99.md", DOCKING_ZH))
    found, _reply, got = ask(idx, question)
    assert found and got is not None and lead in got


def test_an_ordinal_is_not_another_one() -> None:
    """The article tells the first spacewalk: the second is not in it."""
    idx = index_of(("p99.md", DOCKING_ZH))
    assert not ask(idx, "航天员第二次出舱活动持续了多久？")[0]


def test_a_ship_prefix_does_not_end_a_sentence() -> None:
    text = (
        "The ship, named the S.S. John Glenn after the astronaut, arrived on Sunday. It docked an hour later."
    )
    assert split_sentences(text) == [
        "The ship, named the S.S. John Glenn after the astronaut, arrived on Sunday.",
        "It docked an hour later.",
    ]


PRIVATE_EN = """---
title: "Private Crew Arrives at the Station"
date: 2034-03-11
source: Example Orbit Weekly
---

A Dragon spacecraft carrying four private astronauts docked with the International Space Station on Saturday. Mission commander Inés Muñoz-Ibáñez, a former NASA astronaut, leads the crew.

The Dragon held 15 meters from the station for about 30 minutes while controllers fixed a video link. The Russian cosmonaut Pavel Drozdov opened the hatch of the Zvezda module about two hours later.

The crew will spend ten days aboard. The temperature on the sunlit side of the capsule reached 90 degrees C during the approach.
"""


@pytest.fixture(scope="module")
def private() -> KnowledgeIndex:
    return index_of(("private.md", PRIVATE_EN), ("nauka.md", NAUKA_EN))


def test_a_name_typed_without_its_accents_is_found(private: KnowledgeIndex) -> None:
    found, reply, _lead = ask(private, "what did munoz-ibanez lead")
    assert found and "Muñoz-Ibáñez" in reply


def test_a_chinese_name_with_no_english_rendering_does_not_shut_out_an_english_article(
    private: KnowledgeIndex,
) -> None:
    # "穆尼奥斯" (Muñoz) is in no dictionary: the English article is judged on the rest of the question.
    found, _reply, lead = ask(private, "穆尼奥斯带领的私人乘组要在空间站待多少天？")
    assert found and lead == "10天"


def test_a_nationality_qualifies_the_question_it_is_not_a_required_name(private: KnowledgeIndex) -> None:
    found, _reply, lead = ask(private, "Which Russian cosmonaut opened the hatch?")
    assert found and lead is not None and "Pavel Drozdov" in lead


def test_a_word_for_the_measure_is_said_by_a_value_in_its_unit(private: KnowledgeIndex) -> None:
    found, _reply, lead = ask(
        private, "how far from the station did the dragon wait while they fixed the video"
    )
    assert found and lead is not None and "15 meters" in lead
    found, _reply, lead = ask(private, "how heavy is the nauka lab")
    assert found and lead is not None and "20 t" in lead


def test_a_word_choosing_one_value_must_be_in_the_sentence(private: KnowledgeIndex) -> None:
    # The capsule's *sunlit side* reached 90 °C: that is not the temperature *inside* it.
    assert not ask(private, "What was the temperature inside the capsule?")[0]
    assert ask(private, "What temperature did the sunlit side of the capsule reach?")[0]


def test_a_chinese_vehicle_name_must_be_in_the_article(private: KnowledgeIndex) -> None:
    # 梦天 (Mengtian) is in no article: the Nauka module's mass is not its answer.
    assert not ask(private, "梦天实验舱有多重？")[0]


ROTATION_EN = """---
title: "Crew-21 Arrives at the Station Aboard Dragon Fortitude"
date: 2035-02-20
source: Example Orbit Weekly
---

The Crew-21 Dragon, named Fortitude by its crew, docked with the International Space Station on Feb. 19 after a 26-hour trip. Its launch was on Feb. 18 from Florida.

NASA astronauts Laura Whitcombe and Dev Malhotra fly with Japanese astronaut Sora Inagaki. Whitcombe is the spacecraft commander. Malhotra is the pilot. Inagaki, 49, is on his third flight.

The station now holds nine people, the most since Nov. 17 of last year. Inagaki's earlier flights include shuttle missions in 2009 and 2012, and a Soyuz flight in 2016.

The cargo ship Progress 95, launched on Feb. 10, has docked with the Zvezda module. The station's Canadarm 2 robotic arm is 57.7 feet long.
"""

CREW_ZH = """---
title: "神舟三十号航天员乘组公布"
date: 2035-05-01
source: 示例航天新闻
---

新华社酒泉5月1日电(记者周明)据中国载人航天工程办公室消息,神舟三十号航天员乘组由指令长韩立新、航天飞行工程师宋佳和载荷专家桂远航组成。

迄今共有312名航天员进入过太空。神舟三十号计划于5月20日发射,乘组在轨驻留约6个月,计划于今年11月返回东风着陆场。
"""


@pytest.fixture(scope="module")
def rotation() -> KnowledgeIndex:
    idx = index_of(("crew21.md", ROTATION_EN), ("shenzhou30.md", CREW_ZH))
    return idx


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        # one surname in the sentence is the person the article names in full
        ("Who is the pilot of the Crew-21 Dragon?", "Dev Malhotra"),
        # a person named in the sentence is what it says of the question ("Inagaki, 49, …")
        ("How old is Sora Inagaki?", "49"),
        # the date of the docking, not of the launch told in the same article
        ("When did Progress 95 dock?", None),
        # of several years, the one next to the words asked about
        ("In what year did Inagaki fly on a Soyuz?", "2016"),
        # "Nov. 17" is a date, not a count of people
        ("How many people does the station hold now?", "nine"),
        # "Canadarm2" and "Canadarm 2" are one name
        ("How long is the Canadarm2 arm?", "57.7 feet"),
    ],
)
def test_who_when_and_how_many_read_the_right_value(
    rotation: KnowledgeIndex, question: str, lead: str | None
) -> None:
    found, _reply, got = ask(rotation, question)
    if lead is None:
        assert not found or (got is not None and "Feb. 10" not in got)
    else:
        assert found and got is not None and lead in got


def test_a_month_before_a_noun_is_not_a_name(rotation: KnowledgeIndex) -> None:
    # "the February docking": February is not a thing the article must name
    found, _reply, lead = ask(rotation, "Who commanded the February docking of Crew-21?")
    assert found and lead is not None and "Laura Whitcombe" in lead


def test_where_asked_first_is_a_where_question(rotation: KnowledgeIndex) -> None:
    found, _reply, lead = ask(rotation, "Where will the Shenzhou-30 crew land when they come home?")
    assert found and lead is not None and "Dongfeng" in lead


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("迄今一共有多少名航天员进入过太空？", "312名"),  # the counter 名 is said by "312名"
        ("神舟三十号的载荷专家是谁？", "桂远航"),  # a name after its role, before 是/组成
        ("神舟三十号什么时候发射？", "5月20日"),  # not the return date in the same sentence
    ],
)
def test_chinese_counters_roles_and_events(rotation: KnowledgeIndex, question: str, expected: str) -> None:
    found, _reply, lead = ask(rotation, question)
    assert found and lead is not None and expected in lead


def test_the_reporter_of_a_dispatch_is_not_one_of_its_people(rotation: KnowledgeIndex) -> None:
    found, _reply, lead = ask(rotation, "神舟三十号的指令长是谁？")
    assert found and lead is not None and "韩立新" in lead and "周明" not in lead


PLANS_ZH = """---
title: "问天实验舱运抵发射场"
date: 2036-06-01
source: 示例航天新闻
---

根据任务安排,问天实验舱将于7月发射。

联盟MS-40号飞船对接比计划晚了大约20分钟。

问天实验舱发射后,还将实施天舟九号货运飞船发射任务。
"""

WALK_EN = """---
title: "Spacewalkers Replace a Pump Outside the Station"
date: 2036-09-12
source: Example Orbit Weekly
---

Soyuz MS-41 launched in September from Baikonur with cosmonauts Ilya Borodin and Pyotr Lenskiy. Borodin and Lenskiy stayed outside for 6 hours and 40 minutes on Monday to replace a pump.

The Russian cosmonaut Lenskiy will ride home on the Soyuz in March.
"""


@pytest.fixture(scope="module")
def plans() -> KnowledgeIndex:
    idx = index_of(("plans.md", PLANS_ZH), ("walk.md", WALK_EN))
    return idx


def test_the_value_is_not_another_spacecraft_s(plans: KnowledgeIndex) -> None:
    # the article names 天舟九号 only in passing: July is 问天's launch
    assert not ask(plans, "天舟九号是几月发射的？")[0]
    found, _reply, lead = ask(plans, "问天实验舱几月发射？")
    assert found and lead is not None and "7月" in lead


def test_a_designator_number_is_no_date_and_late_is_an_offset(plans: KnowledgeIndex) -> None:
    found, _reply, lead = ask(plans, "联盟MS-40号对接晚了多少分钟？")
    assert found and lead is not None and "20分钟" in lead
    assert not ask(plans, "When did the next Soyuz after MS-40 launch?")[0]


def test_a_month_is_no_place_and_a_side_is_a_word(plans: KnowledgeIndex) -> None:
    found, _reply, lead = ask(plans, "Where did Soyuz MS-41 launch from?")
    assert found and lead is not None and "Baikonur" in lead
    found, _reply, lead = ask(plans, "how long did borodin and lenskiy stay outside")
    assert found and lead is not None and "6 hours and 40 minutes" in lead


def test_a_nationality_asked_for_is_a_person(plans: KnowledgeIndex) -> None:
    found, _reply, lead = ask(plans, "which russian will ride home on the soyuz")
    assert found and lead is not None and "Lenskiy" in lead


def test_a_temperature_asked_needs_a_temperature(plans: KnowledgeIndex) -> None:
    assert not ask(plans, "how hot did it get outside during the pump spacewalk")[0]
    assert not ask(plans, "国际空间站一共有多少个舱段？")[0]  # a count of modules is no "6 hours"


UNDOCK_ZH = """---
title: "四名宇航员乘龙飞船返回地球"
date: 2037-03-09
source: 示例通讯社
---

(示例社休斯敦8日电)美国籍的哈珀(Jane Harper)、日本籍的森田健和俄罗斯籍的沃尔科夫(Ivan Volkov)今天搭乘龙飞船离开国际空间站,两人此前曾执行过太空行走。

中新社北京3月8日电 检查人员3月6日发现舱体外壁有一道划痕,飞船于3月8日撤离空间站。
"""

HAUL_EN = """---
title: "Cargo Ship Kestrel 4 Berths at the Station"
date: 2037-05-02
source: Example Orbit Weekly
---

The cargo ship Kestrel 4 berthed with the station on Friday. Kestrel 4 measures 9 meters long, and its cargo of about 3.1 tons includes food and spare parts.

Astronaut Mei Okabe captured Kestrel 4 with the robotic arm.
"""


@pytest.fixture(scope="module")
def undock() -> KnowledgeIndex:
    idx = index_of(("undock.md", UNDOCK_ZH), ("haul.md", HAUL_EN), ("nauka.md", NAUKA_EN))
    return idx


def test_a_chinese_name_glossed_in_english_is_one_person(undock: KnowledgeIndex) -> None:
    found, _reply, lead = ask(undock, "Which Russian left the station on the Dragon?")
    assert found and lead is not None and "Ivan Volkov" in lead
    found, _reply, lead = ask(undock, "这次乘龙飞船离开空间站的俄罗斯宇航员是谁？")
    assert found and lead is not None and "沃尔科夫" in lead and "两人" not in lead


def test_the_date_of_the_dispatch_and_of_another_event_are_not_the_answer(undock: KnowledgeIndex) -> None:
    found, _reply, lead = ask(undock, "划痕是哪天发现的？")
    assert found and lead is not None and "3月6日" in lead


def test_how_much_cargo_is_a_mass(undock: KnowledgeIndex) -> None:
    found, _reply, lead = ask(undock, "how much cargo did kestrel 4 haul up")
    assert found and lead is not None and "3.1 tons" in lead


def test_a_name_typed_in_lower_case_must_be_in_the_article(undock: KnowledgeIndex) -> None:
    # "okabe" is written with a capital in the articles: an article without her does not answer
    found, _reply, lead = ask(undock, "who did okabe capture with the arm")
    assert not found or (lead is not None and "Kestrel" in lead)
    assert not ask(undock, "how long is okabe's module")[0]


SUPPLY_EN = """---
title: "Progress 99 Reaches the Station"
date: 2038-06-16
source: Example Orbit Weekly
---

Progress MS-99—called Progress 99 by NASA—was launched from Baikonur on June 14 and docked automatically with Zvezda on June 16. Russian cosmonaut Oleg Tarasov monitored the docking.

MOSCOW — A Soyuz spacecraft carrying three crewmembers joined the station today, raising the crew to seven people. Soyuz MS-98 had launched two days earlier.

The Wentian module will launch in October.

Soyuz MS-97 is scheduled to launch next spring.
"""


@pytest.fixture(scope="module")
def supply() -> KnowledgeIndex:
    idx = index_of(("supply.md", SUPPLY_EN))
    return idx


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("When did Progress MS-99 dock?", "June 16"),  # "MS-99—called": the dash parts the words
        ("Which cosmonaut monitored the Progress MS-99 docking?", "Oleg Tarasov"),  # Zvezda is no one
        ("how many people were on the station once ms-98 got there", "seven people"),  # its own Soyuz
    ],
)
def test_a_spacecraft_named_as_the_object_or_the_mission_s_own_is_not_another(
    supply: KnowledgeIndex, question: str, lead: str
) -> None:
    found, _reply, got = ask(supply, question)
    assert found and got is not None and lead in got


def test_a_month_after_another_spacecraft_is_not_the_mission_s(supply: KnowledgeIndex) -> None:
    # MS-97 is only in the next paragraph: October is Wentian's launch
    found, _reply, lead = ask(supply, "When will Soyuz MS-97 launch?")
    assert not found or "October" not in (lead or "")


def test_words_no_article_uses_do_not_hide_the_sentence(supply: KnowledgeIndex) -> None:
    # "folks", "hang", "whatsoever" are in no article: the rarest words that are still find the sentence
    found, _reply, lead = ask(
        supply, "yo which russian folks monitored the progress ms-99 docking whatsoever"
    )
    assert found and lead is not None and "Tarasov" in lead


def test_an_ordinal_asked_is_read_as_one(rotation: KnowledgeIndex, private: KnowledgeIndex) -> None:
    found, _reply, lead = ask(rotation, "Sora Inagaki is on his how-manyth flight?")
    assert found and lead is not None and "third" in lead
    found, _reply, lead = ask(private, "how big is the nauka module")  # a size is a length
    assert found and lead is not None and "13 meters" in lead


def test_who_was_the_first_needs_first_in_the_sentence(rotation: KnowledgeIndex) -> None:
    assert not ask(rotation, "Who was the first astronaut to command a Dragon?")[0]


NAMED_EN = """---
title: "Crew-30 Reaches the Station"
date: 2039-01-10
source: Example Orbit Weekly
---

The four astronauts of Crew-30 arrived at the International Space Station on Friday. Their Crew Dragon “Perseverance” docked at 6:02 a.m.
"""


def test_a_quoted_name_answers_what_it_is_called() -> None:
    idx = index_of(("named.md", NAMED_EN))
    found, _reply, lead = ask(idx, "What did the Crew-30 astronauts name their Dragon?")
    assert found and lead == "Perseverance"


RETURN_ZH = """---
title: "神舟四十号载人飞船返回舱成功着陆"
date: 2040-04-18
source: 示例广播网
---

示例网北京4月18日消息(记者王小明 李大海)据中国载人航天工程办公室消息,神舟四十号载人飞船返回舱在东风着陆场成功着陆,执行飞行任务的航天员高远山、林晓波、方静安全顺利出舱。

20点30分,三名航天员乘坐任务飞机平安抵达北京,并向总指挥长张国庆报告。

这种返回舱的基本设计可以追溯到上世纪60年代。
"""


@pytest.fixture(scope="module")
def returned() -> KnowledgeIndex:
    idx = index_of(("return.md", RETURN_ZH))
    return idx


def test_the_crew_listed_after_their_role_are_the_astronauts(returned: KnowledgeIndex) -> None:
    found, _reply, lead = ask(returned, "神舟四十号的三名航天员是谁？")
    assert found and lead is not None
    assert all(name in lead for name in ("高远山", "林晓波", "方静")), lead
    assert not any(name in lead for name in ("王小明", "李大海", "张国庆")), lead


def test_a_decade_answers_which_decade(returned: KnowledgeIndex) -> None:
    found, _reply, lead = ask(returned, "返回舱的基本设计能追溯到哪个年代？")
    assert found and lead is not None and "60年代" in lead


TRAINING_ZH = """---
title: "日本游客将飞赴空间站"
date: 2041-02-01
source: 示例日报
---

日本企业家山本健太将于12月8日在哈萨克斯坦的拜科努尔航天发射场搭乘联盟飞船前往国际空间站。

俄罗斯航天局表示,他将于6月在莫斯科郊外的加加林宇航员训练中心开始飞行前训练。
"""


def test_which_kind_of_place_is_answered_by_a_place_of_that_kind() -> None:
    idx = index_of(("training.md", TRAINING_ZH))
    found, _reply, lead = ask(idx, "山本健太将从哪个发射场出发？")
    assert found and lead is not None and "拜科努尔" in lead and "训练中心" not in lead


DELAY_ZH = """---
title: "神舟四十一号乘组推迟返回"
date: 2041-11-06
source: 示例日报
---

按照原计划,神舟四十一号航天员乘组应于11月5日返回地球,因返回舱舷窗出现细微裂纹,返回推迟。
"""


def test_words_jieba_glues_with_a_particle_are_no_names() -> None:
    # "按原" (from 按原计划) is no name the article must contain
    idx = index_of(
        ("delay.md", DELAY_ZH), ("return.md", RETURN_ZH), ("training.md", TRAINING_ZH), ("plans.md", PLANS_ZH)
    )
    found, reply, _lead = ask(idx, "神舟四十一号为什么没能按原计划返回？")
    assert found and "裂纹" in reply


FLIGHT_ZH = """---
title: "龙飞船载四名宇航员离开空间站"
date: 2042-03-08
source: 示例通讯社
---

四名宇航员今天搭乘龙飞船离开国际空间站,预计耗时17个多小时飞行,于明天下午溅落。这批宇航员在空间站停留了3个多月。
"""


def test_chinese_more_than_durations_and_this_batch() -> None:
    idx = index_of(("flight.md", FLIGHT_ZH), ("return.md", RETURN_ZH), ("plans.md", PLANS_ZH))
    found, _reply, lead = ask(idx, "龙飞船离开空间站后预计要飞多久才溅落？")
    assert found and lead is not None and "17个多小时" in lead
    found, _reply, lead = ask(idx, "How long will the Dragon fly before it splashes down?")
    assert found and lead is not None and "over 17 hours" in lead
    found, _reply, lead = ask(idx, "这批宇航员在空间站待了多久？")  # 这批 is no name
    assert found and lead is not None and "3个多月" in lead


HATCH_EN = """---
title: "Soyuz MS-60 Docks"
date: 2042-06-08
source: Example Orbit Weekly
---

Soyuz MS-60 docked with the station on Friday after a two-day journey, bringing three new crewmembers.

The Soyuz attached to the Rassvet module, and the hatch opened a bit more than two hours later.
"""


def test_a_name_after_its_nationality_and_an_offset_asked(undock: KnowledgeIndex) -> None:
    # "日本籍的森田健和…": the name after 籍的, not a vehicle ending in 号
    found, _reply, lead = ask(undock, "这次乘龙飞船离开空间站的日本宇航员是谁？")
    assert found and lead is not None and "森田健" in lead
    idx = index_of(("hatch.md", HATCH_EN), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    found, _reply, lead = ask(idx, "how long after docking did they open the ms-60 hatch")
    assert found and lead is not None and "two hours" in lead


TILT_EN = """---
title: "Module Thrusters Tilt the Station"
date: 2043-07-29
source: Example Orbit Weekly
---

The new Zorya module fired its thrusters after docking, and the station was knocked out of its normal attitude by about 30 degrees. The station was over eastern China when Zorya docked.

These days Soyuz takes crews to and from the station twice a year. Cosmonauts Lev Orlov and Ivan Gusev were about to head out on a spacewalk when the alarm sounded.
"""


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("how far did zorya knock the station out of its attitude", "30 degrees"),  # an angle asked
        ("how often does soyuz ferry crews to the station", "twice a year"),
        ("over what part of the world was the station when zorya docked", "China"),
        ("which two cosmonauts were about to head out on a spacewalk", "Lev Orlov"),  # "head" is no role here
    ],
)
def test_angles_frequencies_regions_and_a_verb_that_looks_like_a_role(question: str, lead: str) -> None:
    idx = index_of(("tilt.md", TILT_EN), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    found, _reply, got = ask(idx, question)
    assert found and got is not None and lead in got


RECORD_EN = """---
title: "Record Stays Aboard Orbiting Stations"
date: 2044-02-04
source: Example Orbit Weekly
---

Cosmonaut Dmitri Voronov spent 441 days aboard Mir in 1994-1995, the longest single flight.
Fellow Russian Pavel Kuzmin spent 379 days in orbit in 1998-1999.
"""


def test_a_transliterated_name_is_matched_to_the_name_it_sounds_like() -> None:
    idx = index_of(("record.md", RECORD_EN), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    # 沃罗诺夫 (Voronov) is in no dictionary; jieba may cut it in two
    found, _reply, lead = ask(idx, "沃罗诺夫在和平号上待了多少天？")
    assert found and lead is not None and "441" in lead
    assert not ask(idx, "别尔金在和平号上待了多少天？")[0]  # a name that sounds like no one here


GRAB_EN = """---
title: "Cargo Craft Heron 9 Captured by the Robotic Arm"
date: 2044-10-23
source: Example Orbit Weekly
---

The uncrewed Heron 9 cargo spacecraft was grabbed by the station's robotic arm at 11:28 GMT on Sunday.
This mission is called Heron Resupply-9, the ninth uncrewed flight of the series.
"""


def test_a_time_zone_qualifies_and_uncrewed_is_unmanned() -> None:
    idx = index_of(("grab.md", GRAB_EN), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    found, _reply, lead = ask(idx, "Heron 9货运飞船是在格林尼治时间几点被机械臂抓住的？")
    assert found and lead is not None and "11:28" in lead
    found, reply, _lead = ask(idx, "Heron 9这次无人飞行任务叫什么？")
    assert found and "Heron Resupply-9" in reply


def test_a_dotted_name_stops_before_its_verb_and_a_long_name_s_words_are_phrase_words() -> None:
    from bot.knowledge.extraction import chinese_names
    from bot.knowledge.question import analyse

    names = [
        c.surface
        for c in chinese_names("俄罗斯宇航员安德烈·费多罗夫通过控制欧洲机械臂将散热器移到新的位置。")
    ]
    assert "安德烈·费多罗夫" in names and not any("通过" in n for n in names)
    # "Arm" of "European Robotic Arm" is translated with the whole name (机械臂): not looked for alone there
    arm = next(c for c in analyse("Who operated the European Robotic Arm?").concepts if c.label == "arm")
    assert arm.entity and arm.phrase


CRACK_ZH = """---
title: "神舟五十號乘組推遲返回"
date: 2045-11-15
source: 示例新聞
---

就在啟程前一天,即11月4日,對返回艙進行檢查時,指令長王明用肉眼發現了舷窗上的裂紋。乘組最終於11月14日乘坐神舟五十一號返回。

神舟五十一號乘組將在軌工作生活6個月。這次飛行據估計要花費2.5億元。
"""


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("舷窗裂纹是哪天发现的？", "11月4日"),  # 返回舱 is a capsule, not the return
        ("神舟五十一号乘组要在轨工作生活多长时间？", "6个月"),  # read from 6個月
        ("这次飞行据估计要花多少钱？", "2.5亿"),  # 多少钱 asks, it is not a word to look for
    ],
)
def test_traditional_values_capsule_words_and_question_words(question: str, expected: str) -> None:
    idx = index_of(("crack.md", CRACK_ZH), ("return.md", RETURN_ZH), ("plans.md", PLANS_ZH))
    found, _reply, lead = ask(idx, question)
    assert found and lead is not None and expected in lead


def test_how_much_time_is_a_duration_and_a_module_count_is_read() -> None:
    text = """---
title: "Spacewalk Veteran Logs More Hours"
date: 2046-03-01
source: Example Orbit Weekly
---

Before this outing, Mara Lindqvist had spent a total of 31 hours and 12 minutes spacewalking, with two women on the team.

天和核心舱径向端口对接后,空间站将形成三舱三船组合体。
"""
    idx = index_of(("walker.md", text), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    found, _reply, lead = ask(idx, "How much spacewalking time had Lindqvist logged?")
    assert found and lead is not None and "31 hours" in lead
    found, _reply, lead = ask(idx, "对接后,空间站将形成几舱几船的组合体？")
    assert found and lead is not None and "三舱" in lead


def test_who_was_the_first_needs_what_it_was_the_first_of(rotation: KnowledgeIndex) -> None:
    # "his third flight" and "the spacecraft commander" are no "first astronaut to command"
    assert not ask(rotation, "Who was the first astronaut to fly on Fortitude?")[0]


LATCH_EN = """---
title: "Soyuz MS-70 Joins the Station"
date: 2046-06-08
source: Example Orbit Weekly
---

The Soyuz MS-70 linked up with the ISS over eastern China, attaching to the Russian Rassvet module. SpaceX's Dragon was already there when Soyuz MS-70 arrived.
"""


def test_which_kind_is_answered_by_the_name_next_to_it_and_when_can_join_a_clause() -> None:
    from bot.knowledge.question import analyse

    idx = index_of(("latch.md", LATCH_EN), ("walk.md", WALK_EN), ("nauka.md", NAUKA_EN))
    # "module" is the kind asked, not the nationality before it
    found, _reply, lead = ask(idx, "which russian module did ms-70 latch onto")
    assert found and lead == "Rassvet"
    assert analyse("what other crew ship was already there when soyuz ms-70 arrived").qtype == "what"
