"""Turn an untrusted upload into a clean picture Discord will show.

Everything here is synchronous and CPU-bound: call it with ``asyncio.to_thread`` (or use the
``*_async`` wrappers), never on the event loop.

Decisions:

- Pixel cap before decoding: the size in the header is checked before a single pixel is decoded.
  Anything over ``max_pixels`` is refused as a ``bomb``, except a JPEG, which may declare up to
  ``JPEG_DRAFT_HEADROOM`` × ``max_pixels`` because libjpeg can decode it at 1/2 (¼ of the pixels)
  straight from the DCT data; the decoded size is always within ``max_pixels``. So a 12000×12000
  JPEG (144 MP) is shrunk, a 12000×12000 PNG is refused.
- Animated GIF/WebP/APNG keep their animation when frames × width × height ≤ ``max_pixels``,
  there are at most ``MAX_FRAMES`` frames and the re-encoded file fits ``max_bytes``; otherwise
  the first frame is kept as a still picture.
- BMP, TIFF (first page) and AVIF are accepted and converted; HEIC, PSD, SVG, PDF, JPEG XL, ICO
  and video are refused with a specific message.
- Output: JPEG/MPO/AVIF → JPEG; WebP → WebP; PNG, still GIF, BMP, TIFF → PNG, falling back to JPEG
  (opaque) or WebP (transparent) when PNG exceeds ``max_bytes``. All metadata (EXIF incl. GPS,
  XMP, comments, text chunks, ICC) is dropped; a non-sRGB ICC profile is applied first.
- Pillow still emits its DecompressionBombWarning (not an error) for a 89–160 MP JPEG that we
  accept through draft decoding; if warnings are made errors process-wide, such JPEGs are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import math
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError

from bot.i18n import Phrase
from bot.media.errors import ImageRejected
from bot.media.phash import phash_image
from bot.memory import release_memory

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_SIDE = 4096
DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024
JPEG_DRAFT_HEADROOM = 4
# libjpeg keeps a progressive JPEG's whole coefficient buffer (about 2 bytes per sample) whatever
# the draft scale: 12000 × 13333 cost ~480 MB. Above this size they are refused from the header.
PROGRESSIVE_MAX_PIXELS = 24_000_000
# At most this many uploads are decoded at once, whatever the number of worker threads: each may
# take ~150 MB at the caps, so the peak stays bounded when many admins upload at the same moment.
DECODE_SLOTS = 2
_decode_slots = threading.BoundedSemaphore(DECODE_SLOTS)
# Above this many source pixels, freed memory is handed back to the system after processing.
_TRIM_ABOVE_PIXELS = 8_000_000
MAX_FRAMES = 300
MIN_SIDE = 32
"""Below this longest side we stop shrinking and say the picture can't be made small enough."""

INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
"""Only these decoders are ever tried on untrusted bytes (JPEG also yields MPO, phone JPEGs)."""
_LOSSY_SOURCES = {"JPEG", "MPO", "AVIF"}
_ANIMATABLE = {"GIF", "WEBP", "PNG"}
_OUTPUT = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
_DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, ZeroDivisionError)
"""What Pillow's plugins raise on malformed files."""
_JPEG_QUALITIES = (88, 80, 70, 60)
_WEBP_QUALITIES = (85, 75, 65, 55)


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """A cleaned picture, ready to upload or store; ``sha256`` is of ``data``."""

    data: bytes = field(repr=False)
    format: str
    mime: str
    extension: str
    width: int
    height: int
    sha256: str
    phash: str
    draft_used: bool
    animated: bool = False
    frames: int = 1
    source_format: str = ""
    source_width: int = 0
    source_height: int = 0


@dataclass(slots=True)
class Decoded:
    """A decoded, upright, metadata-free image in L, LA, RGB or RGBA mode."""

    image: Image.Image
    source_format: str
    source_size: tuple[int, int]
    draft_used: bool


# --------------------------------------------------------------------------- messages


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _mp(n: int) -> str:
    return f"{n / 1_000_000:,.0f}" if n >= 10_000_000 else f"{n / 1_000_000:,.1f}"


