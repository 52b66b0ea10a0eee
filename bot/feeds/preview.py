"""The picture shown with an album announcement: a 2×2 collage when the entry carries several
images, else its one image; the image URL itself when nothing could be fetched.

Images come through :class:`bot.net.SafeHttp` (address guard, size cap); Pillow runs in a thread.
An image that fails (404, too big, not an image, truncated) is skipped, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field

from bot.feeds.parse import Entry
from bot.feeds.policy import HostLimiter
from bot.media import ImageRejected, collage_2x2, process_image
from bot.net import FetchError, SafeHttp

log = logging.getLogger(__name__)

IMAGE_MAX_BYTES = 8 * 1024 * 1024
"""Bytes read per image; a bigger picture is skipped."""
IMAGE_TIMEOUT = 15.0
COLLAGE_TILES = 4
COLLAGE_CANDIDATES = 6
"""Images tried for a collage, so one or two broken ones still leave four."""
COLLAGE_SIZE = 1024
TILE_SIDE = 640
SINGLE_MAX_SIDE = 2048
PREVIEW_MAX_BYTES = 8 * 1024 * 1024
"""Well under Discord's 10 MiB per file."""


@dataclass(frozen=True, slots=True)
class Preview:
    data: bytes | None = field(default=None, repr=False)
    filename: str | None = None
    url: str | None = None
    """Image URL for the embed when no file could be made (Discord fetches it itself)."""
    tiles: int = 0

    @property
    def has_file(self) -> bool:
        return self.data is not None


def candidates(entry: Entry) -> list[str]:
    images = list(dict.fromkeys(entry.images))
    if not images and entry.thumbnail:
        images = [entry.thumbnail]
    return images


async def _fetch_image(http: SafeHttp, url: str, hosts: HostLimiter | None, max_bytes: int) -> bytes | None:
    limit: AbstractAsyncContextManager[None] = hosts.limit(url) if hosts is not None else nullcontext()
    try:
        async with limit, asyncio.timeout(IMAGE_TIMEOUT):
            response = await http.fetch(url, headers={"Accept": "image/*"}, max_bytes=max_bytes)
    except FetchError as exc:
        log.info("preview image %s skipped: %s", url, exc.code)
        return None
    except TimeoutError:
        log.info("preview image %s skipped: timeout", url)
        return None
    return response.body or None


def _process(data: bytes, max_side: int) -> bytes | None:
    try:
        return process_image(data, max_side=max_side, max_bytes=PREVIEW_MAX_BYTES).data
    except ImageRejected as exc:
        log.info("preview image skipped: %s", exc.code)
        return None


def _single(data: bytes) -> tuple[bytes, str] | None:
    try:
        processed = process_image(data, max_side=SINGLE_MAX_SIDE, max_bytes=PREVIEW_MAX_BYTES)
    except ImageRejected as exc:
        log.info("preview image skipped: %s", exc.code)
        return None
    return processed.data, f"preview.{processed.extension}"


async def build_preview(
    http: SafeHttp,
    entry: Entry,
    *,
    hosts: HostLimiter | None = None,
    max_bytes: int = IMAGE_MAX_BYTES,
) -> Preview:
    """A collage of up to four of the entry's images, or its one image, or just its URL."""
    urls = candidates(entry)
    if not urls:
        return Preview()
    fallback = entry.thumbnail if entry.thumbnail in urls else urls[0]
    if len(urls) == 1:
        data = await _fetch_image(http, urls[0], hosts, max_bytes)
        single = await asyncio.to_thread(_single, data) if data else None
        if single is None:
            return Preview(url=fallback)
        return Preview(data=single[0], filename=single[1], tiles=1)

    raw = await asyncio.gather(*(_fetch_image(http, u, hosts, max_bytes) for u in urls[:COLLAGE_CANDIDATES]))
    tiles: list[bytes] = []
    originals: list[bytes] = []
    for data in raw:
        if data is None or len(tiles) >= COLLAGE_TILES:
            continue
        tile = await asyncio.to_thread(_process, data, TILE_SIDE)
        if tile is not None:
            tiles.append(tile)
            originals.append(data)
    del raw
    if not tiles:
        return Preview(url=fallback)
    if len(tiles) == 1:
        single = await asyncio.to_thread(_single, originals[0])
        if single is None:
            return Preview(url=fallback)
        return Preview(data=single[0], filename=single[1], tiles=1)
    try:
        collage = await asyncio.to_thread(collage_2x2, tiles, size=COLLAGE_SIZE)
    except (ImageRejected, ValueError) as exc:
        log.warning("collage failed: %s", exc)
        return Preview(url=fallback)
    return Preview(data=collage, filename="preview.jpg", tiles=len(tiles))
