from __future__ import annotations

import io

from PIL import Image

from bench.synthetic_images import make_jpeg


def test_make_jpeg_is_deterministic_and_photo_like() -> None:
    a = make_jpeg(640, 480, seed=1)
    assert a == make_jpeg(640, 480, seed=1)
    assert a != make_jpeg(640, 480, seed=2)
    im = Image.open(io.BytesIO(a))
    assert (im.format, im.size, im.mode) == ("JPEG", (640, 480), "RGB")
    assert len(im.getcolors(1 << 20) or []) > 10_000  # noisy, not flat: a fair compression load
