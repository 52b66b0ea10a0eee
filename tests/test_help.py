"""/help: what the bot does, this member's commands (admins see theirs), questions it answers well."""

from __future__ import annotations

import pytest

from bot.core import Cupola
from bot.help import EXAMPLE_QUESTIONS, command_list
from bot.i18n import t
from bot.render.knowledge import answer_text
from bot.sandbox import Sandbox


def fields(record) -> dict[str, str]:
    embed = record.reply["embeds"][0]
    out: dict[str, str] = {}
    last = ""
    for f in embed["fields"]:
        last = f["name"] if f["name"] != "\u200b" else last
        out[last] = out.get(last, "") + "\n" + f["value"]
    return out


async def test_a_member_sees_their_commands_and_no_admin_ones(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    member = sandbox.add_user("mallory", guild=guild)
    record = await sandbox.invoke("help", user=member)
    assert record.reply["flags"] & 64
    embed = record.reply["embeds"][0]
    assert embed["title"] == "What Cupola can do"
    assert "news articles" in embed["description"]
    found = fields(record)
    assert "`/iss ask` — Ask about the ISS or its crew" in found["Your commands"]
    assert "`/photo random`" in found["Your commands"] and "`/help`" in found["Your commands"]
    assert "Admin commands (Manage Server)" not in found
    assert "/admin" not in "".join(found.values()) and "`/potd set`" not in "".join(found.values())
    assert "How high does the ISS fly?" in found["Questions I answer well"]


async def test_an_admin_also_sees_admin_commands(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    admin = sandbox.add_user("ada", guild=guild, roles=[sandbox.role(guild, "Admins")])
    found = fields(await sandbox.invoke("help", user=admin))
    admin_list = found["Admin commands (Manage Server)"]
    for path in ("admin photo add", "admin article import", "potd set", "feed watch", "potd now"):
        assert f"`/{path}`" in admin_list
    assert "`/potd status`" in found["Your commands"] and "`/potd status`" not in admin_list


async def test_help_in_chinese(bot: Cupola, sandbox: Sandbox) -> None:
    record = await sandbox.invoke("help", locale="zh-CN")
    embed = record.reply["embeds"][0]
    assert embed["title"] == "Cupola 能做什么"
    assert "国际空间站飞多高？" in fields(record)["我擅长回答的问题"]


def test_every_registered_command_is_listed_once(bot: Cupola) -> None:
    listed = [c.path for c in command_list(bot.tree, admin=True)]
    assert len(listed) == len(set(listed))
    assert {"about", "help", "iss ask", "crew list", "photo random", "admin audit"} <= set(listed)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_example_questions_are_answered_from_the_shipped_articles(bot: Cupola, lang: str) -> None:
    for key in EXAMPLE_QUESTIONS:
        question = t(key, lang)
        answer = bot.knowledge.answer(question, guild_id=None)
        assert answer.found, f"{question!r} is not answered: {answer_text(answer)}"
