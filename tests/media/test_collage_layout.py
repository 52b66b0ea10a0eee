"""Collages keep (nearly) all of each photo: the layout follows the photos' shapes."""

from __future__ import annotations

import io
from itertools import combinations

import pytest
from PIL import Image

from bot.media import collage_2x2
from bot.media.cards import choose_collage_layout, collage_layout
from tests.support.helpers import encode

CORNER_COLOURS = [(250, 20, 20), (20, 250, 20), (20, 20, 250), (250, 250, 20)]


def marked(size: tuple[int, int], body: tuple[int, int, int]) -> bytes:
    """A photo of one colour with a distinct colour square in each corner (5% of its width)."""
    im = Image.new("RGB", size, body)
    side = max(8, size[0] // 20)
    w, h = size
    for colour, (x, y) in zip(
        CORNER_COLOURS, [(0, 0), (w - side, 0), (0, h - side), (w - side, h - side)], strict=True
    ):
        im.paste(colour, (x, y, x + side, y + side))
    return encode(im, "PNG")


def corners_seen(collage: Image.Image, box: tuple[int, int, int, int]) -> int:
    x, y, w, h = box
    inset = 2
    points = [
        (x + inset, y + inset),
        (x + w - 1 - inset, y + inset),
        (x + inset, y + h - 1 - inset),
        (x + w - 1 - inset, y + h - 1 - inset),
    ]
    return sum(
        all(abs(a - b) < 60 for a, b in zip(collage.getpixel(p), colour, strict=True))
        for p, colour in zip(points, CORNER_COLOURS, strict=True)
    )


SETS = {
    "two landscape": [(1500, 1000), (1600, 1000)],
    "two portrait": [(1000, 1500), (900, 1400)],
    "landscape and portrait": [(1500, 1000), (1000, 1500)],
    "three landscape": [(1200, 800)] * 3,
    "four mixed": [(1200, 800), (800, 1200), (1600, 900), (1000, 1000)],
    "panorama and portrait": [(3000, 1000), (600, 1000)],
}


@pytest.mark.parametrize("name", list(SETS))
def test_every_photo_keeps_its_corners(name: str) -> None:
    sizes = SETS[name]
    images = [marked(s, (90, 90, 90 + 30 * i)) for i, s in enumerate(sizes)]
    out = Image.open(io.BytesIO(collage_2x2(images, size=1024))).convert("RGB")
    layout = choose_collage_layout([w / h for w, h in sizes], 1024, 8)
    assert out.size == (layout.width, layout.height)
    for box in layout.boxes:
        assert corners_seen(out, box) == 4, f"{name}: a photo lost a corner in {box}"


@pytest.mark.parametrize("name", list(SETS))
def test_layout_keeps_most_of_each_photo_and_fits(name: str) -> None:
    aspects = [w / h for w, h in SETS[name]]
    layout = choose_collage_layout(aspects, 1024, 8)
    assert min(layout.kept(aspects)) > 0.97
    assert max(layout.width, layout.height) == 1024
    for x, y, w, h in layout.boxes:
        assert 0 <= x and 0 <= y and x + w <= layout.width and y + h <= layout.height
    for (ax, ay, aw, ah), (bx, by, bw, bh) in combinations(layout.boxes, 2):
        assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay


def test_two_landscape_photos_are_stacked_not_cut_to_strips() -> None:
    aspects = [1.5, 1.5]
    layout = choose_collage_layout(aspects, 1024, 8)
    assert layout.boxes[0][1] < layout.boxes[1][1]  # one above the other
    # The fixed square grid put them side by side in 508×1024 tiles: a third of each photo.
    old = [box for box in collage_layout(2, 1024, 8)]
    old_kept = [min(w / h, 1.5) / max(w / h, 1.5) for _, _, w, h in old]
    assert max(old_kept) < 0.34 and min(layout.kept(aspects)) > 0.99


def test_two_portraits_sit_side_by_side() -> None:
    layout = choose_collage_layout([2 / 3, 2 / 3], 1024, 8)
    assert layout.boxes[0][1] == layout.boxes[1][1] and layout.boxes[0][0] < layout.boxes[1][0]
