from __future__ import annotations

import hashlib
import io
import struct
import time

import pytest
from PIL import Image, ImageSequence

from bench.synthetic_images import make_image, make_jpeg
from bot.media import ImageRejected, ProcessedImage, hamming, perceptual_hash, process_image, same_picture
from bot.media.images import process_image_async
from tests.support.helpers import encode, png_bytes

ignore_bomb_warning = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def reopen(p: ProcessedImage) -> Image.Image:
    im = Image.open(io.BytesIO(p.data))
    assert im.format == p.format
    assert im.size == (p.width, p.height)
    return im


def rejected(data: bytes, **kwargs: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_image(data, **kwargs)
    assert info.value.message == str(info.value)
    assert info.value.message.endswith(".")
    return info.value


# --------------------------------------------------------------------------- hostile input


def test_decompression_bomb_png_refused_before_decoding() -> None:
    data = png_bytes(50_000, 50_000, rows=1)
    assert len(data) < 1_000
    start = time.perf_counter()
    err = rejected(data)
    assert time.perf_counter() - start < 0.5
    assert err.code == "bomb"
    assert "50,000 × 50,000" in err.message
    assert "40-megapixel limit" in err.message


@ignore_bomb_warning
def test_bomb_between_our_cap_and_pillows_is_ours_to_refuse() -> None:
    # 100 MP: Pillow only warns (its error starts at 179 MP); our 40 MP cap refuses it.
    err = rejected(png_bytes(10_000, 10_000, rows=1))
    assert err.code == "bomb"
    assert "100 megapixels" in err.message


def test_own_cap_is_configurable() -> None:
    data = png_bytes(300, 300)
    assert process_image(data).width == 300
    assert rejected(data, max_pixels=50_000).code == "bomb"


def test_gif_bomb_header() -> None:
    # Logical screen 65535×65535 with a 1×1 frame.
    gif = encode(Image.new("P", (1, 1)), "GIF")
    bomb = gif[:6] + struct.pack("<HH", 65535, 65535) + gif[10:]
    assert rejected(bomb).code == "bomb"


def test_truncated_jpeg() -> None:
    data = make_jpeg(640, 480, seed=3)
    err = rejected(data[: len(data) // 2])
    assert err.code == "truncated"
    assert "cut off" in err.message


def test_truncated_png() -> None:
    data = encode(make_image(320, 240, seed=3), "PNG")
    assert rejected(data[: len(data) // 2]).code == "truncated"


def test_text_file_named_jpg() -> None:
    err = rejected(b"Not a picture, just some notes about the ISS.\n" * 10)
    assert err.code == "not_an_image"
    assert "JPEG, PNG, WebP or GIF" in err.message


def test_empty_file() -> None:
    assert rejected(b"").code == "empty"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"%PDF-1.7\n" + b"\x00" * 64, "PDF"),
        (b"8BPS\x00\x01" + b"\x00" * 64, "PSD"),
    ],
)
def test_known_but_unsupported_formats(data: bytes, name: str) -> None:
    err = rejected(data)
    assert err.code == "unsupported_format"
    assert name in err.message


def test_corrupt_png_header() -> None:
    data = bytearray(encode(make_image(64, 64), "PNG"))
    data[20:30] = b"\xff" * 10  # smash IHDR (and its CRC)
    assert rejected(bytes(data)).code in ("corrupt", "truncated")


def test_input_size_cap() -> None:
    err = rejected(make_jpeg(320, 240), max_input_bytes=1_000)
    assert err.code == "too_large"
    assert "MB" in err.message


@ignore_bomb_warning
def test_12000_square_jpeg_is_shrunk_with_draft() -> None:
    # Decision: a JPEG may declare up to 4 × max_pixels, because libjpeg decodes it at 1/2 scale
    # (36 MP here, under the 40 MP cap) without ever holding the full 144 MP.
    big = Image.linear_gradient("L").resize((12_000, 12_000))
    data = encode(big, "JPEG", quality=80)
    del big
    p = process_image(data)
    assert p.draft_used
    assert (p.source_width, p.source_height) == (12_000, 12_000)
    assert (p.width, p.height) == (4096, 4096)
    assert p.format == "JPEG"


@ignore_bomb_warning
def test_12000_square_png_is_refused() -> None:
    # A real, valid 12000×12000 PNG (140 kB of zeros): no draft decoding for PNG, so it's a bomb.
    data = png_bytes(12_000, 12_000)
    assert len(data) < 1_000_000
    assert rejected(data).code == "bomb"


@ignore_bomb_warning
def test_jpeg_beyond_draft_headroom_is_refused() -> None:
    data = make_jpeg(800, 600)
    # Rewrite the SOF0 dimensions to 20000×20000 (400 MP = 10 × the cap).
    sof = data.index(b"\xff\xc0")
    forged = data[: sof + 5] + struct.pack(">HH", 20_000, 20_000) + data[sof + 9 :]
    assert rejected(forged).code == "bomb"


# --------------------------------------------------------------------------- modes and formats


def test_animated_gif_keeps_animation() -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    frames = [Image.new("RGB", (64, 48), c) for c in colours]
    data = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300, 400],
        loop=0,
        comment=b"secret comment",
    )
    p = process_image(data)
    assert (p.format, p.mime, p.extension) == ("GIF", "image/gif", "gif")
    assert p.animated and p.frames == 4
    assert b"secret" not in p.data
    out = reopen(p)
    assert out.n_frames == 4
    assert out.info.get("loop") == 0
    durations = [f.info["duration"] for f in ImageSequence.Iterator(out)]
    assert durations == [100, 200, 300, 400]
    seen = [f.convert("RGB").getpixel((10, 10)) for f in ImageSequence.Iterator(out)]
    assert seen == colours


