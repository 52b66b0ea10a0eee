"""Image memory: progressive giants refused from the header, decodes limited in number, bombs named
with their real size. Peak memory is measured in a child process (its own ``VmHWM``), never time."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.media import ImageRejected, process_image
from bot.media.images import DECODE_SLOTS, PROGRESSIVE_MAX_PIXELS, _header_size_or_zero
from bot.sandbox import Sandbox, Upload

ROOT = Path(__file__).resolve().parents[2]

MAKE = """
import sys
from PIL import Image
w, h, mode, progressive, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", sys.argv[5]
g = Image.linear_gradient("L").resize((w, h))
if mode == "RGB":
    g = Image.merge("RGB", (g, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT), g.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
g.save(path, "JPEG", quality=60, progressive=progressive)
"""

# Six admins at once, each in its own worker thread, in a child process that reports its peak.
UPLOADS = """
import json, resource, sys, threading
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a regression fails, the machine lives
from bot.media import ImageRejected, process_image
data = open(sys.argv[1], "rb").read()
results = []
def upload():
    try:
        done = process_image(data)
        results.append(["ok", done.width, done.height])
    except ImageRejected as exc:
        results.append([exc.code, exc.message])
    except MemoryError:
        results.append(["MemoryError", ""])
threads = [threading.Thread(target=upload) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
def peak_mib():
    # VmHWM belongs to this program's own address space; ru_maxrss survives exec and would
    # report the (large) test process that started us.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"results": results, "peak_mib": peak_mib()}))
"""


def make_jpeg_file(path: Path, width: int, height: int, mode: str, progressive: bool) -> Path:
    """Made in its own process, so building the picture costs nothing in the measured one."""
    subprocess.run(
        [sys.executable, "-c", MAKE, str(width), str(height), mode, "1" if progressive else "0", str(path)],
        check=True,
        timeout=120,
    )
    return path


def six_uploads(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", UPLOADS, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def progressive_giant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real progressive 12000×13333 JPEG (under a megabyte: a smooth gradient)."""
    return make_jpeg_file(tmp_path_factory.mktemp("img") / "giant.jpg", 12000, 13333, "L", True)


def test_six_progressive_giants_at_once_stay_under_300_mb(progressive_giant: Path) -> None:
    """It took 2,966 MB: libjpeg keeps a progressive JPEG's coefficients whatever the draft scale."""
    assert progressive_giant.stat().st_size < 2_000_000
    report = six_uploads(progressive_giant)
    assert [code for code, _ in report["results"]] == ["progressive"] * 6
    assert report["results"][0][1] == (
        "That picture is a progressive JPEG of 12,000 × 13,333 pixels (160 megapixels). Progressive "
        "JPEGs over 24 megapixels take too much memory to open. Please save it as a standard (baseline) "
        "JPEG or resize it, and send it again."
    )
    assert report["peak_mib"] < 300, report


def test_a_small_progressive_jpeg_is_still_accepted(tmp_path: Path) -> None:
    path = make_jpeg_file(tmp_path / "p.jpg", 3000, 2000, "RGB", True)
    done = process_image(path.read_bytes())
    assert (done.width, done.height) == (3000, 2000)
    assert 3000 * 2000 < PROGRESSIVE_MAX_PIXELS


def test_concurrent_decodes_are_limited_so_the_peak_is_bounded(tmp_path: Path) -> None:
    """Six 12-megapixel baseline JPEGs at once: only DECODE_SLOTS decode together (~530 MB unlimited)."""
    assert DECODE_SLOTS == 2
    report = six_uploads(make_jpeg_file(tmp_path / "b.jpg", 3500, 3500, "RGB", False))
    assert report["results"] == [["ok", 3500, 3500]] * 6
    assert report["peak_mib"] < 360, report


# --------------------------------------------------------------------------------------------- WebP bombs


def _webp(**save: object) -> bytearray:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "WEBP", **save)
    return bytearray(out.getvalue())


def webp_bomb(kind: str) -> bytes:
    """A real WebP whose header claims 16384 × 16384 (268 MP): Pillow's own guard fires at open."""
    if kind == "lossless":
        data = _webp(lossless=True)
        assert data[12:16] == b"VP8L"
        bits = int.from_bytes(data[21:25], "little")
        bits = (bits & ~((1 << 28) - 1)) | 16383 | (16383 << 14)
        data[21:25] = bits.to_bytes(4, "little")
    elif kind == "lossy":
        data = _webp(quality=50)
        assert data[12:16] == b"VP8 "
        data[26:28] = (16383).to_bytes(2, "little")  # 14 bits: 16383 is the most it can say
        data[28:30] = (16383).to_bytes(2, "little")
    else:
        data = _webp(quality=50, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
        assert data[12:16] == b"VP8X"
        data[24:27] = (16383).to_bytes(3, "little")
        data[27:30] = (16383).to_bytes(3, "little")
    return bytes(data)


@pytest.mark.parametrize(("kind", "side"), [("lossless", 16384), ("lossy", 16383), ("extended", 16384)])
def test_webp_bomb_is_refused_with_its_real_dimensions(kind: str, side: int) -> None:
    bomb = webp_bomb(kind)
    assert _header_size_or_zero(bomb) == (side, side)
    with pytest.raises(ImageRejected) as info:
        process_image(bomb)
    assert info.value.code == "bomb"
    assert info.value.message.startswith(
        f"That picture says it is {side:,} × {side:,} pixels (268 megapixels)"
    )
    assert "0 × 0" not in info.value.message


def test_a_bomb_of_unknown_size_is_not_called_0_by_0() -> None:
    from bot.media.images import _bomb

    assert _bomb(0, 0, 40_000_000).message == (
        "That picture is too large (over the 40-megapixel limit), so it was not opened. Please resize "
        "it below 40 megapixels and send it again."
    )


async def test_admin_sees_the_webp_bombs_real_size(bot: object, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice = sandbox.add_user("alice", guild=guild, roles=[sandbox.role(guild, "Admins")])
    record = await sandbox.invoke(
        "admin photo add",
        {"image": Upload("bomb.webp", webp_bomb("lossless"), "image/webp"), "caption": "c", "credit": "d"},
        user=alice,
    )
    await sandbox.wait_until(lambda: record.messages and not record.messages[-1]["content"].endswith("…"))
    content = record.messages[-1]["content"] if record.messages else record.reply["content"]
    assert "16,384 × 16,384 pixels" in content, content
    assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"
