from __future__ import annotations

import io
from itertools import combinations

import pytest
from PIL import Image, ImageChops, ImageDraw

from bench.synthetic_images import make_jpeg
from bot.media import ImageRejected, collage_2x2, process_image, render_credit_card
from bot.media.cards import (
    BACKGROUND,
    ELLIPSIS,
    choose_collage_layout,
    clean_text,
    collage_2x2_async,
    collage_layout,
    render_credit_card_async,
    text_width,
    wrap_text,
)
from bot.media.fonts import CJK_FONT, FONT_DIR, LATIN_FONT, font_for_char, load_font
from tests.support.helpers import encode

LONG_CAPTION = (
    "The Orion spacecraft photographed from the crew module window during the lunar flyby, with the "
    "far side of the Moon filling the frame and Earth setting behind the limb. " * 4
)


def open_jpeg(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return im.convert("RGB")


def strip_of(card: Image.Image, photo_height: int) -> Image.Image:
    return card.crop((0, photo_height, card.width, card.height))


def lit_pixels(im: Image.Image, threshold: int = 120) -> int:
    """Pixels clearly brighter than the dark strip background: that's text."""
    return sum(im.convert("L").point(lambda v: 255 if v > threshold else 0).histogram()[255:])


def solid_jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG", quality=95)


# --------------------------------------------------------------------------- fonts


def test_fonts_are_shipped_with_licences() -> None:
    for name in (LATIN_FONT, CJK_FONT):
        assert (FONT_DIR / name).is_file()
    assert (FONT_DIR / "LICENSE-DejaVu.txt").is_file()
    assert (FONT_DIR / "LICENSE-WenQuanYi-MicroHei.txt").is_file()
    total = sum(p.stat().st_size for p in FONT_DIR.iterdir())
    assert total < 10 * 1024 * 1024


def render_glyph(text: str, name: str, size: int = 64) -> bytes:
    im = Image.new("L", (size * 2, size * 2))
    ImageDraw.Draw(im).text((size // 2, size // 2), text, font=load_font(name, size), fill=255)
    return im.tobytes()


@pytest.mark.parametrize("ch", list("東京月球火星宇宙かなカナ한국어"))
def test_cjk_characters_have_real_glyphs(ch: str) -> None:
    assert font_for_char(ch) == CJK_FONT
    glyph = render_glyph(ch, CJK_FONT)
    notdef = render_glyph("\U0010fffd", CJK_FONT)  # private use: no font has it, draws .notdef
    assert glyph != notdef
    assert any(glyph)


def test_different_cjk_characters_render_differently() -> None:
    bitmaps = {ch: render_glyph(ch, CJK_FONT) for ch in "東京月한국"}
    for a, b in combinations(bitmaps, 2):
        assert bitmaps[a] != bitmaps[b], (a, b)


def test_latin_uses_latin_font() -> None:
    assert font_for_char("A") == LATIN_FONT
    assert font_for_char("é") == LATIN_FONT
    assert font_for_char("Ж") == LATIN_FONT


# --------------------------------------------------------------------------- text layout


def test_clean_text_drops_what_no_font_draws() -> None:
    assert clean_text("🚀 Launch\x00 day\u200b!") == "Launch day!"
    assert clean_text("line one\n\n  line   two ") == "line one\nline two"
    assert clean_text("a\nb", keep_newlines=False) == "a b"


def test_wrap_long_caption_ellipsized() -> None:
    lines = wrap_text(LONG_CAPTION, 20, 400, 3)
    assert len(lines) == 3
    assert lines[-1].endswith(ELLIPSIS)
    assert all(text_width(line, 20) <= 400 for line in lines)


def test_wrap_short_caption_untouched() -> None:
    assert wrap_text("Starship on the pad", 20, 800, 3) == ["Starship on the pad"]


def test_wrap_cjk_breaks_between_characters() -> None:
    text = "国际空间站今晚将飞越北京上空，亮度约为负三等，持续大约四分钟。" * 3
    lines = wrap_text(text, 24, 300, 10)
    assert len(lines) > 3
    assert "".join(lines) == text
    # only closing punctuation may overhang the line end
    assert all(text_width(line.rstrip("，。"), 24) <= 300 for line in lines)


def test_wrap_word_longer_than_line_is_split() -> None:
    lines = wrap_text("x" * 200, 20, 200, 20)
    assert len(lines) > 1 and "".join(lines) == "x" * 200


# --------------------------------------------------------------------------- credit cards


def test_credit_card_has_strip_with_text() -> None:
    photo = make_jpeg(3000, 2000, seed=11)
    card = open_jpeg(
        render_credit_card(photo, caption="Perseverance at Jezero crater", credit="NASA/JPL-Caltech")
    )
    assert card.width == 1600  # fit into max_side
    photo_h = round(2000 * 1600 / 3000)
    assert card.height > photo_h + 60
    strip = strip_of(card, photo_h)
    assert lit_pixels(strip) > 500
    # the strip's background really is the dark strip colour
    assert all(
        abs(a - b) < 12 for a, b in zip(strip.getpixel((2, strip.height - 2)), BACKGROUND, strict=True)
    )


def test_credit_is_drawn() -> None:
    photo = solid_jpeg((40, 80, 120))
    without = open_jpeg(render_credit_card(photo, caption="Moonrise", credit=""))
    with_credit = open_jpeg(render_credit_card(photo, caption="Moonrise", credit="ESA/Webb, CC BY 4.0"))
    assert with_credit.height > without.height
    extra = with_credit.crop((0, without.height, with_credit.width, with_credit.height))
    assert lit_pixels(extra, threshold=100) > 100
    credit_only = open_jpeg(render_credit_card(photo, caption="", credit="ESA/Webb"))
    assert lit_pixels(strip_of(credit_only, 600), threshold=100) > 50


def test_cjk_caption_renders_distinct_glyphs() -> None:
    photo = solid_jpeg((10, 10, 10))
    tokyo = open_jpeg(render_credit_card(photo, caption="東京", credit="JAXA"))
    osaka = open_jpeg(render_credit_card(photo, caption="大阪", credit="JAXA"))
    korea = open_jpeg(render_credit_card(photo, caption="한국", credit="JAXA"))
    assert tokyo.size == osaka.size == korea.size
    strips = [strip_of(im, 600) for im in (tokyo, osaka, korea)]
    for s in strips:
        assert lit_pixels(s) > 200
    for a, b in combinations(strips, 2):
        diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 60 else 0)
        assert diff.histogram()[255] > 200


def test_small_photo_card_stays_legible() -> None:
    card = open_jpeg(render_credit_card(make_jpeg(100, 80, seed=2), caption="Tiny", credit="Me"))
    assert card.width == 480
    assert card.height > 384  # enlarged photo + strip


def test_tall_narrow_photo_is_not_blown_up() -> None:
    # Fit into 1600 px (53×1600), not enlarged; the text goes in a panel beside it.
    card = open_jpeg(render_credit_card(make_jpeg(100, 3000, seed=3), caption="Tower", credit="SpaceX"))
    assert card.height == 1600
    assert card.width >= 480


def test_font_size_follows_width() -> None:
    cap = "A caption"
    small = open_jpeg(render_credit_card(solid_jpeg((0, 0, 0), (480, 300)), caption=cap, credit=""))
    big = open_jpeg(render_credit_card(solid_jpeg((0, 0, 0), (1600, 1000)), caption=cap, credit=""))
    assert (big.height - 1000) > 2 * (small.height - 300)


def test_long_caption_limited_lines() -> None:
    photo = solid_jpeg((0, 0, 0))
    three = open_jpeg(render_credit_card(photo, caption=LONG_CAPTION, credit="NASA"))
    one = open_jpeg(render_credit_card(photo, caption=LONG_CAPTION, credit="NASA", max_caption_lines=1))
    assert one.height < three.height
    assert three.height - 600 < 300


def test_credit_card_accepts_processed_image_and_refuses_junk() -> None:
    p = process_image(make_jpeg(640, 480, seed=4))
    card = open_jpeg(render_credit_card(p, caption="Processed", credit="Me"))
    assert card.width == 640
    with pytest.raises(ImageRejected):
        render_credit_card(b"hello", caption="x", credit="y")


async def test_credit_card_async() -> None:
    data = await render_credit_card_async(make_jpeg(320, 240), caption="Async", credit="Me")
    assert open_jpeg(data).width == 480


# --------------------------------------------------------------------------- collages

COLOURS = [(220, 30, 30), (30, 220, 30), (30, 30, 220), (220, 220, 30)]


def near(a: tuple[int, ...], b: tuple[int, ...], tol: int = 30) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_collage_sizes_and_tiles(count: int) -> None:
    images = [solid_jpeg(c, (640, 480)) for c in COLOURS[:count]]
    out = open_jpeg(collage_2x2(images))
    layout = choose_collage_layout([640 / 480] * count, 1024, 8)
    assert out.size == (layout.width, layout.height)
    assert max(out.size) == 1024
    for colour, (x, y, w, h) in zip(COLOURS, layout.boxes, strict=False):
        assert near(out.getpixel((x + w // 2, y + h // 2)), colour)


def test_collage_layout_boxes_fill_without_overlap() -> None:
    for count in range(1, 5):
        boxes = collage_layout(count, 1000, 10)
        assert len(boxes) == count
        for x, y, w, h in boxes:
            assert 0 <= x and 0 <= y and x + w <= 1000 and y + h <= 1000
        for (ax, ay, aw, ah), (bx, by, bw, bh) in combinations(boxes, 2):
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
        area = sum(w * h for _, _, w, h in boxes)
        assert area > 0.95 * 1000 * 1000


def test_collage_of_one_wide_picture_keeps_all_of_it() -> None:
    # A wide picture with red edges and a green centre: nothing is cropped, edges included.
    wide = Image.new("RGB", (1200, 300), (220, 30, 30))
    wide.paste((30, 220, 30), (450, 0, 750, 300))
    out = open_jpeg(collage_2x2([encode(wide, "PNG")], size=300))
    assert out.size == (300, 75)
    assert near(out.getpixel((150, 37)), (30, 220, 30))
    assert near(out.getpixel((3, 37)), (220, 30, 30)) and near(out.getpixel((296, 37)), (220, 30, 30))


def test_collage_custom_size_and_big_jpeg_draft() -> None:
    big = make_jpeg(4000, 3000, seed=1)
    out = open_jpeg(collage_2x2([big, solid_jpeg((0, 0, 0)), big, make_jpeg(300, 200)], size=512))
    assert max(out.size) == 512 and min(out.size) > 256


def test_collage_rejects_wrong_counts_and_junk() -> None:
    with pytest.raises(ValueError):
        collage_2x2([])
    with pytest.raises(ValueError):
        collage_2x2([solid_jpeg((0, 0, 0))] * 5)
    with pytest.raises(ImageRejected):
        collage_2x2([solid_jpeg((0, 0, 0)), b"not a picture"])


async def test_collage_async() -> None:
    out = open_jpeg(await collage_2x2_async([solid_jpeg((1, 2, 3))], size=256))
    assert out.size == (256, 192)  # the 4:3 picture whole