def test_animated_gif_over_budget_becomes_first_frame() -> None:
    frames = [Image.new("RGB", (64, 48), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    p = process_image(data, max_pixels=64 * 48 * 2)  # fewer pixels than all three frames
    assert not p.animated and p.frames == 1
    assert p.format == "PNG"
    assert reopen(p).convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_animated_webp_stays_animated() -> None:
    frames = [make_image(80, 60, seed=s) for s in range(3)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=120, loop=0)
    p = process_image(data)
    assert p.format == "WEBP" and p.animated and p.frames == 3
    assert reopen(p).n_frames == 3


def test_cmyk_jpeg_converted_to_rgb() -> None:
    data = encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    p = process_image(data)
    out = reopen(p)
    assert p.format == "JPEG" and out.mode == "RGB"
    r, g, b = out.getpixel((32, 32))
    assert r > 200 and g < 60 and b < 60


def test_16_bit_png_is_scaled_not_clipped() -> None:
    row = b"".join(struct.pack("<H", x * 257) for x in range(256))
    im16 = Image.frombytes("I;16", (256, 4), row * 4)
    data = encode(im16, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    p = process_image(data)
    out = reopen(p)
    assert p.format == "PNG" and out.mode == "L"
    assert [out.getpixel((x, 1)) for x in (0, 64, 128, 255)] == [0, 64, 128, 255]


def test_palette_with_transparency_keeps_alpha() -> None:
    im = Image.new("P", (32, 32), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 16, 32))
    data = encode(im, "PNG", transparency=0)
    p = process_image(data)
    out = reopen(p)
    assert out.mode == "RGBA"
    assert out.getpixel((4, 4))[3] == 0
    assert out.getpixel((24, 4)) == (255, 0, 0, 255)


def test_la_png_and_opaque_alpha_dropped() -> None:
    la = Image.new("LA", (16, 16), (128, 100))
    assert reopen(process_image(encode(la, "PNG"))).mode == "LA"
    opaque = Image.new("RGBA", (16, 16), (1, 2, 3, 255))
    assert reopen(process_image(encode(opaque, "PNG"))).mode == "RGB"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_bmp_and_tiff_are_converted_to_png(fmt: str) -> None:
    # Decision: convert (Discord shows neither inline); PNG keeps them lossless.
    src = make_image(120, 90, seed=5)
    p = process_image(encode(src, fmt))
    assert p.format == "PNG" and p.source_format == fmt
    assert reopen(p).convert("RGB").tobytes() == src.tobytes()


def test_big_tiff_photo_falls_back_to_jpeg() -> None:
    data = encode(make_image(800, 600, seed=6), "TIFF")
    p = process_image(data, max_bytes=150_000)
    assert p.format == "JPEG"
    assert len(p.data) <= 150_000


def test_transparent_png_too_big_for_png_becomes_webp() -> None:
    im = make_image(600, 400, seed=8).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize((600, 400)))
    p = process_image(encode(im, "PNG"), max_bytes=120_000)
    assert p.format == "WEBP" and len(p.data) <= 120_000
    assert reopen(p).mode == "RGBA"


# --------------------------------------------------------------------------- metadata and orientation


def test_exif_orientation_applied_and_gps_stripped() -> None:
    src = Image.new("RGB", (200, 100), (255, 0, 0))
    src.paste((0, 0, 255), (100, 0, 200, 100))  # stored: left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 28.0, 40.0), 3: "W", 4: (0.0, 0.0, 5.0)})
    data = encode(
        src, "JPEG", quality=95, exif=exif, comment=b"secret comment", xmp=b"<x:xmpmeta>secret</x:xmpmeta>"
    )
    before = Image.open(io.BytesIO(data))
    assert before.getexif().get_ifd(0x8825)[1] == "N"  # the GPS really is in the input

    p = process_image(data)
    out = reopen(p)
    assert (p.width, p.height) == (100, 200)
    top, bottom = out.getpixel((50, 20)), out.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60  # red on top after the rotation
    assert bottom[2] > 200 and bottom[0] < 60
    assert len(out.getexif()) == 0
    for key in ("exif", "comment", "xmp", "icc_profile"):
        assert key not in out.info
    for needle in (b"Exif", b"SecretCam", b"secret", b"GPS"):
        assert needle not in p.data


def test_png_text_and_exif_chunks_stripped() -> None:
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Location", "secret place")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = encode(make_image(64, 64), "PNG", pnginfo=meta, exif=exif)
    p = process_image(data)
    assert b"secret" not in p.data and b"SecretCam" not in p.data
    assert b"eXIf" not in p.data and b"tEXt" not in p.data


def test_srgb_icc_profile_not_carried_over() -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(make_image(64, 64), "PNG", icc_profile=icc)
    p = process_image(data)
    assert "icc_profile" not in reopen(p).info


# --------------------------------------------------------------------------- size, draft, bytes


def test_jpeg_draft_used_for_big_reduction() -> None:
    data = make_jpeg(4000, 3000, seed=1)
    p = process_image(data, max_side=1000)
    assert p.draft_used
    assert (p.width, p.height) == (1000, 750)
    assert (p.source_width, p.source_height) == (4000, 3000)


def test_no_draft_when_no_reduction_needed() -> None:
    p = process_image(make_jpeg(4000, 3000, seed=1))
    assert not p.draft_used
    assert (p.width, p.height) == (4000, 3000)


def test_output_fits_max_bytes() -> None:
    data = make_jpeg(3000, 2000, seed=2, quality=95)
    assert len(data) > 1_000_000
    p = process_image(data, max_bytes=200_000)
    assert len(p.data) <= 200_000
    assert p.format == "JPEG"
    assert reopen(p).size == (p.width, p.height)


def test_max_side_respected_for_png() -> None:
    p = process_image(encode(make_image(1500, 500), "PNG"), max_side=450)
    assert (p.width, p.height) == (450, 150)


def test_cannot_fit_is_refused() -> None:
    err = rejected(make_jpeg(640, 480), max_bytes=300)
    assert err.code == "too_large"


def test_result_fields() -> None:
    p = process_image(make_jpeg(320, 240))
    assert p.sha256 == hashlib.sha256(p.data).hexdigest()
    assert len(p.phash) == 16 and int(p.phash, 16) >= 0
    assert (p.mime, p.extension) == ("image/jpeg", "jpg")
    assert "data" not in repr(p)


async def test_async_wrapper() -> None:
    p = await process_image_async(make_jpeg(320, 240), max_side=100)
    assert max(p.width, p.height) == 100


# --------------------------------------------------------------------------- perceptual hash


def test_phash_same_picture_reencoded_and_resized() -> None:
    base = make_image(800, 600, seed=7)
    original = perceptual_hash(encode(base, "JPEG", quality=92))
    variants = [
        encode(base.resize((400, 300)), "JPEG", quality=60),
        encode(base, "PNG"),
        encode(base.resize((1600, 1200)), "WEBP", quality=70),
    ]
    for v in variants:
        assert hamming(original, perceptual_hash(v)) <= 6
        assert same_picture(original, perceptual_hash(v))
    assert hamming(original, process_image(encode(base, "PNG"), max_side=300).phash) <= 6


def test_phash_differs_for_different_pictures() -> None:
    hashes = [perceptual_hash(make_jpeg(400, 300, seed=s)) for s in range(6)]
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            assert hamming(hashes[i], hashes[j]) > 16
            assert not same_picture(hashes[i], hashes[j])


def test_phash_accepts_images_and_processed() -> None:
    base = make_image(200, 150, seed=9)
    p = process_image(encode(base, "PNG"))
    assert perceptual_hash(p) == p.phash
    assert hamming(perceptual_hash(base), p.phash) <= 2
    assert hamming("ffffffffffffffff", 0) == 64
    assert hamming(0b1011, 0b0001) == 2


def test_mpo_from_a_phone_is_a_jpeg_still() -> None:
    frames = [make_image(320, 240, seed=1), make_image(320, 240, seed=2)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    p = process_image(data)
    assert p.format == "JPEG" and p.source_format == "MPO" and not p.animated


def test_threads_can_process_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.media import render_credit_card

    data = [make_jpeg(640, 480, seed=s) for s in range(4)]
    with ThreadPoolExecutor(4) as pool:
        cards = list(pool.map(lambda d: render_credit_card(d, caption="東京 Tokyo", credit="JAXA"), data * 2))
        processed = list(pool.map(process_image, data * 2))
    assert len({c for c in cards}) == 4
    assert [p.sha256 for p in processed[:4]] == [p.sha256 for p in processed[4:]]


def test_avif_is_converted_to_jpeg() -> None:
    p = process_image(encode(make_image(160, 120, seed=1), "AVIF", quality=60))
    assert (p.source_format, p.format, p.width, p.height) == ("AVIF", "JPEG", 160, 120)
