"""/iss and /crew end to end through the sandbox, article storage, and the terminal commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core import Cupola
from bot.db import Database
from bot.knowledge import parse_article, store
from bot.knowledge.service import Knowledge
from bot.models import Passage, Photo
from bot.sandbox import Sandbox
from tests.support.helpers import cupola

ENGLISH_TITLE = (
    "Astronauts Took A Fly-around of the International Space Station. Here are Their Stunning Pictures"
)

NEW_ARTICLE = """Cargo Dragon Docks at the Station With a Hydroponic Garden

December 2, 2026.

A cargo Dragon docked with the orbiting laboratory on Tuesday carrying 2,900 kg of supplies.
The shipment includes a hydroponic garden that grows lettuce under red and blue light.
Flight engineer Ingrid Solberg of the European Space Agency will tend the garden for 60 days.
"""


def fields(embed: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


async def test_ask_answers_with_quote_and_source(bot: Cupola, sandbox: Sandbox) -> None:
    reply = (
        await sandbox.invoke("iss ask", {"question": "How long does the ISS take to orbit the Earth?"})
    ).reply
    embed = reply["embeds"][0]
    assert embed["title"] == "How long does the ISS take to orbit the Earth?"
    assert embed["description"] == "The ISS circles the Earth about every 92 minutes."
    f = fields(embed)
    assert (
        f["From the article"]
        == "> In 92 minutes, the station flies over the Earth at an altitude of around 400 km."
    )
    assert f["Source"] == f"{ENGLISH_TITLE} (2021-11-08)"


async def test_chinese_question_about_an_english_only_fact(bot: Cupola, sandbox: Sandbox) -> None:
    reply = (await sandbox.invoke("iss ask", {"question": "空间站夜间最低温度是多少？"})).reply
    embed = reply["embeds"][0]
    assert embed["description"] == "温度最低可达−128 °C（−198 °F）。"
    assert fields(embed)["出处"] == f"{ENGLISH_TITLE} (2021-11-08)"


async def test_distances_in_both_unit_systems(bot: Cupola, sandbox: Sandbox) -> None:
    reply = (await sandbox.invoke("iss ask", {"question": "How high does the ISS fly?"})).reply
    assert "400 km (249 mi)" in reply["embeds"][0]["description"]


@pytest.mark.parametrize(
    ("question", "locale", "expected"),
    [
        ("Who won the 2018 World Cup?", "en-US", "Not in my articles"),
        ("火星有几颗卫星？", "en-US", "我的文章里没有提到"),
        ("What is the capital of France?", "zh-CN", "Not in my articles"),
    ],
)
async def test_unanswerable_questions_say_so(
    bot: Cupola, sandbox: Sandbox, question: str, locale: str, expected: str
) -> None:
    reply = (await sandbox.invoke("iss ask", {"question": question}, locale=locale)).reply
    embed = reply["embeds"][0]
    assert embed["description"].startswith(expected)
    assert "fields" not in embed or not embed["fields"]  # no quote, no source: nothing invented


async def test_facts_card_in_both_languages(bot: Cupola, sandbox: Sandbox) -> None:
    english = (await sandbox.invoke("iss facts")).reply["embeds"][0]
    f = fields(english)
    assert f["Orbit period"] == "92 min [1]"
    assert f["Altitude"] == "400 km (249 mi) [1]"
    assert f["Lowest temperature"] == "−128 °C (−198 °F) [1]"
    assert f["Visitors' countries"] == "19 countries [1]"
    assert f"[1] {ENGLISH_TITLE} (2021-11-08)" in f["Source"]
    chinese = (await sandbox.invoke("iss facts", locale="zh-CN")).reply["embeds"][0]
    assert chinese["title"] == "国际空间站关键数据"
    assert fields(chinese)["轨道高度"] == "400公里（249英里） [1]"


async def test_crew_list_grouped_by_agency(bot: Cupola, sandbox: Sandbox) -> None:
    embed = (await sandbox.invoke("crew list")).reply["embeds"][0]
    f = fields(embed)
    assert f["NASA · 4"] == "Thomas Marshburn\nRaja Chari\nMark Vande Hei\nKayla Barron"
    assert f["Roscosmos · 2"] == "Pyotr Dubrov\nAnton Shkaplerov"
    assert f["ESA · 1"] == "Matthias Maurer"
    assert f["Source"] == f"{ENGLISH_TITLE} (2021-11-08)"
    chinese = fields((await sandbox.invoke("crew list", locale="zh-CN")).reply["embeds"][0])
    assert chinese["欧洲航天局 (ESA) · 1 人"] == "Matthias Maurer"


async def test_crew_member_with_autocomplete(bot: Cupola, sandbox: Sandbox) -> None:
    choices = await sandbox.autocomplete("crew member", {"name": "ma"}, focused="name")
    names = [c["value"] for c in choices]
    assert {"Thomas Marshburn", "Matthias Maurer", "Mark Vande Hei"} <= set(names)
    assert len(choices) <= 25
    everyone = await sandbox.autocomplete("crew member", {"name": ""}, focused="name")
    assert len(everyone) == 7
    embed = (await sandbox.invoke("crew member", {"name": "Matthias Maurer"})).reply["embeds"][0]
    assert embed["title"] == "Matthias Maurer"
    assert fields(embed)["Agency"] == "ESA"
    missing = (await sandbox.invoke("crew member", {"name": "Nobody Atall"})).reply
    assert missing["flags"] & 64
    assert missing["content"].startswith("No crew member named 'Nobody Atall'")


async def test_article_imported_after_start_is_answerable_at_once(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    result = await bot.knowledge.import_bytes(NEW_ARTICLE.encode(), filename="dragon.txt", guild_id=guild.id)
    assert result.status == "new"
    reply = (
        await sandbox.invoke("iss ask", {"question": "How many kg of supplies did the Dragon carry?"})
    ).reply
    embed = reply["embeds"][0]
    assert "2,900 kg" in embed["description"] or "2900" in embed["description"]
    assert (
        fields(embed)["Source"] == "Cargo Dragon Docks at the Station With a Hydroponic Garden (2026-12-02)"
    )
    # Another server does not see this server's article.
    other = sandbox.add_guild("Other")
    await sandbox.dispatch(other.id, "GUILD_CREATE", other.to_create_json())
    elsewhere = await sandbox.invoke(
        "iss ask", {"question": "How many kg of supplies did the Dragon carry?"}, guild=other
    )
    assert elsewhere.reply["embeds"][0]["description"].startswith("Not in my articles")


async def test_long_question_fits_the_embed(bot: Cupola, sandbox: Sandbox) -> None:
    question = "How high does the ISS fly " + "and why " * 40 + "?"
    record = await sandbox.invoke("iss ask", {"question": question[:300]})
    assert len(record.reply["embeds"][0]["title"]) <= 256
    assert not record.errors


async def test_import_is_idempotent_and_edits_replace(db: Database) -> None:
    knowledge = Knowledge(db)
    first = await knowledge.import_bytes(NEW_ARTICLE.encode(), filename="a.txt", guild_id=None)
    again = await knowledge.import_bytes(NEW_ARTICLE.encode(), filename="a.txt", guild_id=None)
    assert (first.status, again.status) == ("new", "unchanged")
    assert again.article_id == first.article_id
    edited = NEW_ARTICLE.replace("60 days", "90 days")
    updated = await knowledge.import_bytes(edited.encode(), filename="a.txt", guild_id=None)
    assert updated.status == "updated" and updated.article_id == first.article_id

    def passages(*, session) -> list[str]:  # type: ignore[no-untyped-def]
        return list(session.exec(select(Passage.text).where(Passage.article_id == first.article_id)).all())

    texts = await db.run(passages)
    assert any("90 days" in t for t in texts) and not any("60 days" in t for t in texts)
    answer = knowledge.answer("How long will Ingrid Solberg tend the garden?", guild_id=None)
    assert answer.found and "90 days" in (answer.quote or "")


async def test_seed_photos_carry_their_credits(db: Database) -> None:
    knowledge = Knowledge(db)
    await knowledge.load()

    def photos(*, session) -> list[Photo]:  # type: ignore[no-untyped-def]
        return list(session.exec(select(Photo)).all())

    rows = await db.run(photos)
    with_url = [p for p in rows if p.url]
    assert len(with_url) == 10  # the Chinese article's flyaround images, one photo per URL
    assert {p.credit for p in rows} == {"NASA"}
    assert {p.photographer for p in rows} == {"Thomas Pesquet"}
    captions = {p.caption for p in rows if not p.url}
    assert "A view of the International Space Station is seen from the Crew Dragon." in captions


async def test_refresh_picks_up_another_process_import(db: Database) -> None:
    mine, theirs = Knowledge(db), Knowledge(db)
    await mine.load()
    parsed = parse_article(NEW_ARTICLE.encode(), filename="dragon.txt")
    await theirs.import_parsed(parsed, guild_id=None)
    assert not mine.answer("What grows in the hydroponic garden?", guild_id=None).found
    assert await mine.refresh() == 1
    assert mine.answer("What grows in the hydroponic garden?", guild_id=None).found


def test_default_credit_prefers_an_agency_in_the_title() -> None:
    parsed = parse_article("NASA shares new station photos\n\nThe pictures were taken last week.\n")
    assert store.default_credit(parsed) == "NASA"


async def test_cli_import_and_ask(tmp_path: Path) -> None:
    (tmp_path / "dragon.txt").write_text(NEW_ARTICLE)
    (tmp_path / "empty.md").write_text("")
    code, out, err = await cupola("import", "dragon.txt", "empty.md", "missing.html", cwd=tmp_path)
    assert code == 1
    assert "dragon.txt: 'Cargo Dragon Docks at the Station With a Hydroponic Garden': imported:" in out
    assert "empty.md: not imported:" in err and "missing.html: not imported: No such file" in err
    assert "2 of 3 files could not be imported." in err
    code, out, _ = await cupola("import", "dragon.txt", cwd=tmp_path)
    assert code == 0 and ": unchanged:" in out
    code, out, err = await cupola(
        "ask",
        "--json",
        cwd=tmp_path,
        stdin="How high does the ISS fly?\n火星有几颗卫星？\n\nWhat grows in the hydroponic garden?\n".encode(),
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["found"] for r in rows] == [True, False, True]
    assert rows[0]["sources"] == [ENGLISH_TITLE] and "249 mi" in rows[0]["answer"]
    assert rows[1]["answer"].startswith("我的文章里没有提到")
    code, out, _ = await cupola("ask", "Who took the photos?", cwd=tmp_path)
    assert code == 0 and out.startswith("Thomas Pesquet took the photos.")


async def test_edited_article_photos_leave_pending_posts(db: Database) -> None:
    """An edit replaces an article's photos: a photo-of-the-day post waiting on an old one re-chooses."""
    from datetime import UTC, datetime

    from bot import delivery

    article = "Station photos released\n\nThe photo shows the station above Earth. Credit: NASA.\n"
    first = await Knowledge(db).import_bytes(
        article.encode() + b"\n![Station](https://example.org/a.jpg)\n", filename="photos.md", guild_id=None
    )

    def photo_ids(*, session) -> list[int]:  # type: ignore[no-untyped-def]
        return list(session.exec(select(Photo.id).where(Photo.article_id == first.article_id)).all())

    old_photo = (await db.run(photo_ids))[0]
    claim = await db.run(
        delivery.claim,
        "potd",
        "g:2026-12-01",
        channel_id=1,
        guild_id=5,
        now=datetime(2026, 12, 1, tzinfo=UTC),
        payload={"photo_id": old_photo},
    )
    assert claim is not None
    edited = article.replace("above Earth", "above the Pacific") + "\n![Station](https://example.org/b.jpg)\n"
    updated = await Knowledge(db).import_bytes(edited.encode(), filename="photos.md", guild_id=None)
    assert updated.status == "updated"

    def urls(*, session) -> set[str | None]:  # type: ignore[no-untyped-def]
        return set(session.exec(select(Photo.url).where(Photo.article_id == first.article_id)).all())

    assert "https://example.org/a.jpg" not in await db.run(urls)  # ids may be reused on SQLite

    def payload(*, session) -> str:  # type: ignore[no-untyped-def]
        from bot.models import Delivery

        return session.get(Delivery, claim.id).payload

    assert "photo_id" not in await db.run(payload)


