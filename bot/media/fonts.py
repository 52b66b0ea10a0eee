"""Fonts shipped in ``bot/content/fonts`` and per-character font fallback.

Pillow draws every character with one font and cannot fall back, so we read each font's
``cmap`` ourselves and split text into runs: DejaVu Sans for Latin/Greek/Cyrillic, WenQuanYi
Micro Hei for Chinese, Japanese and Korean. No system font is ever looked up.
"""

from __future__ import annotations

import logging
import struct
import threading
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent.parent / "content" / "fonts"
LATIN_FONT = "DejaVuSans.ttf"
CJK_FONT = "wqy-microhei.ttc"
FONT_CHAIN: tuple[str, ...] = (LATIN_FONT, CJK_FONT)


def font_path(name: str) -> Path:
    """Path of a shipped font file; raises FileNotFoundError if the package is incomplete."""
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"font {name} is missing from {FONT_DIR}")
    return path


def _parse_cmap(data: bytes, index: int = 0) -> frozenset[int]:
    """Code points mapped to a real glyph, from a TrueType/OpenType ``cmap`` (formats 4 and 12).

    ``index`` picks the face in a collection (.ttc); table offsets there count from file start.
    """
    base = 0
    if data[:4] == b"ttcf":
        base = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    num_tables = struct.unpack_from(">H", data, base + 4)[0]
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
            break
    if cmap_offset is None:
        return frozenset()

    n_sub = struct.unpack_from(">H", data, cmap_offset + 2)[0]
    subtables: dict[tuple[int, int], int] = {}
    for i in range(n_sub):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap_offset + offset

    codes: set[int] = set()
    # Prefer the full-repertoire table (format 12), then the BMP table (format 4).
    for key in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        if key not in subtables:
            continue
        off = subtables[key]
        fmt = struct.unpack_from(">H", data, off)[0]
        if fmt == 12:
            n_groups = struct.unpack_from(">I", data, off + 12)[0]
            for g in range(n_groups):
                start, end, glyph = struct.unpack_from(">III", data, off + 16 + 12 * g)
                if glyph == 0:
                    start += 1
                codes.update(range(start, end + 1))
            break
        if fmt == 4:
            seg_x2 = struct.unpack_from(">H", data, off + 6)[0]
            ends_at = off + 14
            starts_at = ends_at + seg_x2 + 2
            deltas_at = starts_at + seg_x2
            range_offsets_at = deltas_at + seg_x2
            for s in range(seg_x2 // 2):
                end = struct.unpack_from(">H", data, ends_at + 2 * s)[0]
                start = struct.unpack_from(">H", data, starts_at + 2 * s)[0]
                delta = struct.unpack_from(">h", data, deltas_at + 2 * s)[0]
                ro_pos = range_offsets_at + 2 * s
                range_offset = struct.unpack_from(">H", data, ro_pos)[0]
                for c in range(start, min(end, 0xFFFE) + 1):
                    if range_offset == 0:
                        glyph = (c + delta) & 0xFFFF
                    else:
                        gpos = ro_pos + range_offset + 2 * (c - start)
                        if gpos + 2 > len(data):
                            continue
                        glyph = struct.unpack_from(">H", data, gpos)[0]
                        if glyph:
                            glyph = (glyph + delta) & 0xFFFF
                    if glyph:
                        codes.add(c)
            break
    return frozenset(codes)


@lru_cache(maxsize=8)
def coverage(name: str) -> frozenset[int]:
    """Set of code points the shipped font ``name`` has glyphs for."""
    return _parse_cmap(font_path(name).read_bytes(), index=0)


_local = threading.local()


def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped font at ``size`` px (face 0 of a collection), cached per thread.

    Per thread because a FreeType face must not be used by two threads at once, and these
    functions run in ``asyncio.to_thread`` workers.
    """
    cache: dict[tuple[str, int], ImageFont.FreeTypeFont] | None = getattr(_local, "fonts", None)
    if cache is None:
        cache = _local.fonts = {}
    font = cache.get((name, size))
    if font is None:
        if len(cache) >= 64:
            cache.clear()
        font = cache[(name, size)] = ImageFont.truetype(str(font_path(name)), size, index=0)
    return font


def font_for_char(ch: str, chain: tuple[str, ...] = FONT_CHAIN) -> str:
    """First font in ``chain`` that has ``ch``; whitespace and unknown characters use the first."""
    cp = ord(ch)
    if ch.isspace():
        return chain[0]
    for name in chain:
        if cp in coverage(name):
            return name
    return chain[0]


def split_runs(text: str, chain: tuple[str, ...] = FONT_CHAIN) -> list[tuple[str, str]]:
    """Split ``text`` into ``(font name, run)`` pieces, each drawable with a single font."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        # A space keeps the font of the run it sits in, so "東京 タワー" stays one run.
        name = runs[-1][0] if ch == " " and runs else font_for_char(ch, chain)
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    return runs
