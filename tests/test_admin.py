"""/admin end to end: admins add content for their server only, every change is audited, members can't."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from bot.core import Cupola
from bot.db import Database
from bot.sandbox import Sandbox, Upload
from bot.sandbox.model import Guild
from tests.support.helpers import admin_of, final_message, make_settings, running_bot

ARTICLE = """Spacewalk Installs a New Roll-Out Solar Array

March 3, 2026.

Two astronauts spent 6 hours and 41 minutes outside the station on Friday.
They installed a roll-out solar array that unfolds like a carpet to a length of 19 meters.
The new array raises the power of the station's oldest solar wing by about 20 percent.
"""


def png(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):  # some structure, so the perceptual hash has something to see
        for y in range(size[1]):
            image.putpixel((x, y), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def second_guild(bot: Cupola, sandbox: Sandbox) -> Guild:
    guild = sandbox.add_guild("Second Server")
    # The bot joins it; later interactions come after GUILD_CREATE on the same ordered connection.
    await sandbox.dispatch(guild.id, "GUILD_CREATE", guild.to_create_json())
    return guild


async def ask(sandbox: Sandbox, question: str, guild: Guild) -> str:
    record = await sandbox.invoke("iss ask", {"question": question}, guild=guild)
    return record.reply["embeds"][0]["description"]


async def test_content_added_in_one_server_stays_there(
    bot: Cupola, sandbox: Sandbox, second_guild: Guild
) -> None:
    home = next(iter(sandbox.guilds.values()))
    alice = admin_of(sandbox, home)

    fact = await sandbox.invoke(
        "admin fact add",
        {"text": "The station's robotic arm Canadarm2 is 17.6 meters long.", "source": "Club notes"},
        user=alice,
    )
    assert fact.reply["content"].startswith("Added fact #") and fact.reply["flags"] & 64
    crew = await sandbox.invoke(
        "admin crew add", {"name": "Ingrid Solberg", "agency": "ESA", "role": "Flight Engineer"}, user=alice
    )
    assert crew.reply["content"] == "Added Ingrid Solberg to this server's crew roster."
    photo = await sandbox.invoke(
        "admin photo add",
        {
            "image": Upload("aurora.png", png((20, 80, 160)), "image/png"),
            "caption": "Aurora over the cupola",
            "credit": "Club member Ana",
        },
        user=alice,
    )
    assert photo.reply["content"].startswith("Added photo #"), photo.reply
    photo_id = int(photo.reply["content"].split("#")[1].split(":")[0])
    article = await sandbox.invoke(
        "admin article import", {"file": Upload("spacewalk.txt", ARTICLE.encode(), "text/plain")}, user=alice
    )
    await sandbox.wait_until(
        lambda: "passages" in (article.messages[0]["content"] if article.messages else "")
    )
    summary = article.messages[0]["content"]
    assert summary.startswith("Article imported: **Spacewalk Installs a New Roll-Out Solar Array**")
    assert "3 passages" in summary

    # Members of this server see all of it at once.
    assert "17.6" in await ask(sandbox, "How long is the Canadarm2 robotic arm?", home)
    assert "19 meters" in await ask(sandbox, "How long is the roll-out solar array?", home)
    roster = (await sandbox.invoke("crew list", guild=home)).reply["embeds"][0]
    assert any("Ingrid Solberg" in f["value"] for f in roster["fields"])
    shown = (await sandbox.invoke("photo show", {"id": str(photo_id)}, guild=home)).reply
    assert "Club member Ana" in str(shown["embeds"][0])

    # The second server sees none of it.
    assert (await ask(sandbox, "How long is the Canadarm2 robotic arm?", second_guild)).startswith(
        "Not in my"
    )
    assert (await ask(sandbox, "How long is the roll-out solar array?", second_guild)).startswith("Not in my")
    other_roster = (await sandbox.invoke("crew list", guild=second_guild)).reply["embeds"][0]
    assert not any("Ingrid Solberg" in f["value"] for f in other_roster["fields"])
    elsewhere = (await sandbox.invoke("photo show", {"id": str(photo_id)}, guild=second_guild)).reply
    assert elsewhere["flags"] & 64 and "Club member Ana" not in str(elsewhere)

    # The audit shows each change.
    audit = (await sandbox.invoke("admin audit", user=alice)).reply["embeds"][0]["description"]
    for action in ("fact add", "crew add", "photo add", "article import (new)"):
        assert f"**{action}**" in audit
    assert f"<@{alice.id}>" in audit
    assert "**fact add**" not in (
        await sandbox.invoke("admin audit", guild=second_guild, user=admin_of(sandbox, second_guild, "bob"))
    ).reply["embeds"][0].get("description", "")


async def test_members_cannot_change_anything(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    mallory = sandbox.add_user("mallory", guild=guild)
    admin_schema = next(c for c in sandbox.commands[None] if c["name"] == "admin")
    assert admin_schema["default_member_permissions"] == str(1 << 5)
    crafted = [
        ("admin fact add", {"text": "The ISS is made of cheese."}),
        ("admin crew add", {"name": "Mallory", "agency": "NASA"}),
        ("admin photo add", {"url": "https://example.org/x.jpg", "caption": "x", "credit": "y"}),
        ("admin article import", {"url": "https://example.org/a.html"}),
        ("admin fact remove", {"id": "1"}),
        ("admin content list", {}),
        ("admin audit", {}),
    ]
    for command, options in crafted:
        record = await sandbox.invoke(command, options, user=mallory)
        assert (
            record.reply["content"] == "Only server admins (Manage Server permission) can use this command."
        )
        assert record.reply["flags"] & 64
    assert not (await ask(sandbox, "What is the ISS made of?", guild)).startswith("The ISS is made of cheese")
    admin = admin_of(sandbox, guild)
    audit = (await sandbox.invoke("admin audit", user=admin)).reply["embeds"][0]
    assert audit["description"] == "No changes recorded yet."


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("admin photo add", {"caption": "c", "credit": "d"}, "not both and not neither"),
        (
            "admin photo add",
            {
                "caption": "c",
                "credit": "d",
                "url": "https://x.org/a.jpg",
                "image": Upload("a.png", b"x", "image/png"),
            },
            "not both and not neither",
        ),
        (
            "admin photo add",
            {"caption": "c", "credit": "d", "image": Upload("notes.jpg", b"just some text", "image/jpeg")},
            "isn't a picture",
        ),
        ("admin photo add", {"caption": "c", "credit": "d", "url": "ftp://example.org/a.jpg"}, "http"),
        (
            "admin article import",
            {"file": Upload("paper.pdf", b"%PDF-1.4", "application/pdf")},
            "Articles must be .txt, .md or .html files.",
        ),
        ("admin article import", {"file": Upload("empty.txt", b"", "text/plain")}, "empty"),
        ("admin fact remove", {"id": "banana"}, "Pick an item from the list"),
        ("admin fact remove", {"id": "999"}, "This server has no fact #999."),
        ("admin crew add", {"name": "   ", "agency": "NASA"}, "can't be empty"),
    ],
)
async def test_bad_input_gets_a_specific_answer(
    bot: Cupola, sandbox: Sandbox, command: str, options: dict, expected: str
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    record = await sandbox.invoke(command, options, user=admin_of(sandbox, guild))
    reply = await final_message(sandbox, record)
    assert expected.lower() in reply["content"].lower(), reply["content"]
    assert reply["flags"] & 64
    assert (await sandbox.invoke("about")).reply["embeds"]  # still serving


async def test_private_addresses_are_refused(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sandbox, tmp_path, db_url)
    settings.net.allow_private_addresses = False
    guild = next(iter(sandbox.guilds.values()))
    async with running_bot(settings, db, sandbox) as running:
        running.net = type(running.net)(allow_private_addresses=False)
        admin = admin_of(sandbox, guild)
        for url in (
            "http://127.0.0.1:9/a.png",
            "http://10.0.0.1/a.png",
            "http://169.254.169.254/latest/meta-data",
        ):
            record = await sandbox.invoke(
                "admin photo add", {"url": url, "caption": "c", "credit": "d"}, user=admin
            )
            text = (await final_message(sandbox, record))["content"]
            assert "private" in text.lower() or "not allowed" in text.lower() or "internal" in text.lower(), (
                text
            )


async def test_duplicates_are_reported_with_the_existing_item(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    admin = admin_of(sandbox, guild)
    picture = png((200, 40, 40))
    first = await sandbox.invoke(
        "admin photo add",
        {"image": Upload("a.png", picture, "image/png"), "caption": "Red", "credit": "Ana"},
        user=admin,
    )
    photo_id = first.reply["content"].split("#")[1].split(":")[0]
    again = await sandbox.invoke(
        "admin photo add",
        {"image": Upload("b.png", picture, "image/png"), "caption": "Red 2", "credit": "Ana"},
        user=admin,
    )
    assert (
        again.reply["content"]
        == f"That picture is already here as photo #{photo_id}: Red. Nothing was added."
    )
    await sandbox.invoke("admin fact add", {"text": "Cupola has seven windows."}, user=admin)
    dup = await sandbox.invoke("admin fact add", {"text": "cupola has  seven windows"}, user=admin)
    assert dup.reply["content"].startswith("This server already has that fact as #")


async def test_article_from_url_shows_progress(bot: Cupola, sandbox: Sandbox) -> None:
    async def article(request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE)

    app = web.Application()
    app.router.add_get("/news/spacewalk.txt", article)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        guild = next(iter(sandbox.guilds.values()))
        record = await sandbox.invoke(
            "admin article import",
            {"url": f"http://127.0.0.1:{port}/news/spacewalk.txt"},
            user=admin_of(sandbox, guild),
        )
        await sandbox.wait_until(
            lambda: "passages" in (record.messages[0]["content"] if record.messages else "")
        )
        assert record.edits >= 3  # fetching…, reading…, the summary
        assert record.messages[0]["content"].startswith("Article imported: **Spacewalk Installs")
        assert "19 meters" in await ask(sandbox, "How long is the roll-out solar array?", guild)
    finally:
        await runner.cleanup()


async def test_removing_content_removes_it_everywhere(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    admin = admin_of(sandbox, guild)
    added = await sandbox.invoke(
        "admin fact add", {"text": "The Cupola module has seven windows."}, user=admin
    )
    fact_id = added.reply["content"].split("#")[1].split(":")[0]
    assert "seven windows" in await ask(sandbox, "How many windows does the Cupola module have?", guild)
    choices = await sandbox.autocomplete("admin fact remove", {"id": "seven"}, focused="id", user=admin)
    assert choices[0]["value"] == fact_id
    removed = await sandbox.invoke("admin fact remove", {"id": fact_id}, user=admin)
    assert removed.reply["content"] == f"Removed fact #{fact_id}."
    assert (await ask(sandbox, "How many windows does the Cupola module have?", guild)).startswith(
        "Not in my"
    )
    crew = await sandbox.invoke("admin crew add", {"name": "Ingrid Solberg", "agency": "ESA"}, user=admin)
    assert crew.reply["content"].startswith("Added")
    [choice] = await sandbox.autocomplete("admin crew remove", {"id": "Ingrid"}, focused="id", user=admin)
    await sandbox.invoke("admin crew remove", {"id": choice["value"]}, user=admin)
    roster = (await sandbox.invoke("crew list")).reply["embeds"][0]
    assert not any("Ingrid" in f["value"] for f in roster["fields"])


async def test_two_admins_at_once(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice, bob = admin_of(sandbox, guild, "alice"), admin_of(sandbox, guild, "bob")
    records = await asyncio.gather(
        *(
            sandbox.invoke("admin fact add", {"text": f"Fact number {i} about the station."}, user=who)
            for i, who in enumerate([alice, bob] * 5)
        )
    )
    assert all(r.reply["content"].startswith("Added fact #") for r in records)
    listing = await sandbox.invoke("admin content list", {"kind": "fact"}, user=alice)
    embed = listing.reply["embeds"][0]
    assert embed["footer"]["text"] == "Page 1 of 1 · 10 items"
    audit = (await sandbox.invoke("admin audit", user=bob)).reply["embeds"][0]["description"]
    assert audit.count("**fact add**") == 10
    assert f"<@{alice.id}>" in audit and f"<@{bob.id}>" in audit


async def test_content_list_pages_and_only_its_owner_turns_them(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice, bob = admin_of(sandbox, guild, "alice"), admin_of(sandbox, guild, "bob")
    for i in range(12):
        await sandbox.invoke("admin fact add", {"text": f"Station fact {i}."}, user=alice)
    listing = await sandbox.invoke("admin content list", user=alice)
    message = listing.reply
    assert message["embeds"][0]["footer"]["text"] == "Page 1 of 2 · 12 items"
    stranger = await sandbox.click(message, index=1, user=bob)
    assert stranger.reply["content"] == "These buttons belong to the admin who ran the command."
    turned = await sandbox.click(message, index=1, user=alice)
    assert turned.response_type == 7
    assert sandbox.find_message(message["id"])["embeds"][0]["footer"]["text"] == "Page 2 of 2 · 12 items"