def _bomb(width: int, height: int, max_pixels: int) -> ImageRejected:
    if width <= 0 or height <= 0:  # a header we could not read: never claim "0 × 0 pixels"
        return ImageRejected("bomb", "image.bomb_unknown", limit=_mp(max_pixels))
    return ImageRejected(
        "bomb",
        "image.bomb",
        width=f"{width:,}",
        height=f"{height:,}",
        megapixels=_mp(width * height),
        limit=_mp(max_pixels),
    )


def _progressive(width: int, height: int) -> ImageRejected:
    return ImageRejected(
        "progressive",
        "image.progressive",
        width=f"{width:,}",
        height=f"{height:,}",
        megapixels=_mp(width * height),
        limit=_mp(PROGRESSIVE_MAX_PIXELS),
    )


_TRUNCATED = ImageRejected("truncated", "image.truncated")
_CORRUPT = ImageRejected("corrupt", "image.corrupt")
_NOT_AN_IMAGE = ImageRejected("not_an_image", "image.not_an_image")


def _unsupported(name: str | Phrase, hint: str = "convert") -> ImageRejected:
    """``name`` a format's own name (AVIF), or a phrase for one that is a word (video); ``hint``
    which advice follows (``image.hint.<hint>``)."""
    return ImageRejected(
        "unsupported_format", "image.unsupported", name=name, hint=Phrase(f"image.hint.{hint}")
    )


def _sniff_unsupported(data: bytes) -> ImageRejected:
    """Say which format a file we can't open is, when we recognise it."""
    head = data[:512]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return _unsupported("HEIC/HEIF", "heic")
        if brand in (b"avif", b"avis"):
            return _unsupported("AVIF")
        if brand in (b"isom", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"dash"):
            return _unsupported(Phrase("image.name.video"), "still")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _unsupported(Phrase("image.name.video"), "still")
    if head.startswith(b"8BPS"):
        return _unsupported(Phrase("image.name.psd"))
    if head.startswith(b"%PDF"):
        return _unsupported("PDF", "pdf")
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL "):
        return _unsupported("JPEG XL")
    if head.startswith(b"\x00\x00\x01\x00") or head.startswith(b"\x00\x00\x02\x00"):
        return _unsupported(Phrase("image.name.ico"))
    lowered = head.lstrip().lower()
    if lowered.startswith(b"<svg") or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        return _unsupported("SVG", "svg")
    if head.startswith((b"\xff\xd8", b"\x89PNG", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")):
        return _CORRUPT
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _CORRUPT
    return _NOT_AN_IMAGE


def _reject(template: ImageRejected) -> ImageRejected:
    """A fresh exception per raise (tracebacks must not pile up on a shared instance)."""
    return ImageRejected(template.code, template.key, **template.params)


# --------------------------------------------------------------------------- opening


def open_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
) -> Image.Image:
    """Open (header only, nothing decoded) with the size checks; raises ImageRejected.

    The returned image is not yet loaded; JPEGs over ``max_pixels`` (but within the draft
    headroom) come back too, and the caller must draft them down (``decode`` does).
    """
    if not data:
        raise ImageRejected("empty", "image.empty")
    if len(data) > max_input_bytes:
        raise ImageRejected(
            "too_large", "image.file_too_large", size=_mb(len(data)), limit=_mb(max_input_bytes)
        )
    try:
        im = Image.open(io.BytesIO(data), formats=INPUT_FORMATS)
    except UnidentifiedImageError:
        raise _sniff_unsupported(data) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (an error above 2 × MAX_IMAGE_PIXELS) fired before ours could.
        log.info("image refused by Pillow's bomb guard: %s", exc)
        raise _bomb(*_header_size_or_zero(data), max_pixels) from None
    except _DECODER_ERRORS as exc:
        log.info("image failed to open: %r", exc)
        raise _reject(_CORRUPT) from None
    except Exception:  # unexpected from a plugin: still refuse politely, but keep the traceback
        log.warning("unexpected error opening an image", exc_info=True)
        raise _reject(_CORRUPT) from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise _reject(_CORRUPT)
    limit = max_pixels * (JPEG_DRAFT_HEADROOM if im.format in ("JPEG", "MPO") else 1)
    if width * height > limit:
        raise _bomb(width, height, max_pixels)
    if (
        im.format in ("JPEG", "MPO")
        and im.info.get("progressive")
        and width * height > PROGRESSIVE_MAX_PIXELS
    ):
        raise _progressive(width, height)
    return im


def _header_size_or_zero(data: bytes) -> tuple[int, int]:
    """Declared size for the error message when Pillow refused to open the file at all."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(b"GIF8") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:  # extended: 24-bit canvas width-1, height-1
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:  # lossless: 14 + 14 bits
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from the first SOFn marker."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return 0, 0
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return 0, 0


def _draft_divisor(width: int, height: int, need: float, max_pixels: int) -> int:
    """JPEG DCT scaling divisor (1, 2, 4, 8): as small as quality needs, as big as the cap needs."""
    quality = 1
    for d in (8, 4, 2):
        if 1 / d >= need:
            quality = d
            break
    cap = 1
    for d in (1, 2, 4, 8):
        cap = d
        if math.ceil(width / d) * math.ceil(height / d) <= max_pixels:
            break
    return max(quality, cap)


def _load(im: Image.Image, max_pixels: int) -> None:
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(*im.size, max_pixels) from None
    except (OSError, EOFError) as exc:
        log.info("image failed to decode: %r", exc)
        if "truncated" in str(exc).lower() or isinstance(exc, EOFError):
            raise _reject(_TRUNCATED) from None
        raise _reject(_CORRUPT) from None
    except MemoryError:
        raise ImageRejected("too_large", "image.out_of_memory") from None
    except _DECODER_ERRORS as exc:
        log.info("image failed to decode: %r", exc)
        raise _reject(_CORRUPT) from None
    except Exception:
        log.warning("unexpected error decoding an image", exc_info=True)
        raise _reject(_CORRUPT) from None


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _apply_icc(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB through the embedded profile, so dropping the profile keeps the colours."""
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(src) or "").lower()
        if "srgb" in desc and im.mode != "CMYK":
            return im
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, src, _srgb(), outputMode=out_mode)
        return converted if converted is not None else im
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("ignoring unusable ICC profile: %s", exc)
        return im


