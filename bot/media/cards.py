"""Credit cards (photo + caption/credit strip) and 2×2 collages, as JPEG bytes.

Blocking Pillow work: call through ``asyncio.to_thread`` or the ``*_async`` wrappers.
Text uses only the fonts shipped in ``bot/content/fonts`` (see ``bot.media.fonts``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from bot.media.fonts import FONT_CHAIN, coverage, load_font, split_runs
from bot.media.images import DEFAULT_MAX_PIXELS, ProcessedImage, decode

log = logging.getLogger(__name__)

BACKGROUND = (16, 18, 22)
CAPTION_COLOUR = (242, 242, 242)
CREDIT_COLOUR = (168, 175, 186)
MIN_CARD_WIDTH = 480
CAPTION_RATIO = 0.030
CREDIT_RATIO = 0.022
MIN_CAPTION_PX = 18
MIN_CREDIT_PX = 14
MAX_TEXT_CHARS = 1000
ELLIPSIS = "…"
JPEG_QUALITY = 88

# CJK punctuation that must not start a line: it stays on the line before, even if it overhangs.
_NO_LINE_START = set("、。，．！？：；）」』】〕〉》”’ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ…")


# --------------------------------------------------------------------------- text layout


def clean_text(text: str, *, keep_newlines: bool = True) -> str:
    """Drop control/format characters and anything no shipped font can draw (e.g. emoji)."""
    covered = [coverage(name) for name in FONT_CHAIN]
    out: list[str] = []
    for ch in text[:MAX_TEXT_CHARS]:
        if ch == "\n":
            out.append("\n" if keep_newlines else " ")
            continue
        if ch.isspace():
            out.append(" ")
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        if not any(ord(ch) in c for c in covered):
            continue
        out.append(ch)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in "".join(out).split("\n")]
    return "\n".join(line for line in lines if line)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(paragraph: str) -> list[str]:
    """Words, single spaces, and single CJK characters (which may break anywhere)."""
    tokens: list[str] = []
    word = ""
    for ch in paragraph:
        if ch == " " or _is_wide(ch) or ch in _NO_LINE_START:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def text_width(text: str, size: int) -> float:
    """Width in px of ``text`` drawn with the font chain at ``size``."""
    return sum(load_font(name, size).getlength(run) for name, run in split_runs(text))


def wrap_text(text: str, size: int, width: int, max_lines: int) -> list[str]:
    """Greedy wrap to ``width`` px; words break at spaces, CJK anywhere; "…" past ``max_lines``."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if len(lines) > max_lines:
                break  # enough to know it will be cut: stop measuring
            candidate = line + token
            if text_width(candidate, size) <= width or (not line.strip() and token == " "):
                line = candidate
                continue
            if token in _NO_LINE_START and line:
                line = candidate  # kinsoku: closing punctuation hangs at the line end
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = ""
            if token == " ":
                continue
            # A word longer than the line is split by characters.
            for ch in token:
                if len(lines) > max_lines:
                    break
                if line and text_width(line + ch, size) > width:
                    lines.append(line)
                    line = ""
                line += ch
        if line.strip():
            lines.append(line.rstrip())
        if len(lines) > max_lines:
            break
    if len(lines) <= max_lines:
        return lines
    lines = lines[:max_lines]
    last = lines[-1]
    while last and text_width(last + ELLIPSIS, size) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + ELLIPSIS
    return lines


@dataclass(frozen=True, slots=True)
class _Metrics:
    ascent: int
    line_height: int


def _metrics(size: int) -> _Metrics:
    ascents, descents = zip(*(load_font(name, size).getmetrics() for name in FONT_CHAIN), strict=True)
    ascent, descent = max(ascents), max(descents)
    return _Metrics(ascent, round((ascent + descent) * 1.08))


def _draw_line(draw: ImageDraw.ImageDraw, x: float, baseline: int, text: str, size: int, fill: tuple) -> None:
    for name, run in split_runs(text):
        font = load_font(name, size)
        draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
        x += font.getlength(run)


# --------------------------------------------------------------------------- photos


def _photo_bytes(image: bytes | ProcessedImage) -> bytes:
    return image.data if isinstance(image, ProcessedImage) else image


