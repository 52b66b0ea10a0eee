"""Pictures for photos from local files (``cupola console --images DIR``): an offline demo shows the
shipped photos without the internet.

A file is used for a photo only when its name is the last part of the photo's URL (with any
extension: ``0788f393129afb8.png`` or ``0788f393129afb8.jpg`` for ``…/0788f393129afb8.png``), so no
picture is ever given to a photo it does not belong to, and no photo or credit is ever invented:
files that match no photo are listed, to be added with ``/admin photo add`` and their real credit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from sqlmodel import Session, select

from bot.db import Database
from bot.media import ImageRejected, ImageStore, ProcessedImage, process_image
from bot.models import Photo
from bot.photos import catalog
from bot.photos.pictures import relative_to_store

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".bmp", ".tif", ".tiff")


@dataclass
class LocalPictures:
    attached: dict[int, str] = field(default_factory=dict)
    """photo id → file name"""
    refused: dict[str, str] = field(default_factory=dict)
    """file name → why the image pipeline refused it"""
    unmatched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Pictures from local files: {len(self.attached)} photos now have one."]
        lines.extend(f"  photo #{pid}: {name}" for pid, name in sorted(self.attached.items()))
        lines.extend(f"  {name}: refused ({why})" for name, why in sorted(self.refused.items()))
        if self.unmatched:
            lines.append(
                "  Not the picture of any photo (add them with /admin photo add and their credit): "
                + ", ".join(sorted(self.unmatched))
            )
        return "\n".join(lines)


def url_stem(url: str | None) -> str | None:
    if not url:
        return None
    name = PurePosixPath(urlsplit(url).path).name
    return PurePosixPath(name).stem.lower() or None


def _photos_by_stem(*, session: Session) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for photo in session.exec(select(Photo).where(Photo.guild_id.is_(None))):  # type: ignore[union-attr]
        stem = url_stem(photo.url)
        if stem and photo.id is not None:
            out.setdefault(stem, []).append(photo.id)
    return out


def _scan(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _process(path: Path, images: ImageStore) -> tuple[ProcessedImage, str]:
    processed = process_image(path.read_bytes())
    stored = images.put(processed)
    return processed, relative_to_store(stored, images)


async def attach_local_pictures(db: Database, images: ImageStore, directory: Path) -> LocalPictures:
    """Give each shipped (global) photo whose URL names a file in ``directory`` that file as its picture."""
    result = LocalPictures()
    files = await asyncio.to_thread(_scan, directory)
    by_stem = await db.run(_photos_by_stem)
    for path in files:
        ids = by_stem.get(path.stem.lower())
        if not ids:
            result.unmatched.append(path.name)
            continue
        try:
            processed, stored = await asyncio.to_thread(_process, path, images)
        except ImageRejected as exc:
            result.refused[path.name] = exc.message
            continue
        for photo_id in ids:
            await db.run(partial(catalog.remember_image, photo_id, processed, stored))
            result.attached[photo_id] = path.name
    log.info("local pictures: %d attached from %s", len(result.attached), directory)
    return result
