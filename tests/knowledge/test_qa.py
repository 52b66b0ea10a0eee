from __future__ import annotations

import datetime as dt

import pytest

from bot.knowledge.ingest import ParsedArticle, parse_article
from bot.knowledge.qa import KnowledgeIndex
from bot.render.knowledge import answer_plain, answer_text, fact_text
from bot.render.phrasing import value_text

# An article the code has never seen: other station numbers, other crew, other format.
NEW_CREW_ARTICLE = """---
title: "Fresh crew docks at the orbiting lab"
date: 2031-03-14
author: Jo Writer
source: Example Orbit News
---

# Fresh crew docks at the orbiting lab

![The capsule approaches the forward port](https://example.org/img/approach.jpg)
*Photo: ESA/J. Writer*

The capsule carrying the new four-member crew docked with the International Space Station on Tuesday.
The crew members are Lena Okafor and Samuel Brightwater from NASA, Aiko Tanaka of JAXA, and Roscosmos
cosmonaut Dmitri Volkov.
Commander Lena Okafor said the view from the cupola was unforgettable.
The station circles the planet every 93 minutes at an altitude of about 420 kilometers.
On the sunlit side, surface temperatures can climb to 121 °C, while in darkness they fall to −157 °C.
More than 280 people from 23 countries have visited the outpost.
Aiko Tanaka took the photos during the approach.
"""

GUILD_A, GUILD_B = 1111, 2222


@pytest.fixture
def new_article() -> ParsedArticle:
    return parse_article(NEW_CREW_ARTICLE.encode(), filename="fresh-crew.md")


def test_new_article_is_read_like_the_seeds(new_article: ParsedArticle) -> None:
    assert new_article.title == "Fresh crew docks at the orbiting lab"
    assert new_article.published == dt.date(2031, 3, 14)
    assert {(c.name, c.agency) for c in new_article.crew} == {
        ("Lena Okafor", "NASA"),
        ("Samuel Brightwater", "NASA"),
        ("Aiko Tanaka", "JAXA"),
        ("Dmitri Volkov", "Roscosmos"),
    }
    assert next(c for c in new_article.crew if c.name == "Lena Okafor").role == "commander"
    facts = {f.key: f.value for f in new_article.facts if f.key != "number"}
    assert facts["orbit_period"] == 93
    assert facts["altitude"] == 420
    assert facts["temperature_max"] == 121
    assert facts["temperature_min"] == -157
    assert facts["visitors"] == 280
    assert facts["countries"] == 23
    assert facts["crew_size"] == 4
    assert new_article.photographer == "Aiko Tanaka"
    assert new_article.images[0].credit == "ESA/J. Writer"


def test_new_article_answers_in_both_languages(new_article: ParsedArticle) -> None:
    index = KnowledgeIndex()
    index.add_article(10, new_article, guild_id=None)
    ask = lambda q: index.answer(q, guild_id=None)  # noqa: E731
    a = ask("How long does the ISS take to orbit the Earth?")
    assert a.found and "93 minutes" in answer_text(a) and a.article_id == 10
    assert a.quote and "93 minutes" in a.quote
    assert a.sources == ["Fresh crew docks at the orbiting lab"]
    assert a.article_date == dt.date(2031, 3, 14)
    assert "93分钟" in answer_text(ask("国际空间站绕地球一圈要多久？"))
    assert "420 km (261 mi)" in answer_text(ask("What is the station's altitude?"))
    assert "−157 °C (−251 °F)" in answer_text(ask("How cold does it get in darkness?"))
    assert "121 °C（250 °F）" in answer_text(ask("空间站最高温度是多少？"))
    assert "Lena Okafor" in answer_text(ask("Who is the commander?"))
    assert "Aiko Tanaka" in answer_text(ask("这些照片是谁拍的？"))
    assert "JAXA" in answer_text(ask("Which agency is Aiko Tanaka with?"))
    crew = answer_text(ask("Who is on the crew?"))
    assert all(name in crew for name in ("Lena Okafor", "Samuel Brightwater", "Aiko Tanaka", "Dmitri Volkov"))
    assert "Samuel Brightwater" in answer_text(ask("哪些乘员来自NASA？"))
    assert not ask("How many people have walked on the Moon?").found
    assert not ask("Who is the commander of the Tiangong station?").found


