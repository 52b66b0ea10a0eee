"""/photo random | show | credits and the Another button, driven through the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.core import Cupola
from bot.db import Database
from bot.photos import add_photo
from bot.sandbox import Sandbox
from tests.support.helpers import (
    ImageServer,
    clear_catalog,
    field_values,
    footer,
    insert_photos,
    make_settings,
    processed_photo,
    running_bot,
    seed_url_photos,
)

FLYAROUND_SOURCE = "[Astronauts took a fly-around](https://example.org/flyaround)"


def photo_id_of(message: dict[str, Any]) -> int:
    match = re.fullmatch(r"Photo #(\d+)", footer(message))
    assert match, footer(message)
    return int(match.group(1))


def assert_credited(message: dict[str, Any], urls: dict[int, str] | None = None) -> int:
    """Every photo shown carries its credit, photographer and source; returns its id."""
    fields = field_values(message)
    assert fields["Credit"] == "NASA"
    assert fields["Photographer"] == "Thomas Pesquet"
    assert fields["Source article"] == FLYAROUND_SOURCE
    pid = photo_id_of(message)
    if urls is not None:
        assert message["embeds"][0]["image"]["url"] == urls[pid]
    return pid


async def test_another_shows_every_photo_once_before_any_repeat(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    ids = await seed_url_photos(db, image_server, 6)
    urls = {pid: image_server.url(f"p{i}.jpg") for i, pid in enumerate(ids)}
    record = await sandbox.invoke("photo random")
    message = record.reply
    assert message["embeds"][0]["description"].startswith("Flyaround view number")
    seen = [assert_credited(message, urls)]
    button = sandbox.buttons(message)[0]
    assert button["label"] == "Another"
    assert button["custom_id"] == f"cupola:photo:another:{seen[0]}"
    for _ in range(5):
        click = await sandbox.click(message)
        assert click.response_type == 7  # the message is updated in place
        message = sandbox.find_message(message["id"])
        seen.append(assert_credited(message, urls))
    assert sorted(seen) == sorted(ids)
    # All shown: a new cycle, which does not start with the photo on screen.
    await sandbox.click(message)
    message = sandbox.find_message(message["id"])
    assert assert_credited(message, urls) != seen[-1]
    # Another channel has its own rotation.
    guild = next(iter(sandbox.guilds.values()))
    other = sandbox.add_channel(guild, "photos")
    assert photo_id_of((await sandbox.invoke("photo random", channel=other)).reply) in ids


async def test_the_another_button_works_after_a_restart(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path, image_server: ImageServer
) -> None:
    ids = await seed_url_photos(db, image_server, 3)
    settings = make_settings(sandbox, tmp_path, db_url)
    async with running_bot(settings, db, sandbox):
        message = (await sandbox.invoke("photo random")).reply
    first = photo_id_of(message)
    async with running_bot(settings, db, sandbox, sync=False):
        click = await sandbox.click(message)
        assert click.response_type == 7 and not click.errors
        second = photo_id_of(sandbox.find_message(message["id"]))
        await sandbox.click(sandbox.find_message(message["id"]))
        third = photo_id_of(sandbox.find_message(message["id"]))
    assert sorted([first, second, third]) == sorted(ids)


async def test_stored_photo_is_uploaded_with_its_credit(bot: Cupola, sandbox: Sandbox, db: Database) -> None:
    await db.run(clear_catalog)
    processed = processed_photo(seed=4)
    path = bot.images.put(processed)
    photo, created = await db.run(
        add_photo,
        guild_id=None,
        caption="The Cupola at night",
        credit="ESA",
        photographer="Samantha Cristoforetti",
        processed=processed,
        stored_path=str(path.relative_to(bot.images.root)),
    )
    assert created
    message = (await sandbox.invoke("photo random")).reply
    assert message["attachments"][0]["filename"] == f"photo-{photo.id}.jpg"
    assert message["embeds"][0]["image"]["url"] == f"attachment://photo-{photo.id}.jpg"
    assert field_values(message)["Credit"] == "ESA"
    assert field_values(message)["Photographer"] == "Samantha Cristoforetti"
    uploaded = next(iter(sandbox.files.values()))
    assert uploaded.data == processed.data
    # Another replaces the upload (here with the same, only photo: a new cycle of one).
    await sandbox.click(message)
    assert len(sandbox.find_message(message["id"])["attachments"]) == 1


async def test_caption_only_photos_are_never_shown(bot: Cupola, sandbox: Sandbox, db: Database) -> None:
    await db.run(clear_catalog)
    [text_only] = await db.run(
        insert_photos, [{"url": None, "caption": "Described in the article text", "credit": "NASA"}]
    )
    empty = await sandbox.invoke("photo random")
    assert empty.reply["content"] == (
        "No photos to show yet. Photos come with the articles I hold; admins can add more."
    )
    assert empty.reply["flags"] & 64
    refused = await sandbox.invoke("photo show", {"id": f"#{text_only}"})
    assert refused.reply["content"] == (
        f"Photo #{text_only} has no picture, only a caption from its article. Try /photo random."
    )
    assert await sandbox.autocomplete("photo show", {"id": "article"}, focused="id") == []


async def test_show_with_autocomplete(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    ids = await seed_url_photos(db, image_server, 30)
    choices = await sandbox.autocomplete("photo show", {"id": "number 2"}, focused="id")
    names = [c["name"] for c in choices]
    assert names[0] == f"#{ids[2]} · Flyaround view number 2 of the station"
    assert len(choices) == 11  # 2 and 20–29
    assert len(await sandbox.autocomplete("photo show", {"id": "view"}, focused="id")) == 25
    assert all(len(n) <= 100 for n in names)
    assert choices[0]["value"] == str(ids[2])
    shown = await sandbox.invoke("photo show", {"id": choices[0]["value"]})
    assert photo_id_of(shown.reply) == ids[2]
    assert_credited(shown.reply)
    by_caption = await sandbox.invoke("photo show", {"id": "number 17"})
    assert photo_id_of(by_caption.reply) == ids[17]
    vague = await sandbox.invoke("photo show", {"id": "view"})
    assert vague.reply["content"] == (
        "No photo here matches 'view'. Start typing in id: and pick one from the list, or see /photo credits."
    )
    missing = await sandbox.invoke("photo show", {"id": "999999"})
    assert missing.reply["content"] == (
        "There is no photo #999999 here. Start typing in id: to pick one, or see /photo credits."
    )
    chinese = await sandbox.invoke("photo show", {"id": str(ids[0])}, locale="zh-CN")
    assert field_values(chinese.reply)["署名"] == "NASA"
    assert footer(chinese.reply) == f"照片 #{ids[0]}"


async def test_credits(bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer) -> None:
    ids = await seed_url_photos(db, image_server, 4)
    embed = (await sandbox.invoke("photo credits")).reply["embeds"][0]
    assert embed["title"] == "Photo credits"
    assert embed["description"] == (
        f"**Thomas Pesquet** · Credit: NASA — 4 photos (#{ids[0]}–{ids[-1]})\nfrom {FLYAROUND_SOURCE}"
    )
    assert embed["footer"]["text"].startswith("Page 1 of 1 · 4 photos")


async def test_a_guild_sees_only_its_own_and_global_photos(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    other_guild = sandbox.add_guild("Elsewhere")
    [theirs] = await seed_url_photos(db, image_server, 1, guild_id=other_guild.id, prefix="theirs")
    [mine] = await seed_url_photos(db, image_server, 1, guild_id=None, prefix="mine", replace=False)
    assert photo_id_of((await sandbox.invoke("photo random")).reply) == mine
    refused = await sandbox.invoke("photo show", {"id": str(theirs)})
    assert refused.reply["content"].startswith(f"There is no photo #{theirs} here.")
