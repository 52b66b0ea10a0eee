"""Bringing admin-supplied files and URLs in safely: size caps, the safe HTTP client, the image pipeline.

Every refusal becomes a UserFacingError whose message says what was wrong, so the admin sees it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath

import discord
from yarl import URL

from bot.errors import UserFacingError
from bot.media import ImageRejected, ImageStore, ProcessedImage, process_image
from bot.net import FetchError, SafeHttp
from bot.photos.pictures import relative_to_store

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 25 * 1024 * 1024
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


def exactly_one(attachment: discord.Attachment | None, url: str | None, key: str) -> None:
    if (attachment is None) == (not url):
        raise UserFacingError("Give an attachment or a URL, not both and not neither.", key=key)


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise UserFacingError(
            f"That file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB.",
            key="admin.too_big",
            size=f"{size / 1e6:.1f}",
            limit=f"{limit / 1e6:.0f}",
        )


async def read_attachment(attachment: discord.Attachment, limit: int) -> bytes:
    check_size(attachment.size, limit)
    data = await attachment.read()
    check_size(len(data), limit)
    return data


async def fetch_url(net: SafeHttp, url: str, limit: int) -> bytes:
    """Through bot/net.py: public http(s) only, capped while streaming, timeouts and redirect limits."""
    try:
        response = await net.fetch(url.strip(), max_bytes=limit)
    except FetchError as exc:
        log.info("admin URL refused (%s): %s", exc.code, url)
        raise UserFacingError(key="admin.refused", reason=exc) from None  # said in the member's language
    return response.body


async def store_picture(data: bytes, images: ImageStore) -> tuple[ProcessedImage, str]:
    """Validate and shrink in a thread (Pillow never runs on the event loop), then store by content."""
    try:
        processed = await asyncio.to_thread(process_image, data)
    except ImageRejected as exc:
        log.info("picture refused (%s)", exc.code)
        raise UserFacingError(key="admin.refused", reason=exc) from None  # said in the member's language
    path = await asyncio.to_thread(images.put, processed)
    return processed, relative_to_store(path, images)


def article_filename(attachment: discord.Attachment | None, url: str | None) -> str:
    """A name whose suffix tells the parser the format; attachments must be .txt, .md or .html."""
    if attachment is not None:
        if not attachment.filename.lower().endswith(ARTICLE_SUFFIXES):
            raise UserFacingError("Articles must be .txt, .md or .html files.", key="admin.bad_type")
        return attachment.filename
    name = PurePosixPath(URL(url or "").path).name
    return name if name.lower().endswith(ARTICLE_SUFFIXES) else "article.html"