def test_newest_article_wins_and_sources_list_the_others(
    seeds: dict[str, ParsedArticle], new_article: ParsedArticle
) -> None:
    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)
    index.add_article(2, seeds["zh"], guild_id=None)
    index.add_article(3, new_article, guild_id=None)
    a = index.answer("What is the orbital period of the ISS?", guild_id=None)
    assert "93" in answer_text(a) and a.article_id == 3
    assert set(a.sources) >= {new_article.title, seeds["en"].title}
    assert {c.name for c in index.crew(None)} == {c.name for c in new_article.crew}


def test_guild_scoping(seeds: dict[str, ParsedArticle], new_article: ParsedArticle) -> None:
    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)
    index.add_article(7, new_article, guild_id=GUILD_A)
    in_a = index.answer("Who took the photos?", guild_id=GUILD_A)
    in_b = index.answer("Who took the photos?", guild_id=GUILD_B)
    assert "Aiko Tanaka" in answer_text(in_a)
    assert "Thomas Pesquet" in answer_text(in_b) and in_b.article_id == 1
    assert not index.answer("Which agency is Aiko Tanaka with?", guild_id=GUILD_B).found
    assert not index.answer("Which agency is Aiko Tanaka with?", guild_id=None).found
    assert index.crew_member("Aiko Tanaka", GUILD_B) is None
    assert index.crew_member("aiko tanaka", GUILD_A) is not None
    assert index.find_crew("Aik", GUILD_B) == []
    assert [e.name for e in index.find_crew("Aik", GUILD_A)] == ["Aiko Tanaka"]
    assert "93" in answer_text(index.answer("How long is one orbit of the ISS in minutes?", guild_id=GUILD_A))
    assert "92" in answer_text(index.answer("How long is one orbit of the ISS in minutes?", guild_id=GUILD_B))
    b_ids = {i for i, _t in index.articles(GUILD_B)}
    assert b_ids == {1}


def test_remove_and_replace(seeds: dict[str, ParsedArticle], new_article: ParsedArticle) -> None:
    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)
    index.add_article(3, new_article, guild_id=None)
    assert "93" in answer_text(index.answer("How long does an orbit take?", guild_id=None))
    assert index.remove_article(3) is True
    assert index.remove_article(3) is False
    assert "92" in answer_text(index.answer("How long does an orbit take?", guild_id=None))
    assert index.find_crew("Lena", None) == []
    before = index.stats()
    # re-adding under the same id replaces instead of duplicating
    index.add_article(1, seeds["en"], guild_id=None)
    assert index.stats() == before
    assert len(index) == 1 and 1 in index


def test_add_article_accepts_stored_dicts(seeds: dict[str, ParsedArticle]) -> None:
    index = KnowledgeIndex()
    index.add_article(5, seeds["en"].to_dict(), guild_id=None)
    assert "400 km" in answer_text(index.answer("How high is the ISS?", guild_id=None))


def test_key_facts_card(seed_index: KnowledgeIndex) -> None:
    facts = {kf.key: kf for kf in seed_index.key_facts(None)}
    assert fact_text(facts["orbit_period"], "zh") == "国际空间站大约每92分钟绕地球一圈。"
    assert value_text(facts["altitude"].fact) == "400 km (249 mi)"
    assert value_text(facts["temperature_min"].fact) == "−128 °C (−198 °F)"
    assert value_text(facts["temperature_max"].fact) == "200 °F (93 °C)"
    assert facts["visitors"].article_id == 1
    assert all(kf.quote and kf.article_title for kf in facts.values())


def test_crew_autocomplete(seed_index: KnowledgeIndex) -> None:
    assert len(seed_index.crew(None)) == 7
    assert all(e.article_id == 1 for e in seed_index.crew(None))
    assert [e.name for e in seed_index.find_crew("ma", None)] == [
        "Mark Vande Hei",
        "Matthias Maurer",
        "Thomas Marshburn",
    ]
    assert [e.name for e in seed_index.find_crew("Mat", None)] == ["Matthias Maurer"]
    assert [e.name for e in seed_index.find_crew("chA", None)] == ["Raja Chari"]  # any part of the name
    assert len(seed_index.find_crew("", None)) == 7
    assert len(seed_index.find_crew("", None, limit=3)) == 3
    member = seed_index.crew_member("Matthias Maurer", None)
    assert member is not None and member.agency == "ESA"
    surname = seed_index.crew_member("Vande Hei", None)
    assert surname is not None and surname.name == "Mark Vande Hei"
    assert seed_index.crew_member("m", None) is None  # ambiguous prefix
    assert seed_index.crew_member("Nobody Atall", None) is None