def _flatten(im: Image.Image, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    if im.mode in ("RGBA", "LA"):
        rgba = im.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        base.alpha_composite(rgba)
        return base.convert("RGB")
    return im.convert("RGB")


def _encode_jpeg(im: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def render_credit_card(
    image: bytes | ProcessedImage,
    *,
    caption: str,
    credit: str,
    max_side: int = 1600,
    max_caption_lines: int = 3,
    max_credit_lines: int = 2,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """The photo (fit in ``max_side``) above a dark strip with the caption and credit, as JPEG.

    Text size follows the card width (with a floor), long captions wrap and end in "…".
    ``credit`` is drawn as given: add "Credit:" / "图片：" yourself in the reader's language.
    Raises ImageRejected for a bad picture.
    """
    decoded = decode(_photo_bytes(image), fit=max_side, max_pixels=max_pixels)
    photo = _flatten(decoded.image)
    if max(photo.size) > max_side:
        photo.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if photo.width < MIN_CARD_WIDTH:
        # Small pictures are enlarged so the text stays legible; very tall ones are padded instead.
        scale = MIN_CARD_WIDTH / photo.width
        if photo.height * scale <= max_side:
            photo = photo.resize(
                (MIN_CARD_WIDTH, max(1, round(photo.height * scale))), Image.Resampling.LANCZOS
            )
    card_w = max(photo.width, MIN_CARD_WIDTH)

    caption_px = max(MIN_CAPTION_PX, round(card_w * CAPTION_RATIO))
    credit_px = max(MIN_CREDIT_PX, round(card_w * CREDIT_RATIO))
    pad = max(12, round(caption_px * 0.7))
    text_w = card_w - 2 * pad
    caption_lines = wrap_text(clean_text(caption), caption_px, text_w, max_caption_lines)
    credit_lines = wrap_text(clean_text(credit, keep_newlines=False), credit_px, text_w, max_credit_lines)
    cap_m, cred_m = _metrics(caption_px), _metrics(credit_px)
    gap = round(caption_px * 0.35) if caption_lines and credit_lines else 0
    text_h = len(caption_lines) * cap_m.line_height + gap + len(credit_lines) * cred_m.line_height
    strip_h = (2 * pad + text_h) if text_h else 0

    card = Image.new("RGB", (card_w, photo.height + strip_h), BACKGROUND)
    card.paste(photo, ((card_w - photo.width) // 2, 0))
    draw = ImageDraw.Draw(card)
    y = photo.height + pad
    for line in caption_lines:
        _draw_line(draw, pad, y + cap_m.ascent, line, caption_px, CAPTION_COLOUR)
        y += cap_m.line_height
    y += gap
    for line in credit_lines:
        _draw_line(draw, pad, y + cred_m.ascent, line, credit_px, CREDIT_COLOUR)
        y += cred_m.line_height
    log.debug(
        "credit card %sx%s, %s caption lines, %s credit lines",
        *card.size,
        len(caption_lines),
        len(credit_lines),
    )
    return _encode_jpeg(card)


def collage_layout(count: int, size: int, gap: int) -> list[tuple[int, int, int, int]]:
    """Tile boxes (x, y, w, h): 1 fills the square, 2 side by side, 3 = one tall + two stacked."""
    a = (size - gap) // 2
    b = size - gap - a
    if count == 1:
        return [(0, 0, size, size)]
    if count == 2:
        return [(0, 0, a, size), (a + gap, 0, b, size)]
    if count == 3:
        return [(0, 0, a, size), (a + gap, 0, b, a), (a + gap, a + gap, b, b)]
    if count == 4:
        return [(0, 0, a, a), (a + gap, 0, b, a), (0, a + gap, a, b), (a + gap, a + gap, b, b)]
    raise ValueError(f"a collage takes 1 to 4 pictures, not {count}")


def collage_2x2(
    images: list[bytes],
    *,
    size: int = 1024,
    gap: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """A ``size``×``size`` JPEG of 1–4 pictures, each centre-cropped to its tile.

    Raises ValueError for 0 or more than 4 pictures, ImageRejected for a bad one.
    """
    if gap is None:
        gap = max(2, size // 128)
    boxes = collage_layout(len(images), size, gap)
    canvas = Image.new("RGB", (size, size), BACKGROUND)
    for data, (x, y, w, h) in zip(images, boxes, strict=True):
        decoded = decode(_photo_bytes(data), cover=(w, h), max_pixels=max_pixels).image
        tile = ImageOps.fit(_flatten(decoded), (w, h), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        canvas.paste(tile, (x, y))
    return _encode_jpeg(canvas)


async def render_credit_card_async(image: bytes | ProcessedImage, **kwargs: object) -> bytes:
    """``render_credit_card`` in a worker thread."""
    return await asyncio.to_thread(render_credit_card, image, **kwargs)  # type: ignore[arg-type]


async def collage_2x2_async(images: list[bytes], **kwargs: object) -> bytes:
    """``collage_2x2`` in a worker thread."""
    return await asyncio.to_thread(collage_2x2, images, **kwargs)  # type: ignore[arg-type]
