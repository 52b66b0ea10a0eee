"""Deterministic photo-like test pictures for benchmarks and tests."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def make_image(width: int, height: int, seed: int = 0) -> Image.Image:
    """An RGB picture with smooth gradients, a few soft shapes and fine grain, like a photo."""
    rng = random.Random(seed)
    # A small random field, upscaled, gives smooth photo-like colour variation cheaply.
    field = Image.new("RGB", (8, 6))
    field.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(8 * 6)])
    # Shapes are drawn at quarter size and blurred there: a blur at 12 MP would take a second.
    sw, sh = max(1, width // 4), max(1, height // 4)
    small = field.resize((sw, sh), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(small)
    for _ in range(6):
        x, y = rng.randrange(sw), rng.randrange(sh)
        r = rng.randrange(max(2, min(sw, sh) // 12), max(3, min(sw, sh) // 3))
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    small = small.filter(ImageFilter.GaussianBlur(max(1, min(sw, sh) // 200)))
    base = small.resize((width, height), Image.Resampling.BICUBIC)
    # Grain from the seeded generator (Image.effect_noise is neither seeded nor fast).
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
    return Image.blend(base, noise, 0.08)


def make_jpeg(width: int, height: int, seed: int = 0, *, quality: int = 90) -> bytes:
    """``make_image`` encoded as a JPEG."""
    out = io.BytesIO()
    make_image(width, height, seed).save(out, "JPEG", quality=quality)
    return out.getvalue()