def test_cross_language_answers(seed_index: KnowledgeIndex) -> None:
    a = seed_index.answer("国际空间站绕地球一圈需要多长时间？", guild_id=None)
    assert a.found and a.language == "zh"
    assert answer_text(a) == "国际空间站大约每92分钟绕地球一圈。"
    assert a.quote == "In 92 minutes, the station flies over the Earth at an altitude of around 400 km."
    b = seed_index.answer("Who took the photos?", guild_id=None)
    assert b.language == "en" and "Thomas Pesquet" in answer_text(b)


@pytest.mark.parametrize(
    ("question", "language", "prefix"),
    [
        ("Who won the 2018 World Cup?", "en", "Not in my articles: "),
        ("火星有几颗卫星？", "zh", "我的文章里没有提到"),
        ("", "en", "Not in my articles"),
        ("?!", "en", "Not in my articles"),
    ],
)
def test_not_found_messages(seed_index: KnowledgeIndex, question: str, language: str, prefix: str) -> None:
    a = seed_index.answer(question, guild_id=None)
    assert not a.found and a.language == language and answer_plain(a, a.language).startswith(prefix)
    assert a.quote is None and a.sources == []


def test_answers_fit_discord_limits(seed_index: KnowledgeIndex) -> None:
    long_question = "How long does it take the ISS to orbit the Earth? " * 200
    for q in (long_question, "Who is on the current crew?", "x" * 5000):
        a = seed_index.answer(q, guild_id=None)
        assert len(answer_text(a)) <= 1500
        assert a.quote is None or len(a.quote) <= 1000


TIANGONG_HTML = """<html><head><title>神舟乘组进驻天宫</title><meta name="author" content="新华社">
<meta property="article:published_time" content="2031-04-02T08:00:00Z"></head>
<body><h1>神舟乘组进驻天宫</h1><p>本次任务的三名航天员分别是指令长张明远、航天员李思琪和王浩然。</p>
<p>天宫空间站大约每91分钟绕地球一圈，轨道高度约390公里。</p>
<figure><img src="/a.jpg"><figcaption>航天员在核心舱内工作。图片来源：中国载人航天工程办公室</figcaption></figure>
<p>舱内温度保持在22摄氏度左右。</p></body></html>"""


def test_other_station_articles_do_not_answer_iss_questions(seeds: dict[str, ParsedArticle]) -> None:
    tiangong = parse_article(TIANGONG_HTML.encode(), filename="tiangong.html")
    assert tiangong.language == "zh" and tiangong.author == "新华社"
    assert [(c.name, c.role) for c in tiangong.crew] == [
        ("张明远", "commander"),
        ("李思琪", None),
        ("王浩然", None),
    ]
    assert tiangong.images[0].credit == "中国载人航天工程办公室"
    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)
    index.add_article(2, tiangong, guild_id=None)  # newer, but about another station
    assert "92" in answer_text(index.answer("国际空间站绕地球一圈要多久？", guild_id=None))
    assert "91" in answer_text(index.answer("天宫空间站绕地球一圈要多久？", guild_id=None))
    assert "390公里" in answer_text(index.answer("天宫的轨道高度是多少？", guild_id=None))
    assert "张明远" in answer_text(index.answer("天宫空间站的指令长是谁？", guild_id=None))
    assert not index.answer("Who is the commander of the ISS?", guild_id=None).found
    assert {e.name for e in index.crew(None)} == {c.name for c in seeds["en"].crew}
    assert {e.name for e in index.crew(None, station="tiangong")} == {"张明远", "李思琪", "王浩然"}
    assert {kf.article_id for kf in index.key_facts(None)} == {1}


def test_concurrent_reads_and_writes(seeds: dict[str, ParsedArticle], new_article: ParsedArticle) -> None:
    """The core calls us from worker threads: answers must stay consistent while articles change."""
    from concurrent.futures import ThreadPoolExecutor

    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)

    def ask(i: int) -> bool:
        answer = index.answer("How long does it take the ISS to orbit the Earth?", guild_id=GUILD_A)
        return answer.found and ("92" in answer_text(answer) or "93" in answer_text(answer))

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(ask, i) for i in range(200)]
        for round_ in range(20):
            index.add_article(2, new_article, guild_id=GUILD_A if round_ % 2 else None)
            index.remove_article(2)
        assert all(f.result() for f in futures)
    assert len(index) == 1
