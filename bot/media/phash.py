"""64-bit perceptual hash (pHash: DCT of a 32×32 greyscale thumbnail), pure Pillow + Python.

Same picture re-encoded, resized or lightly recompressed → a few bits apart; different pictures
→ around 32 bits apart. Used to spot the same photo posted twice.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image

HASH_SIZE = 8
_SAMPLE = 32
SAME_PICTURE_DISTANCE = 10
"""Hashes at most this many bits apart are treated as the same picture."""


@lru_cache(maxsize=1)
def _cosines() -> tuple[tuple[float, ...], ...]:
    n = _SAMPLE
    return tuple(
        tuple(math.cos((2 * x + 1) * u * math.pi / (2 * n)) for x in range(n)) for u in range(HASH_SIZE)
    )


def _flatten(image: Image.Image) -> Image.Image:
    """Greyscale, with any transparency composited over white so it hashes like it displays."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        base.alpha_composite(rgba)
        return base.convert("L")
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    if image.mode == "I":
        return image.point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("L")


def phash_image(image: Image.Image) -> str:
    """pHash of an already decoded (and oriented) image, as 16 lowercase hex digits."""
    grey = _flatten(image)
    if grey.size != (_SAMPLE, _SAMPLE):
        grey = grey.resize((_SAMPLE, _SAMPLE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    px = grey.tobytes()
    cos = _cosines()
    n = _SAMPLE
    # Separable 2-D DCT-II, keeping only the 8×8 lowest frequencies.
    rows = [[sum(px[y * n + x] * cu[x] for x in range(n)) for cu in cos] for y in range(n)]
    coeffs = [sum(rows[y][u] * cv[y] for y in range(n)) for cv in cos for u in range(HASH_SIZE)]
    median = sorted(coeffs)[len(coeffs) // 2 - 1 : len(coeffs) // 2 + 1]
    threshold = (median[0] + median[1]) / 2
    value = 0
    for c in coeffs:
        value = (value << 1) | (c > threshold)
    return f"{value:016x}"


def hamming(a: str | int, b: str | int) -> int:
    """Number of differing bits between two perceptual hashes (hex strings or ints)."""
    ia = int(a, 16) if isinstance(a, str) else a
    ib = int(b, 16) if isinstance(b, str) else b
    return (ia ^ ib).bit_count()


def same_picture(a: str | int, b: str | int, *, max_distance: int = SAME_PICTURE_DISTANCE) -> bool:
    """True when two perceptual hashes are close enough to be the same photo."""
    return hamming(a, b) <= max_distance
