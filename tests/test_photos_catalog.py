"""The catalog and rotations as plain functions on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from bench.synthetic_images import make_image
from bot import delivery
from bot.db import Database
from bot.errors import UserFacingError
from bot.media import process_image
from bot.models import Delivery, Photo, PhotoShown
from bot.photos import (
    add_photo,
    channel_scope,
    choose_photo,
    count_showable,
    get_photo,
    list_credits,
    remove_photo,
    search_photos,
)
from bot.photos.rotation import shown_count
from bot.render.photos import credits_embed
from tests.support.helpers import encode, insert_article, insert_photos, processed_photo, url_specs

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
GUILD = 111
OTHER = 222


# ------------------------------------------------------------------------------------------ rotation


async def test_rotation_shows_every_photo_once_before_any_repeat(db: Database) -> None:
    ids = await db.run(insert_photos, url_specs(7))
    scope = channel_scope(42)
    first_cycle = [(await db.run(choose_photo, scope, guild_id=GUILD, now=NOW)).id for _ in range(7)]
    assert sorted(first_cycle) == sorted(ids)
    # Exhausted: a new cycle starts, and it does not begin with the photo shown last.
    second = await db.run(choose_photo, scope, guild_id=GUILD, now=NOW + timedelta(seconds=1))
    assert second.id != first_cycle[-1]
    assert await db.run(shown_count, scope) == 1
    rest = [(await db.run(choose_photo, scope, guild_id=GUILD, now=NOW)).id for _ in range(6)]
    assert sorted([second.id, *rest]) == sorted(ids)


async def test_rotation_is_per_scope(db: Database) -> None:
    await db.run(insert_photos, url_specs(3))
    a = [(await db.run(choose_photo, channel_scope(1), guild_id=GUILD, now=NOW)).id for _ in range(3)]
    b = [(await db.run(choose_photo, channel_scope(2), guild_id=GUILD, now=NOW)).id for _ in range(3)]
    assert sorted(a) == sorted(b)


async def test_caption_only_photos_are_never_chosen(db: Database) -> None:
    shown = await db.run(insert_photos, url_specs(2))
    await db.run(
        insert_photos,
        [{"url": None, "caption": "A view described in the text only", "credit": "NASA"} for _ in range(5)]
        + [
            {"url": "images/relative.jpg", "caption": "A relative link Discord cannot show", "credit": "NASA"}
        ],
    )
    picks = {(await db.run(choose_photo, "channel:9", guild_id=None, now=NOW)).id for _ in range(10)}
    assert picks == set(shown)
    assert await db.run(count_showable, guild_id=None) == 2


async def test_stored_only_photo_is_showable(db: Database) -> None:
    [pid] = await db.run(insert_photos, [{"path": "ab/cd.jpg", "caption": "Stored", "credit": "ESA"}])
    photo = await db.run(choose_photo, "channel:1", guild_id=None, now=NOW)
    assert photo.id == pid and photo.showable


async def test_a_guild_never_sees_another_guilds_photos(db: Database) -> None:
    mine = await db.run(insert_photos, url_specs(2, "https://a/"), guild_id=GUILD)
    theirs = await db.run(insert_photos, url_specs(2, "https://b/"), guild_id=OTHER)
    shared = await db.run(insert_photos, url_specs(1, "https://c/"))
    picks = {(await db.run(choose_photo, "channel:5", guild_id=GUILD, now=NOW)).id for _ in range(9)}
    assert picks == set(mine + shared)
    assert await db.run(get_photo, theirs[0], guild_id=GUILD) is None


async def test_empty_catalog_gives_none(db: Database) -> None:
    assert await db.run(choose_photo, "channel:1", guild_id=GUILD, now=NOW) is None


# ------------------------------------------------------------------------------------------ add_photo


async def test_add_photo_dedups_by_url_in_the_visible_scope(db: Database) -> None:
    first, created = await db.run(
        add_photo, guild_id=None, caption="Station", credit="NASA", url="https://img.example/a.jpg"
    )
    assert created
    again, created = await db.run(
        add_photo, guild_id=GUILD, caption="Same", credit="Someone", url="https://img.example/a.jpg"
    )
    assert not created and again.id == first.id
    # Another guild's own photo is not visible here, so the same URL becomes this guild's own photo.
    other, _ = await db.run(
        add_photo, guild_id=OTHER, caption="X", credit="Y", url="https://img.example/b.jpg"
    )
    mine, created = await db.run(
        add_photo, guild_id=GUILD, caption="X", credit="Y", url="https://img.example/b.jpg"
    )
    assert created and mine.id != other.id


async def test_add_photo_dedups_same_bytes_and_same_picture(db: Database) -> None:
    original = processed_photo(seed=7, size=(640, 480))
    photo, created = await db.run(
        add_photo, guild_id=GUILD, caption="Aurora", credit="ESA", processed=original, stored_path="x/y.jpg"
    )
    assert created and photo.sha256 == original.sha256 and photo.phash == original.phash
    assert (photo.width, photo.height, photo.path) == (640, 480, "x/y.jpg")
    same_bytes, created = await db.run(
        add_photo, guild_id=GUILD, caption="Again", credit="ESA", processed=original
    )
    assert not created and same_bytes.id == photo.id
    # Re-encoded smaller and as WebP: different bytes, same picture by perceptual hash.
    reencoded = process_image(
        encode(Image.open(io.BytesIO(original.data)).resize((400, 300)), "WEBP", quality=70)
    )
    assert reencoded.sha256 != original.sha256
    near, created = await db.run(
        add_photo, guild_id=GUILD, caption="Again", credit="ESA", processed=reencoded
    )
    assert not created and near.id == photo.id
    different = process_image(encode(make_image(640, 480, seed=99), "JPEG"))
    _, created = await db.run(add_photo, guild_id=GUILD, caption="Other", credit="ESA", processed=different)
    assert created


async def test_add_photo_requires_caption_and_credit(db: Database) -> None:
    with pytest.raises(UserFacingError) as info:
        await db.run(add_photo, guild_id=GUILD, caption="Nice", credit="  ", url="https://x/1.jpg")
    assert info.value.key == "photos.need_credit"
    with pytest.raises(UserFacingError):
        await db.run(add_photo, guild_id=GUILD, caption="", credit="NASA", url="https://x/1.jpg")
    with pytest.raises(UserFacingError) as info:
        await db.run(add_photo, guild_id=GUILD, caption="c", credit="N" * 501, url="https://x/1.jpg")
    assert "under 500" in info.value.message


# ------------------------------------------------------------------------------------------ remove_photo


async def test_remove_photo_leaves_rotations_and_pending_posts(db: Database) -> None:
    ids = await db.run(insert_photos, url_specs(3), guild_id=GUILD)
    chosen = await db.run(choose_photo, "potd:111", guild_id=GUILD, now=NOW)
    [shared] = await db.run(insert_photos, url_specs(1, "https://shared/"))
    claim = await db.run(
        delivery.claim, "potd", f"{GUILD}:2026-03-08", channel_id=5, guild_id=GUILD, now=NOW,
        payload={"day": "2026-03-08", "photo_id": chosen.id},
    )  # fmt: skip
    assert claim is not None
    # A guild cannot remove a global photo, nor another guild's.
    assert await db.run(remove_photo, shared, guild_id=GUILD) is None
    assert await db.run(remove_photo, ids[0], guild_id=OTHER) is None
    removed = await db.run(remove_photo, chosen.id, guild_id=GUILD)
    assert removed is not None and removed.id == chosen.id

    def state(*, session: Any) -> tuple[Any, ...]:
        shown = session.exec(select(PhotoShown).where(PhotoShown.photo_id == chosen.id)).all()
        payload = json.loads(session.exec(select(Delivery.payload).where(Delivery.id == claim.id)).one())
        return session.get(Photo, chosen.id), shown, payload

    photo, shown, payload = await db.run(state)
    assert photo is None and shown == []
    assert payload == {"day": "2026-03-08"}


# ------------------------------------------------------------------------------------------ look-ups


async def test_search_for_autocomplete(db: Database) -> None:
    specs = [
        {"url": f"https://x/{i}.jpg", "caption": f"Cupola window {i}", "credit": "NASA"} for i in range(40)
    ]
    specs.append({"url": "https://x/aurora.jpg", "caption": "Aurora_over 100% Canada", "credit": "NASA"})
    specs.append({"url": None, "caption": "Aurora described only", "credit": "NASA"})
    ids = await db.run(insert_photos, specs)
    assert len(await db.run(search_photos, "cupola", guild_id=None)) == 25
    assert [c for _, c in await db.run(search_photos, "AURORA", guild_id=None)] == ["Aurora_over 100% Canada"]
    assert [c for _, c in await db.run(search_photos, "100%", guild_id=None)] == ["Aurora_over 100% Canada"]
    assert (await db.run(search_photos, f"#{ids[3]}", guild_id=None))[0][0] == ids[3]
    assert len(await db.run(search_photos, "", guild_id=None)) == 25


async def test_credits_grouped_by_photographer_credit_and_article(db: Database) -> None:
    def seed(*, session: Any) -> None:
        a = insert_article(session=session, title="Fly-around pictures", source="https://news.example/fly")
        b = insert_article(session=session, title="Spacewalk", source="ESA newsroom")
        insert_photos(url_specs(3), session=session, article_id=a)
        insert_photos(
            [{"url": None, "caption": "Text-only", "credit": "NASA", "photographer": "Thomas Pesquet"}],
            session=session,
            article_id=a,
        )
        insert_photos(
            [{"url": "https://e/1.jpg", "caption": "EVA", "credit": "ESA"}], session=session, article_id=b
        )

    await db.run(seed)
    groups = await db.run(list_credits, guild_id=None)
    assert [
        (g.photographer, g.credit, g.article_title, len(g.photo_ids), g.with_picture) for g in groups
    ] == [
        ("Thomas Pesquet", "NASA", "Fly-around pictures", 4, 3),
        (None, "ESA", "Spacewalk", 1, 1),
    ]
    page = credits_embed(groups, "en", 1)
    text = page.embed.description or ""
    assert "**Thomas Pesquet** · Credit: NASA — 4 photos (#1–4) · 1 with a caption only" in text
    assert "from [Fly-around pictures](https://news.example/fly)" in text
    assert "**ESA** — 1 photo (#5)\nfrom Spacewalk (ESA newsroom)" in text


async def test_credits_paginate_within_embed_limits(db: Database) -> None:
    specs = [
        {
            "url": f"https://x/{i}.jpg",
            "caption": "c",
            "credit": f"Agency {i}",
            "photographer": "P" * 150 + str(i),
        }
        for i in range(80)
    ]
    await db.run(insert_photos, specs)
    groups = await db.run(list_credits, guild_id=None)
    first = credits_embed(groups, "en", 1)
    assert first.pages > 1
    seen = 0
    for number in range(1, first.pages + 1):
        page = credits_embed(groups, "en", number)
        assert len(page.embed.description or "") <= 4096
        assert len(page.embed) <= 6000
        seen += (page.embed.description or "").count("**P")
    assert seen == 80
    assert credits_embed(groups, "en", 999).page == first.pages
