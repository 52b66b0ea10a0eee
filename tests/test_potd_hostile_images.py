"""Hostile pictures met by the photo of the day: served by a real local HTTP server as photo URLs.
Each is refused or handled with a specific logged reason, the post still carries caption and credit,
and the bot keeps serving."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from PIL import Image

from bot.core import Cupola
from bot.db import Database
from bot.sandbox import Sandbox
from tests.support.helpers import (
    ImageServer,
    animated_gif,
    clear_catalog,
    cmyk_jpeg,
    controlled,
    field_values,
    insert_article,
    insert_photos,
    jpeg_12000,
    png_16_bit,
    png_bytes,
    png_header_only,
    potd_service,
    set_schedule,
    truncated_jpeg,
)


@cache
def big_jpeg() -> bytes:
    return jpeg_12000()


TOO_BIG = "it declares far more pixels than can be opened safely"
REFUSED: list[tuple[str, Callable[[], bytes], str, str, str]] = [
    # name, bytes, what the log says, what the post says
    ("bomb.png", lambda: png_header_only(50_000, 50_000), "bomb", "50,000 × 50,000", TOO_BIG),
    ("huge-12000.png", lambda: png_bytes(12_000, 12_000), "bomb", "12,000 × 12,000", TOO_BIG),
    ("truncated.jpg", truncated_jpeg, "truncated", "cut off", "the file is cut off"),
    ("notes.jpg", lambda: b"Not a picture, just notes about the ISS.\n" * 20, "not_an_image", "isn't a picture",
     "the file is not a picture"),
]  # fmt: skip

HANDLED: list[tuple[str, Callable[[], bytes]]] = [
    ("huge-12000.jpg", big_jpeg),
    ("animated.gif", animated_gif),
    ("cmyk.jpg", cmyk_jpeg),
    ("deep-16-bit.png", png_16_bit),
]


async def one_photo(db: Database, url: str) -> int:
    def run(*, session: Any) -> int:
        clear_catalog(session=session)
        article = insert_article(session=session, title="Hostile pictures", source="https://example.org/h")
        [pid] = insert_photos(
            [
                {
                    "url": url,
                    "caption": "A picture from the internet",
                    "credit": "NASA",
                    "photographer": "T. Pesquet",
                }
            ],
            session=session,
            article_id=article,
        )
        return pid

    return await db.run(run)


async def post_once(bot: Cupola, sandbox: Sandbox, db: Database) -> dict[str, Any]:
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", datetime(2026, 6, 1, tzinfo=UTC))
    controlled(bot, datetime(2026, 6, 1, 9, tzinfo=UTC))
    [outcome] = await service.tick()
    assert outcome.status == "sent"
    [message] = sandbox.channel_messages(channel)
    fields = field_values(message)
    assert message["embeds"][0]["description"] == "A picture from the internet"
    assert fields["Credit"] == "NASA" and fields["Photographer"] == "T. Pesquet"
    return message


async def assert_still_serving(sandbox: Sandbox) -> None:
    record = await sandbox.invoke("about")
    assert record.reply["embeds"][0]["title"] == "About Cupola"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("name", "make", "code", "logged", "said"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_refused_pictures_post_caption_and_credit(
    bot: Cupola,
    sandbox: Sandbox,
    db: Database,
    image_server: ImageServer,
    caplog: pytest.LogCaptureFixture,
    name: str,
    make: Callable[[], bytes],
    code: str,
    logged: str,
    said: str,
) -> None:
    url = image_server.add(name, make(), "image/jpeg")
    pid = await one_photo(db, url)
    with caplog.at_level(logging.WARNING, logger="bot.photos.pictures"):
        message = await post_once(bot, sandbox, db)
    [record] = [r for r in caplog.records if f"photo {pid}: picture at {url} refused" in r.getMessage()]
    assert f"refused: {code} (" in record.getMessage() and logged in record.getMessage()
    assert message["attachments"] == []
    assert "image" not in message["embeds"][0]  # members' clients are not sent to a refused picture
    note = field_values(message)["Picture"]
    assert (
        note
        == f"The picture couldn't be attached: {said}. The caption and credit are all here, so nothing is lost."
    )
    await assert_still_serving(sandbox)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("name", "make"), HANDLED, ids=[h[0] for h in HANDLED])
async def test_awkward_pictures_are_converted_and_posted(
    bot: Cupola,
    sandbox: Sandbox,
    db: Database,
    image_server: ImageServer,
    name: str,
    make: Callable[[], bytes],
) -> None:
    url = image_server.add(name, make(), "image/octet-stream")
    await one_photo(db, url)
    message = await post_once(bot, sandbox, db)
    [attachment] = message["attachments"]
    card = Image.open(io.BytesIO(sandbox.files[int(attachment["id"])].data))
    assert card.format == "JPEG" and card.mode == "RGB"
    assert max(card.size) <= 1600 + 400  # the photo fits 1600 px; the credit strip is below it
    assert "Picture" not in field_values(message)
    await assert_still_serving(sandbox)


async def test_unreachable_picture_falls_back_to_its_url(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = image_server.url("gone.jpg")  # the server answers 404
    pid = await one_photo(db, url)
    with caplog.at_level(logging.WARNING, logger="bot.photos.pictures"):
        message = await post_once(bot, sandbox, db)
    assert any(f"photo {pid}: could not fetch {url}: http_error" in r.getMessage() for r in caplog.records)
    assert message["embeds"][0]["image"]["url"] == url
    assert field_values(message)["Picture"].startswith("The picture couldn't be fetched (its server answered")
    await assert_still_serving(sandbox)


async def test_a_fetched_picture_is_kept_for_next_time(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    url = image_server.add("keep.jpg", cmyk_jpeg())
    pid = await one_photo(db, url)
    await post_once(bot, sandbox, db)
    from bot.photos import get_photo

    photo = await db.run(get_photo, pid, guild_id=None)
    assert photo.sha256 and photo.path and bot.images.find(photo.sha256) is not None
    assert image_server.requests == ["keep.jpg"]
