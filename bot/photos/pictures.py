"""Getting a photo's picture: from the image store when its bytes are known, else fetched through
SafeHttp and cleaned by the image pipeline (all Pillow work in threads); then the credit card.

Failures are values, not exceptions: a post must still go out with its caption and credit, so the
caller gets a ``Picture`` that says why there is no image and whether the URL may still be shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.media import ImageRejected, ImageStore, ProcessedImage, process_image, render_credit_card
from bot.net import FetchError, SafeHttp
from bot.photos.catalog import PhotoView

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
CARD_MAX_SIDE = 1600


@dataclass(frozen=True, slots=True)
class Picture:
    """A rendered credit card, or why there is none.

    ``fallback_url`` is set when the picture could not be fetched (the host was down, a 404):
    the post may still point Discord at the URL. A picture we fetched and refused (a bomb, a
    text file) gets no fallback: members' clients are not sent to it.
    """

    card: bytes | None = None
    fallback_url: str | None = None
    code: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.card is not None


Remember = Callable[[int, ProcessedImage, str], Awaitable[None]]


def stored_file(photo: PhotoView, images: ImageStore) -> Path | None:
    """Where the photo's stored bytes are: by hash in the store, else its recorded path (under the store)."""
    if photo.sha256:
        try:
            found = images.find(photo.sha256)
        except ValueError:
            found = None
        if found is not None:
            return found
    if photo.path:
        path = Path(photo.path)
        if not path.is_absolute():
            path = images.root / path
        return path
    return None


def read_stored(photo: PhotoView, images: ImageStore) -> bytes | None:
    """The stored bytes, or None when the photo has none (blocking: call in a thread)."""
    path = stored_file(photo, images)
    if path is None:
        return None
    return path.read_bytes()


def relative_to_store(path: Path, images: ImageStore) -> str:
    try:
        return str(path.relative_to(images.root))
    except ValueError:
        return str(path)


class CardMaker:
    """Credit cards for photos, with a small cache: one photo is often posted to many servers at once."""

    def __init__(
        self,
        images: ImageStore,
        net: SafeHttp,
        *,
        remember: Remember | None = None,
        cache_size: int = 32,
    ) -> None:
        self.images = images
        self.net = net
        self.remember = remember
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._pending: dict[tuple[object, ...], asyncio.Future[Picture]] = {}

    async def card(self, photo: PhotoView, *, caption: str, credit: str) -> Picture:
        # The picture's identity is in the key too: a removed photo's id can be reused on SQLite.
        key = (photo.id, photo.url, photo.sha256, photo.path, caption, credit)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return Picture(card=hit)
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Picture] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            picture = await self._make(photo, caption=caption, credit=credit)
            future.set_result(picture)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the caller re-raises it
            raise
        finally:
            del self._pending[key]
        if picture.card is not None:
            self._cache[key] = picture.card
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return picture

    async def _make(self, photo: PhotoView, *, caption: str, credit: str) -> Picture:
        source = await self.source(photo)
        if isinstance(source, Picture):
            return source
        try:
            card = await asyncio.to_thread(
                render_credit_card, source, caption=caption, credit=credit, max_side=CARD_MAX_SIDE
            )
        except ImageRejected as exc:
            log.warning(
                "photo %s: the credit card could not be drawn: %s (%s)", photo.id, exc.code, exc.message
            )
            return Picture(fallback_url=photo.url, code=exc.code, reason=exc.message)
        return Picture(card=card)

    async def source(self, photo: PhotoView) -> bytes | ProcessedImage | Picture:
        """The photo's clean bytes, or a Picture saying why there are none."""
        try:
            stored = await asyncio.to_thread(read_stored, photo, self.images)
        except OSError as exc:
            log.warning("photo %s: stored picture unreadable (%s)", photo.id, exc)
            stored = None
        if stored is not None:
            return stored
        if not (photo.url or "").startswith(("https://", "http://")):
            log.warning("photo %s: no stored picture and no usable URL", photo.id)
            return Picture(code="missing", reason="The stored picture is missing.")
        return await self.fetch(photo)

    async def fetch(self, photo: PhotoView) -> ProcessedImage | Picture:
        assert photo.url is not None
        try:
            response = await self.net.fetch(photo.url, max_bytes=MAX_DOWNLOAD_BYTES)
        except FetchError as exc:
            log.warning("photo %s: could not fetch %s: %s (%s)", photo.id, photo.url, exc.code, exc.message)
            return Picture(fallback_url=photo.url, code=exc.code, reason=exc.message)
        try:
            processed = await asyncio.to_thread(process_image, response.body)
        except ImageRejected as exc:
            log.warning(
                "photo %s: picture at %s refused: %s (%s)", photo.id, photo.url, exc.code, exc.message
            )
            return Picture(code=exc.code, reason=exc.message)
        if self.remember is not None:
            try:
                path = await asyncio.to_thread(self.images.put, processed)
                await self.remember(photo.id, processed, relative_to_store(path, self.images))
            except Exception:  # keeping a copy is an optimisation; the post goes on without it
                log.warning("photo %s: could not keep the fetched picture", photo.id, exc_info=True)
        return processed
