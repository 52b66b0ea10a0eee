"""One writer for photo rows: an article's pictures go through the catalog's own duplicate rule (the
same URL, bytes or perceptual hash visible here is one photo), as an admin's photos do."""

from __future__ import annotations

from sqlmodel import select

from bot.db import Database
from bot.knowledge.service import Knowledge
from bot.models import Photo
from bot.photos import catalog
from tests.support.helpers import processed_photo

GUILD = 111


def photos_with(url: str):  # type: ignore[no-untyped-def]
    def run(*, session) -> list[tuple[int | None, int | None]]:  # type: ignore[no-untyped-def]
        rows = session.exec(select(Photo.guild_id, Photo.article_id).where(Photo.url == url)).all()
        return [(r[0], r[1]) for r in rows]

    return run


def article(title: str, *urls: str) -> bytes:
    pictures = "".join(f"\n![Station view](https://example.org/{u})\n" for u in urls)
    return f"{title}\n\nThe photo shows the station above the Pacific. Credit: NASA.\n{pictures}".encode()


async def test_an_articles_pictures_follow_the_catalogs_duplicate_rule(db: Database) -> None:
    knowledge = Knowledge(db)
    _, created = await db.run(
        catalog.add_photo,
        guild_id=GUILD,
        caption="Our own picture",
        credit="Club member Ana",
        url="https://example.org/ours.jpg",
        processed=processed_photo(1),
    )
    assert created
    # A server's article showing the admin's picture, a new one twice, and a shipped article's picture.
    await knowledge.import_bytes(article("Shipped photos", "shipped.jpg"), filename="a.md", guild_id=None)
    imported = await knowledge.import_bytes(
        article("Our photos", "ours.jpg", "new.jpg", "new.jpg", "shipped.jpg"),
        filename="b.md",
        guild_id=GUILD,
    )
    assert await db.run(photos_with("https://example.org/ours.jpg")) == [(GUILD, None)]  # the admin's, once
    assert await db.run(photos_with("https://example.org/new.jpg")) == [(GUILD, imported.article_id)]
    assert [g for g, _ in await db.run(photos_with("https://example.org/shipped.jpg"))] == [None]
    # and the other way round: an admin adding a picture an article already brought gets that photo back
    again, created = await db.run(
        catalog.add_photo, guild_id=GUILD, caption="Again", credit="Ana", url="https://example.org/new.jpg"
    )
    assert not created and again.article_id == imported.article_id
