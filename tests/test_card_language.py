"""The credit card's labels ("Credit", "Photo") are drawn in the server's language."""

from __future__ import annotations

import asyncio

import pytest

from bot.core import Cupola
from bot.db import Database
from bot.i18n import t
from bot.media import render_credit_card
from bot.photos import catalog
from bot.photos.pictures import CARD_MAX_SIDE, read_stored
from bot.sandbox import Sandbox
from bot.sandbox.model import Guild
from tests.support.helpers import ImageServer, footer, potd_service, seed_url_photos


@pytest.fixture
def zh_guild(sandbox: Sandbox) -> Guild:
    """A Chinese server, made before the bot connects."""
    return sandbox.add_guild("天宫", locale="zh-CN")


async def posted_card(sandbox: Sandbox, guild: Guild) -> tuple[int, bytes]:
    channel = sandbox.default_channel(guild)
    owner = guild.members[guild.owner_id].user
    await sandbox.invoke("potd set", {"channel": channel, "time": "08:30"}, guild=guild, user=owner)
    await sandbox.invoke("potd now", guild=guild, user=owner, timeout=30)
    [post] = sandbox.channel_messages(channel)
    [attachment] = post["attachments"]
    return int(footer(post).rsplit("#", 1)[1]), sandbox.files[int(attachment["id"])].data


async def test_card_labels_follow_the_servers_language(
    zh_guild: Guild, bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    potd_service(bot)
    await seed_url_photos(db, image_server, 1)
    english_guild = next(g for g in sandbox.guilds.values() if g is not zh_guild)
    for guild, lang in ((zh_guild, "zh"), (english_guild, "en")):
        photo_id, card = await posted_card(sandbox, guild)
        photo = await db.run(catalog.get_photo, photo_id, guild_id=None)
        assert photo is not None
        source = await asyncio.to_thread(read_stored, photo, bot.images)
        assert source is not None
        label = t("photos.credit_line_by", lang, credit=photo.credit, photographer=photo.photographer)
        other = t(
            "photos.credit_line_by",
            "en" if lang == "zh" else "zh",
            credit="NASA",
            photographer="Thomas Pesquet",
        )
        expected = await asyncio.to_thread(
            render_credit_card, source, caption=photo.caption, credit=label, max_side=CARD_MAX_SIDE
        )
        wrong = await asyncio.to_thread(
            render_credit_card, source, caption=photo.caption, credit=other, max_side=CARD_MAX_SIDE
        )
        assert card == expected, f"the {lang} server's card is not drawn with {label!r}"
        assert card != wrong
