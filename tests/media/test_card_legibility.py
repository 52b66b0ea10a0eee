"""Credit cards are read at Discord's inline preview size: the rendered caption and credit, measured
in the card's pixels and scaled as Discord scales the card, must stay legible for every shape."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.media import render_credit_card
from bot.media.cards import PREVIEW_BOX, preview_scale
from tests.support.helpers import encode

# Ascenders and descenders in both, so a line's ink is its full height.
CAPTION = "High above Earth: the station's gyroscopes and panels"
CREDIT = "Credit: NASA · Photo: Thomas Pesquet"
MIN_CAPTION_INK_PX = 10.0
MIN_CREDIT_INK_PX = 8.5
"""Ink height of one line (top of 'H' or 'l' to the bottom of 'g' or 'y') at the preview size.
Before cards were sized for the preview, a portrait card's caption was about 4 px tall there."""

SHAPES = {
    "portrait": (1200, 1600),
    "tall portrait": (900, 2000),
    "square": (1500, 1500),
    "landscape": (1600, 1067),
    "panoramic": (4000, 1000),
    "small": (320, 240),
}


def black_photo(size: tuple[int, int]) -> bytes:
    return encode(Image.new("RGB", size, (0, 0, 0)), "PNG")


def first_line_ink_height(card: Image.Image, threshold: int = 110) -> int:
    """Rows of the first run of rows holding text (the photo is black, the background dark)."""
    grey = card.convert("L").point(lambda v: 255 if v > threshold else 0)
    width = grey.width
    data = grey.tobytes()
    rows = [sum(1 for x in range(0, width, 1) if data[y * width + x]) >= 2 for y in range(grey.height)]
    start = rows.index(True)
    end = start
    while end < len(rows) and rows[end]:
        end += 1
    return end - start


def card_of(size: tuple[int, int], *, caption: str, credit: str) -> Image.Image:
    data = render_credit_card(black_photo(size), caption=caption, credit=credit)
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize("shape", list(SHAPES))
def test_caption_and_credit_are_legible_at_the_preview_size(shape: str) -> None:
    size = SHAPES[shape]
    caption_card = card_of(size, caption=CAPTION, credit="")
    credit_card = card_of(size, caption="", credit=CREDIT)
    for card, minimum, what in (
        (caption_card, MIN_CAPTION_INK_PX, "caption"),
        (credit_card, MIN_CREDIT_INK_PX, "credit"),
    ):
        scale = preview_scale(*card.size)
        shown = first_line_ink_height(card) * scale
        assert shown >= minimum, f"{shape}: the {what} is {shown:.1f} px tall at {PREVIEW_BOX}"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_photo_keeps_most_of_the_card(shape: str) -> None:
    """Legible text must not shrink the photo to a corner: it keeps at least 40% of the card."""
    card = card_of(SHAPES[shape], caption=CAPTION, credit=CREDIT)
    grey = card.convert("L").tobytes()
    black = sum(1 for v in grey if v < 8)  # the photo is pure black, the background (16, 18, 22)
    assert black / len(grey) >= 0.4, f"{shape}: the photo is {black / len(grey):.0%} of the card"


def test_portrait_text_sits_beside_the_photo_not_below() -> None:
    card = card_of((1200, 1600), caption=CAPTION, credit=CREDIT)
    assert card.width <= 1600  # the whole card fits the card size, panel included
    photo_w = round(card.height * 1200 / 1600)  # the photo keeps its shape and the card's height
    assert card.width > photo_w
    # The photo's own column is untouched black; the text is to its right.
    assert card.crop((0, 0, photo_w - 2, card.height)).convert("L").getextrema()[1] < 40
    assert card.crop((photo_w, 0, card.width, card.height)).convert("L").getextrema()[1] > 200


def test_a_long_portrait_caption_gets_more_lines_in_the_panel() -> None:
    long = " ".join(["The station's radiators and solar arrays over the night side."] * 6)
    card = card_of((1200, 1600), caption=long, credit=CREDIT)
    panel = (
        card.crop((round(card.height * 0.75), 0, card.width, card.height))
        .convert("L")
        .point(lambda v: 255 if v > 110 else 0)
    )
    data, width = panel.tobytes(), panel.width
    lit_rows = [any(data[y * width : (y + 1) * width]) for y in range(panel.height)]
    runs = sum(1 for a, b in zip([False, *lit_rows], lit_rows, strict=False) if b and not a)
    assert runs > 3 + 2  # more than the three caption lines a strip allows, plus the credit lines
