"""Credit cards (photo + caption/credit, legible at Discord's inline size) and collages of 1–4 photos, as JPEG.

Blocking Pillow work: call through ``asyncio.to_thread`` or the ``*_async`` wrappers.
Text uses only the fonts shipped in ``bot/content/fonts`` (see ``bot.media.fonts``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
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


PREVIEW_BOX = (400, 300)
"""The largest size Discord's desktop client draws an embed's image inline, in CSS px: a card is
scaled down to fit it, so text sizes are chosen for that displayed size, not for the source."""
PREVIEW_CAPTION_PX = 14
PREVIEW_CREDIT_PX = 12
"""Font sizes the caption and credit have at the preview size (Discord's own chat text is 16 px)."""
SIDE_PANEL_BELOW_ASPECT = 1.2
"""Photos narrower than this (width / height) get the text in a panel beside them: below a portrait
photo the text would be tiny once the tall card is scaled into the preview box."""
MAX_PANEL_CAPTION_LINES = 12


@dataclass(frozen=True, slots=True)
class _Layout:
    side: bool
    card_w: int
    card_h: int
    caption_px: int
    credit_px: int
    pad: int
    caption_lines: list[str]
    credit_lines: list[str]


def preview_scale(width: int, height: int, box: tuple[int, int] = PREVIEW_BOX) -> float:
    """How much Discord shrinks a ``width``×``height`` image to show it inline (never enlarges)."""
    return min(box[0] / width, box[1] / height, 1.0)


def panel_width(photo_w: int, photo_h: int) -> int:
    """The text panel beside a portrait or square photo: as close to the preview box's 4:3 as a
    panel of ¾ to 1¼ of the photo's width allows."""
    wanted = round(photo_h * 4 / 3) - photo_w
    return max(round(photo_w * 0.75), min(wanted, round(photo_w * 1.25)), MIN_CARD_WIDTH)


def _layout(
    photo_w: int,
    photo_h: int,
    caption: str,
    credit: str,
    max_caption_lines: int,
    max_credit_lines: int,
) -> _Layout:
    """Text sizes that stay legible once the whole card is scaled into the preview box.

    The card's size depends on the text size (a bigger strip makes a taller card, which is then
    scaled down more), so the sizes are found by iterating until both reach their preview size.
    """
    side = photo_w / photo_h < SIDE_PANEL_BELOW_ASPECT
    card_w = max(photo_w, MIN_CARD_WIDTH)
    panel_w = 0
    if side:
        panel_w = panel_width(photo_w, photo_h)
        card_w = photo_w + panel_w
    scale = preview_scale(card_w, photo_h)
    caption_px = credit_px = 0
    result: _Layout | None = None
    for _ in range(8):
        caption_px = max(MIN_CAPTION_PX, caption_px, math.ceil(PREVIEW_CAPTION_PX / scale))
        credit_px = max(MIN_CREDIT_PX, credit_px, math.ceil(PREVIEW_CREDIT_PX / scale))
        pad = max(12, round(caption_px * 0.7))
        text_w = (panel_w if side else card_w) - 2 * pad
        cap_m, cred_m = _metrics(caption_px), _metrics(credit_px)
        credit_lines = wrap_text(credit, credit_px, text_w, max_credit_lines)
        cap_limit = max_caption_lines
        if side:
            room = photo_h - 2 * pad - len(credit_lines) * cred_m.line_height - round(caption_px * 0.35)
            cap_limit = max(max_caption_lines, min(MAX_PANEL_CAPTION_LINES, room // cap_m.line_height))
        caption_lines = wrap_text(caption, caption_px, text_w, cap_limit)
        gap = round(caption_px * 0.35) if caption_lines and credit_lines else 0
        text_h = len(caption_lines) * cap_m.line_height + gap + len(credit_lines) * cred_m.line_height
        block_h = (2 * pad + text_h) if text_h else 0
        card_h = max(photo_h, block_h) if side else photo_h + block_h
        result = _Layout(side, card_w, card_h, caption_px, credit_px, pad, caption_lines, credit_lines)
        new_scale = preview_scale(card_w, card_h)
        if new_scale >= scale - 1e-9 or (
            caption_px * new_scale >= PREVIEW_CAPTION_PX - 0.5
            and credit_px * new_scale >= PREVIEW_CREDIT_PX - 0.5
        ):
            break
        scale = new_scale
    assert result is not None
    return result


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
    """The photo with the caption and credit, as JPEG; the card's width stays within ``max_side``.

    The text goes in a strip below landscape and panoramic photos and in a panel beside portrait and
    square ones, sized so that it is still legible when Discord shows the card inline
    (``PREVIEW_BOX``). Long captions wrap and end in "…". ``credit`` is drawn as given: add
    "Credit:" / "图片：" yourself in the server's language. Raises ImageRejected for a bad picture.
    """
    decoded = decode(_photo_bytes(image), fit=max_side, max_pixels=max_pixels)
    photo = _flatten(decoded.image)
    if max(photo.size) > max_side:
        photo.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if photo.width < MIN_CARD_WIDTH and photo.width / photo.height >= SIDE_PANEL_BELOW_ASPECT:
        # Small wide pictures are enlarged so the card is not a postage stamp.
        scale = MIN_CARD_WIDTH / photo.width
        if photo.height * scale <= max_side:
            photo = photo.resize(
                (MIN_CARD_WIDTH, max(1, round(photo.height * scale))), Image.Resampling.LANCZOS
            )
    if photo.width / photo.height < SIDE_PANEL_BELOW_ASPECT:
        # The panel goes beside the photo: the whole card, not the photo alone, fits in max_side.
        total = photo.width + panel_width(photo.width, photo.height)
        if total > max_side:
            factor = max_side / total
            photo = photo.resize(
                (max(1, round(photo.width * factor)), max(1, round(photo.height * factor))),
                Image.Resampling.LANCZOS,
                reducing_gap=3.0,
            )
    layout = _layout(
        photo.width,
        photo.height,
        clean_text(caption),
        clean_text(credit, keep_newlines=False),
        max_caption_lines,
        max_credit_lines,
    )
    card = Image.new("RGB", (layout.card_w, layout.card_h), BACKGROUND)
    if layout.side:
        card.paste(photo, (0, (layout.card_h - photo.height) // 2))
        x, y = photo.width + layout.pad, layout.pad
    else:
        card.paste(photo, ((layout.card_w - photo.width) // 2, 0))
        x, y = layout.pad, photo.height + layout.pad
    draw = ImageDraw.Draw(card)
    cap_m, cred_m = _metrics(layout.caption_px), _metrics(layout.credit_px)
    for line in layout.caption_lines:
        _draw_line(draw, x, y + cap_m.ascent, line, layout.caption_px, CAPTION_COLOUR)
        y += cap_m.line_height
    if layout.caption_lines and layout.credit_lines:
        y += round(layout.caption_px * 0.35)
    for line in layout.credit_lines:
        _draw_line(draw, x, y + cred_m.ascent, line, layout.credit_px, CREDIT_COLOUR)
        y += cred_m.line_height
    log.debug(
        "credit card %sx%s (%s), caption %s px × %s lines, credit %s px × %s lines",
        *card.size,
        "panel" if layout.side else "strip",
        layout.caption_px,
        len(layout.caption_lines),
        layout.credit_px,
        len(layout.credit_lines),
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


@dataclass(frozen=True, slots=True)
class CollageLayout:
    width: int
    height: int
    boxes: list[tuple[int, int, int, int]]
    """(x, y, w, h) per picture, in the order given."""

    def kept(self, aspects: list[float]) -> list[float]:
        """The share of each picture still visible once centre-cropped to its box (1.0 = all of it)."""
        out = []
        for aspect, (_, _, w, h) in zip(aspects, self.boxes, strict=True):
            box = w / h
            out.append(min(box, aspect) / max(box, aspect))
        return out


def _compositions(n: int) -> list[list[int]]:
    """Ways to cut n pictures, in order, into consecutive rows: 3 → [3], [1, 2], [2, 1], [1, 1, 1]."""
    if n == 0:
        return [[]]
    return [[first, *rest] for first in range(n, 0, -1) for rest in _compositions(n - first)]


def _justified(aspects: list[float], rows: list[int], width: float, gap: int) -> list[tuple[float, ...]]:
    """Rows of full-width pictures, each row as tall as keeps its pictures' own shapes."""
    boxes: list[tuple[float, ...]] = []
    y, i = 0.0, 0
    for count in rows:
        row = aspects[i : i + count]
        h = (width - gap * (count - 1)) / sum(row)
        x = 0.0
        for aspect in row:
            boxes.append((x, y, aspect * h, h))
            x += aspect * h + gap
        y += h + gap
        i += count
    return boxes


def choose_collage_layout(aspects: list[float], size: int, gap: int) -> CollageLayout:
    """The arrangement (rows, or columns) that shows every picture whole and the smallest one largest.

    Each candidate cuts the pictures into rows (or columns) that keep their own shapes, so nothing
    is cropped but rounding; the collage is as big as fits in ``size``×``size``.
    """
    if not 1 <= len(aspects) <= 4:
        raise ValueError(f"a collage takes 1 to 4 pictures, not {len(aspects)}")
    best: tuple[float, CollageLayout] | None = None
    for transpose in (False, True):
        shapes = [1 / a for a in aspects] if transpose else aspects
        for rows in _compositions(len(aspects)):
            raw = _justified(shapes, rows, 1000.0, 0)
            # Scale so the whole thing fits the box with the real gaps, then round to pixels.
            total_w = 1000.0
            total_h = max(y + h for _, y, _, h in raw)
            gaps_h = gap * (len(rows) - 1)
            scale = min((size - gap * (max(rows) - 1)) / total_w, (size - gaps_h) / total_h)
            inner_w = total_w * scale + gap * (max(rows) - 1)
            boxes_f = _justified(shapes, rows, inner_w, gap)
            if transpose:
                boxes_f = [(y, x, h, w) for x, y, w, h in boxes_f]
            boxes = [
                (round(x), round(y), max(1, round(x + w) - round(x)), max(1, round(y + h) - round(y)))
                for x, y, w, h in boxes_f
            ]
            width = min(size, max(x + w for x, _, w, _ in boxes))
            height = min(size, max(y + h for _, y, _, h in boxes))
            boxes = [(x, y, min(w, width - x), min(h, height - y)) for x, y, w, h in boxes]
            layout = CollageLayout(width, height, boxes)
            smallest = min(w * h for _, _, w, h in boxes)
            score = smallest + 0.1 * sum(w * h for _, _, w, h in boxes)
            if best is None or score > best[0] + 1e-6:
                best = (score, layout)
    assert best is not None
    return best[1]


def collage_2x2(
    images: list[bytes],
    *,
    size: int = 1024,
    gap: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """A JPEG of 1–4 pictures within ``size``×``size``, laid out so each is shown (nearly) whole.

    The layout is chosen from the pictures' shapes (``choose_collage_layout``): two landscape photos
    are stacked, two portraits side by side, and so on; the collage takes the shape that needs.
    Raises ValueError for 0 or more than 4 pictures, ImageRejected for a bad one.
    """
    if not 1 <= len(images) <= 4:
        raise ValueError(f"a collage takes 1 to 4 pictures, not {len(images)}")
    if gap is None:
        gap = max(2, size // 128)
    decoded = [_flatten(decode(_photo_bytes(data), fit=size, max_pixels=max_pixels).image) for data in images]
    layout = choose_collage_layout([im.width / im.height for im in decoded], size, gap)
    canvas = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    for im, (x, y, w, h) in zip(decoded, layout.boxes, strict=True):
        tile = ImageOps.fit(im, (w, h), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        canvas.paste(tile, (x, y))
    return _encode_jpeg(canvas)


async def render_credit_card_async(image: bytes | ProcessedImage, **kwargs: object) -> bytes:
    """``render_credit_card`` in a worker thread."""
    return await asyncio.to_thread(render_credit_card, image, **kwargs)  # type: ignore[arg-type]


async def collage_2x2_async(images: list[bytes], **kwargs: object) -> bytes:
    """``collage_2x2`` in a worker thread."""
    return await asyncio.to_thread(collage_2x2, images, **kwargs)  # type: ignore[arg-type]