def normalize_mode(im: Image.Image) -> Image.Image:
    """Bring any mode to L, LA, RGB or RGBA; 16-bit is scaled (not clipped) to 8-bit."""
    mode = im.mode
    if mode.startswith("I;16"):
        im, mode = im.convert("I"), "I"
    if mode == "I":
        lo, hi = cast(tuple[float, float], im.getextrema())  # one band: (min, max)
        if hi > 65535 or lo < 0:  # real 32-bit data: stretch it like float data
            im, mode = im.convert("F"), "F"
        else:
            im, mode = im.point(lambda v: v * (1 / 256)).convert("L"), "L"
    if mode == "F":
        lo, hi = cast(tuple[float, float], im.getextrema())
        span = (hi - lo) or 1
        im, mode = im.point(lambda v: (v - lo) * (255 / span)).convert("L"), "L"
    if mode == "1":
        im, mode = im.convert("L"), "L"
    if mode == "P":
        has_alpha = "transparency" in im.info or (im.palette is not None and im.palette.mode == "RGBA")
        im = im.convert("RGBA" if has_alpha else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
    if im.mode in ("RGBA", "LA") and im.getchannel("A").getextrema() == (255, 255):
        im = im.convert("RGB" if im.mode == "RGBA" else "L")
    return im


def decode(
    data: bytes,
    *,
    fit: int | None = None,
    cover: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
) -> Decoded:
    """Open, check, decode (with JPEG draft), orient, colour-convert and strip an upload.

    ``fit`` (a square box side) or ``cover`` (a box to fill, then crop) is where the caller will
    resize to: JPEG draft decoding never goes below it, so no quality is lost. The result is not
    resized. Raises ImageRejected.
    """
    im = open_image(data, max_pixels=max_pixels, max_input_bytes=max_input_bytes)
    source_format = im.format or "?"
    source_size = im.size
    width, height = source_size
    need = 1.0
    if fit:
        need = min(need, fit / max(width, height))
    if cover:  # before EXIF rotation the box may be turned: cover it either way
        need = min(need, max(cover) / min(width, height))
    draft_used = False
    if source_format in ("JPEG", "MPO"):
        divisor = _draft_divisor(width, height, need, max_pixels)
        if divisor > 1:
            im.draft("RGB", (max(1, width // divisor), max(1, height // divisor)))
            draft_used = im.size != source_size
        if im.size[0] * im.size[1] > max_pixels:
            raise _bomb(width, height, max_pixels)
    icc = im.info.get("icc_profile")
    _load(im, max_pixels)
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception as exc:  # a broken EXIF block must not sink an otherwise good photo
        log.info("ignoring unreadable EXIF orientation: %r", exc)
        upright = im.copy()
    upright = _apply_icc(upright, icc)
    clean = normalize_mode(upright)
    if clean is im:
        clean = im.copy()
    clean.info = {}
    return Decoded(clean, source_format, source_size, draft_used)


# --------------------------------------------------------------------------- encoding


def _encode(im: Image.Image, fmt: str, quality: int | None) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=quality, optimize=False)
    elif fmt == "WEBP":
        im.save(out, "WEBP", quality=quality, method=4)
    else:
        im.save(out, fmt)
    return out.getvalue()


def _ladder(fmt: str, im: Image.Image) -> Iterator[tuple[str, int | None]]:
    if fmt == "PNG":
        yield "PNG", None
        fmt = "WEBP" if im.mode in ("RGBA", "LA") else "JPEG"
    if fmt == "JPEG":
        for q in _JPEG_QUALITIES:
            yield "JPEG", q
    else:
        for q in _WEBP_QUALITIES:
            yield "WEBP", q


def _too_big(max_bytes: int) -> ImageRejected:
    return ImageRejected("too_large", "image.cannot_shrink", size=_mb(max_bytes))


def _encode_to_fit(
    im: Image.Image, fmt: str, max_side: int, max_bytes: int
) -> tuple[bytes, str, Image.Image]:
    """Encode, stepping quality then size down until the file is ≤ max_bytes."""
    if max(im.size) > max_side:
        im = _resize(im, _fit_size(im.size, max_side))
    current = im
    for _attempt in range(12):
        last = 0
        for out_fmt, quality in _ladder(fmt, current):
            data = _encode(current, out_fmt, quality)
            if len(data) <= max_bytes:
                return data, out_fmt, current
            last = len(data)
        if fmt == "PNG":  # lossless did not fit at full size; from here on only lossy
            fmt = "WEBP" if current.mode in ("RGBA", "LA") else "JPEG"
        factor = min(0.9, max(0.5, math.sqrt(max_bytes / last) * 0.95))
        new_size = (max(1, round(current.width * factor)), max(1, round(current.height * factor)))
        if max(new_size) < MIN_SIDE:
            break
        log.debug("%s bytes > %s, shrinking to %s", last, max_bytes, new_size)
        current = _resize(im, new_size)
    raise _too_big(max_bytes)


def _fit_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, max_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _output_format(source_format: str) -> str:
    if source_format in _LOSSY_SOURCES:
        return "JPEG"
    if source_format == "WEBP":
        return "WEBP"
    return "PNG"


def _frame_count(im: Image.Image) -> int:
    try:
        return int(getattr(im, "n_frames", 1))
    except Exception as exc:
        log.info("could not count frames: %r", exc)
        return 1


def _try_animation(
    data: bytes, fmt: str, frames: int, *, max_side: int, max_bytes: int, max_pixels: int
) -> tuple[bytes, Image.Image, int] | None:
    """Re-encode an animation frame by frame (metadata dropped); None if it doesn't fit."""
    im = open_image(data, max_pixels=max_pixels, max_input_bytes=len(data))
    size = _fit_size(im.size, max_side)
    out_frames: list[Image.Image] = []
    durations: list[int] = []
    try:
        for frame in ImageSequence.Iterator(im):
            durations.append(int(frame.info.get("duration") or 100))
            out_frames.append(_resize(frame.convert("RGBA"), size))
    except Exception as exc:
        log.info("animation has a bad frame, keeping the first frame only: %r", exc)
        return None
    if len(out_frames) < 2:
        return None
    transparent = any(cast(tuple[int, int], f.getchannel("A").getextrema())[0] < 255 for f in out_frames)
    if not transparent:
        out_frames = [f.convert("RGB") for f in out_frames]
    for f in out_frames:
        f.info = {}  # convert() copies info: comments and XMP would ride along into the output
    params: dict[str, object] = {"save_all": True, "append_images": out_frames[1:], "duration": durations}
    if "loop" in im.info:
        params["loop"] = int(im.info["loop"])
    if fmt == "GIF":
        params["disposal"] = 2 if transparent else 1
    elif fmt == "WEBP":
        params.update(quality=80, method=4)
    buf = io.BytesIO()
    try:
        out_frames[0].save(buf, fmt, **params)
    except Exception as exc:
        log.warning("could not re-encode %s animation (%s frames): %r", fmt, frames, exc)
        return None
    encoded = buf.getvalue()
    if len(encoded) > max_bytes:
        log.info("animation re-encoded to %s bytes > %s, keeping the first frame", len(encoded), max_bytes)
        return None
    return encoded, out_frames[0], len(out_frames)


def process_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_side: int = DEFAULT_MAX_SIDE,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
) -> ProcessedImage:
    """Validate and clean an uploaded picture; raises ImageRejected with a message for the user.

    Blocking (tens to hundreds of ms): run it in a thread, see ``process_image_async``. At most
    ``DECODE_SLOTS`` run at once in the process; others wait their turn in their worker thread.
    """
    with _decode_slots:
        try:
            return _process_image(
                data,
                max_pixels=max_pixels,
                max_bytes=max_bytes,
                max_side=max_side,
                max_input_bytes=max_input_bytes,
            )
        finally:
            if len(data) > 1_000_000 or _declared_pixels(data) > _TRIM_ABOVE_PIXELS:
                release_memory()


def _declared_pixels(data: bytes) -> int:
    width, height = _header_size_or_zero(data)
    return width * height


def _process_image(
    data: bytes, *, max_pixels: int, max_bytes: int, max_side: int, max_input_bytes: int
) -> ProcessedImage:
    probe = open_image(data, max_pixels=max_pixels, max_input_bytes=max_input_bytes)
    source_format = probe.format or "?"
    frames = _frame_count(probe) if source_format in _ANIMATABLE else 1
    if frames > 1:
        w, h = probe.size
        if frames <= MAX_FRAMES and frames * w * h <= max_pixels:
            _load(probe, max_pixels)  # a truncated first frame is refused, like a still
            anim = _try_animation(
                data, source_format, frames, max_side=max_side, max_bytes=max_bytes, max_pixels=max_pixels
            )
            if anim is not None:
                encoded, first, count = anim
                return _result(encoded, source_format, first, probe.size, source_format, False, count)
        else:
            log.info(
                "animation with %s frames of %sx%s is over the caps, keeping the first frame", frames, w, h
            )
    probe.close()

    decoded = decode(data, fit=max_side, max_pixels=max_pixels, max_input_bytes=max_input_bytes)
    encoded, out_fmt, final = _encode_to_fit(
        decoded.image, _output_format(source_format), max_side, max_bytes
    )
    return _result(encoded, out_fmt, final, decoded.source_size, source_format, decoded.draft_used, 1)


def _result(
    encoded: bytes,
    fmt: str,
    image: Image.Image,
    source_size: tuple[int, int],
    source_format: str,
    draft_used: bool,
    frames: int,
) -> ProcessedImage:
    mime, ext = _OUTPUT[fmt]
    result = ProcessedImage(
        data=encoded,
        format=fmt,
        mime=mime,
        extension=ext,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
        phash=phash_image(image),
        draft_used=draft_used,
        animated=frames > 1,
        frames=frames,
        source_format=source_format,
        source_width=source_size[0],
        source_height=source_size[1],
    )
    log.debug(
        "processed %s %sx%s -> %s %sx%s, %s bytes, draft=%s, frames=%s",
        source_format,
        source_size[0],
        source_size[1],
        fmt,
        image.width,
        image.height,
        len(encoded),
        draft_used,
        frames,
    )
    return result


def perceptual_hash(
    image: bytes | Image.Image | ProcessedImage, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> str:
    """pHash (16 hex digits) of raw bytes (checked like an upload), a PIL image or a ProcessedImage."""
    if isinstance(image, ProcessedImage):
        return image.phash
    if isinstance(image, Image.Image):
        return phash_image(ImageOps.exif_transpose(image) if "exif" in image.info else image)
    with _decode_slots:
        decoded = decode(image, fit=256, max_pixels=max_pixels)
        return phash_image(decoded.image)


async def process_image_async(data: bytes, **kwargs: int) -> ProcessedImage:
    """``process_image`` in a worker thread, for use from the bot's event loop."""
    return await asyncio.to_thread(process_image, data, **kwargs)
