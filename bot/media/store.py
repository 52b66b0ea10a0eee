"""Content-addressed storage of processed pictures: ``root/ab/cdef….jpg`` by SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from bot.media.images import ProcessedImage

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
EXTENSIONS = ("jpg", "png", "webp", "gif")


class ImageStore:
    """Pictures on disk named by the hash of their bytes, so storing twice stores once.

    Blocking file I/O: call from a thread, like the rest of ``bot.media``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, ext: str) -> Path:
        """Where the picture with this hash and extension lives (whether or not it exists)."""
        sha256 = sha256.lower()
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        ext = ext.lower().lstrip(".")
        if ext not in EXTENSIONS:
            raise ValueError(f"unsupported extension: {ext!r}")
        return self.root / sha256[:2] / f"{sha256[2:]}.{ext}"

    def put(self, processed: ProcessedImage) -> Path:
        """Store ``processed`` (idempotent) and return its path; the write is atomic."""
        digest = hashlib.sha256(processed.data).hexdigest()
        if digest != processed.sha256:
            raise ValueError("ProcessedImage.sha256 does not match its data")
        path = self.path_for(digest, processed.extension)
        if path.is_file() and path.stat().st_size == len(processed.data):
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f".{processed.extension}")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(processed.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)  # atomic: readers see the old file or the whole new one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        log.debug("stored %s (%s bytes)", path, len(processed.data))
        return path

    def find(self, sha256: str) -> Path | None:
        """Path of the stored picture with this hash, whatever its extension, or None."""
        for ext in EXTENSIONS:
            path = self.path_for(sha256, ext)
            if path.is_file():
                return path
        return None

    def get(self, sha256: str) -> bytes | None:
        """The stored bytes for this hash, or None if not stored."""
        path = self.find(sha256)
        return path.read_bytes() if path is not None else None

    def __contains__(self, sha256: object) -> bool:
        return isinstance(sha256, str) and self.find(sha256) is not None