CHINESE_LAUNCH = """---
title: "天舟九号货运飞船发射成功"
date: 2029-09-12
source: 示例航天新闻
---

9月12日21时05分，长征七号运载火箭在文昌航天发射场点火升空，将天舟九号货运飞船送入预定轨道。天舟九号将为空间站送去约6吨物资。
"""


async def test_english_question_from_a_chinese_article_says_the_value_in_english(
    bot: Cupola, sandbox: Sandbox
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    await bot.knowledge.import_bytes(CHINESE_LAUNCH.encode(), filename="tianzhou9.md", guild_id=guild.id)
    embed = (await sandbox.invoke("iss ask", {"question": "When did Tianzhou-9 launch?"}, guild=guild)).reply[
        "embeds"
    ][0]
    assert embed["description"] == "**September 12, 21:05**"
    quote = next(f for f in embed["fields"] if f["name"].startswith("From the article"))
    assert quote["name"] == "From the article (quoted from the Chinese article)"
    assert "天舟九号" in quote["value"]


async def test_questions_while_the_articles_still_load_are_told_so(bot: Cupola, sandbox: Sandbox) -> None:
    bot.knowledge.ready.clear()  # as in the first seconds after a start with many articles
    try:
        reply = (await sandbox.invoke("iss ask", {"question": "How high does the ISS fly?"})).reply
        assert reply["flags"] & 64  # ephemeral
        assert reply["content"].startswith("I'm still reading my articles")
    finally:
        bot.knowledge.ready.set()
    assert (await sandbox.invoke("iss ask", {"question": "How high does the ISS fly?"})).reply["embeds"]
