"""Helpers shared by the tests: one module, imported by test modules and conftest files alike
(fixtures stay in the conftest files; helpers are never imported from a test module or a conftest)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import struct
import sys
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image
from sqlalchemy import create_engine, delete, text

from bench.synthetic_images import make_image, make_jpeg
from bot.config import Settings, load_settings
from bot.core import Cupola
from bot.db import Database
from bot.extensions import find_extensions
from bot.feeds.poller import FeedPoller
from bot.media import ProcessedImage, process_image
from bot.models import Article, Photo
from bot.photos import schedule
from bot.sandbox import InteractionRecord, Sandbox
from bot.sandbox.model import Channel, Guild, Role, User

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------ database and bot
PG_URL = os.environ.get("CUPOLA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reason() -> str | None:
    """None when PostgreSQL is usable, else why the PostgreSQL variants are skipped."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install '.[postgres]')"
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {PG_URL}: {type(exc).__name__}"
    return None


PG_SKIP = _postgres_reason()


def make_settings(sandbox: Sandbox, tmp_path: Path, db_url: str, **discord: object) -> Settings:
    env = {
        "CUPOLA_DISCORD_TOKEN": sandbox.token,
        "CUPOLA_DISCORD_API_BASE": sandbox.api_base,
        "CUPOLA_DATABASE_URL": db_url,
        "CUPOLA_PATHS_DATA_DIR": str(tmp_path / "data"),
        "CUPOLA_NET_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    env.update({f"CUPOLA_DISCORD_{k.upper()}": str(v) for k, v in discord.items()})
    return load_settings(None, env=env)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    db: Database,
    sandbox: Sandbox,
    *,
    sync: bool = True,
    before_connect: Callable[[Cupola], None] | None = None,
    extensions: Sequence[str] | None = None,
) -> AsyncIterator[Cupola]:
    """Start the real bot against the sandbox; leave when it is connected and its commands synced.

    ``before_connect`` runs once the cogs are loaded and before the gateway connects: a test that
    drives a background loop by hand stops it there, before the loop's first round could run.
    """
    chosen = find_extensions() if extensions is None else extensions
    bot = Cupola(settings=settings, db=db, extensions=chosen, guild_ready_timeout=0.05)
    await bot.login(settings.discord.token)
    if before_connect is not None:
        before_connect(bot)
    task = asyncio.create_task(bot.connect(), name="cupola-connect")
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        await bot.knowledge.wait_ready(15)  # the shipped articles are indexed in the background
        if sync:
            await bot.tree.sync()
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)


# ------------------------------------------------------------------------------------------ CLI
def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPOLA_") and k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def cupola(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env or clean_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


# ------------------------------------------------------------------------------------------ images


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A greyscale PNG of zeros built by hand, so huge sizes cost no memory.

    ``rows`` limits how many rows of pixel data are written (fewer than ``height`` makes a
    file whose header promises far more than it holds — a decompression bomb shape).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(comp.compress(row) for _ in range(height if rows is None else rows)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_header_only(width: int, height: int, rows: int = 1) -> bytes:
    """A greyscale PNG that promises ``width`` × ``height`` but holds ``rows`` rows: a bomb's shape."""
    return png_bytes(width, height, rows=rows)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (96, 64), c) for c in [(200, 30, 30), (30, 200, 30), (30, 30, 200)]]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)


def cmyk_jpeg() -> bytes:
    return encode(make_image(160, 120, seed=5).convert("CMYK"), "JPEG", quality=90)


def png_16_bit() -> bytes:
    row = b"".join(struct.pack("<H", v * 256) for v in range(256))
    return encode(Image.frombytes("I;16", (256, 64), row * 64), "PNG")


def truncated_jpeg() -> bytes:
    data = make_jpeg(640, 480, seed=3)
    return data[: len(data) // 2]


def jpeg_12000() -> bytes:
    """A real 12000×12000 JPEG (a smooth gradient compresses to a few hundred kB)."""
    big = Image.linear_gradient("L").resize((12_000, 12_000))
    try:
        return encode(big, "JPEG", quality=70)
    finally:
        del big


def processed_photo(seed: int, size: tuple[int, int] = (320, 240)) -> ProcessedImage:
    return process_image(make_jpeg(*size, seed=seed))


# ------------------------------------------------------------------------------------------ server


@dataclass
class ImageServer:
    """A real HTTP server on 127.0.0.1 serving pictures by path; ``gates`` hold a path until set."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    requested: asyncio.Event = field(default_factory=asyncio.Event)
    base: str = ""
    _runner: web.AppRunner | None = None

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.files[path] = (data, content_type)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.requests.append(path)
        self.requested.set()
        gate = self.gates.get(path)
        if gate is not None:
            await gate.wait()
        if path not in self.files:
            return web.Response(status=404, text="no such picture")
        data, ctype = self.files[path]
        return web.Response(body=data, headers={"Content-Type": ctype})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        for gate in self.gates.values():
            gate.set()
        if self._runner is not None:
            await self._runner.cleanup()


@contextlib.asynccontextmanager
async def serving_images() -> AsyncIterator[ImageServer]:
    """Use as a fixture body: ``async with serving_images() as server: yield server``."""
    server = ImageServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# ------------------------------------------------------------------------------------------ rows


def insert_article(
    *, session: Any, title: str, source: str | None = None, guild_id: int | None = None
) -> int:
    article = Article(
        guild_id=guild_id, identity=title[:300], title=title, source=source, content_hash="0" * 64
    )
    session.add(article)
    session.flush()
    assert article.id is not None
    return article.id


def insert_photos(
    specs: list[dict[str, Any]], *, session: Any, guild_id: int | None = None, article_id: int | None = None
) -> list[int]:
    ids = []
    for spec in specs:
        photo = Photo(guild_id=guild_id, article_id=article_id, **spec)
        session.add(photo)
        session.flush()
        assert photo.id is not None
        ids.append(photo.id)
    return ids


def clear_catalog(*, session: Any) -> None:
    """Drop every photo, the shipped articles' included (their URLs are on the internet)."""
    session.execute(delete(Photo))


async def seed_url_photos(
    db: Database,
    server: ImageServer,
    count: int,
    *,
    guild_id: int | None = None,
    prefix: str = "p",
    replace: bool = True,
) -> list[int]:
    """``count`` photos served by ``server``, credited NASA / Thomas Pesquet, from one article.

    With ``replace`` they are the whole catalog (the shipped articles' photos are removed).
    """
    if replace:
        await db.run(clear_catalog)
    specs = []
    for i in range(count):
        url = server.add(f"{prefix}{i}.jpg", make_jpeg(320, 240, seed=100 + i))
        specs.append(
            {
                "url": url,
                "caption": f"Flyaround view number {i} of the station",
                "credit": "NASA",
                "photographer": "Thomas Pesquet",
            }
        )

    def run(*, session: Any) -> list[int]:
        article_id = insert_article(
            session=session, title="Astronauts took a fly-around", source="https://example.org/flyaround"
        )
        return insert_photos(specs, session=session, guild_id=guild_id, article_id=article_id)

    return await db.run(run)


# ------------------------------------------------------------------------------------------ clock


class Clock:
    """A controlled ``bot.clock``: set it or advance it; rounds are driven by it, never by sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 8, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def controlled(bot: Cupola, now: datetime) -> Clock:
    clock = Clock(now.astimezone(UTC))
    bot.clock = clock
    return clock


def potd_service(bot: Cupola) -> Any:
    """The running bot's photo-of-the-day service, with its 30 s loop stopped (tests tick by hand)."""
    cog = bot.get_cog("PhotoOfTheDay")
    assert cog is not None
    cog.scheduler.cancel()  # type: ignore[attr-defined]
    return cog.service  # type: ignore[attr-defined]


def footer(message: dict[str, Any]) -> str:
    return ((message.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")


def field_values(message: dict[str, Any]) -> dict[str, str]:
    embed = (message.get("embeds") or [{}])[0]
    return {f["name"]: f["value"] for f in embed.get("fields") or []}


def url_specs(n: int, prefix: str = "https://img.example/") -> list[dict[str, Any]]:
    return [
        {
            "url": f"{prefix}{i}.jpg",
            "caption": f"Station view {i}",
            "credit": "NASA",
            "photographer": "Thomas Pesquet",
        }
        for i in range(n)
    ]


async def set_schedule(
    db: Database, guild_id: int, channel_id: int, at: str, zone: str, now: datetime
) -> None:
    await db.run(
        schedule.set_schedule,
        guild_id,
        channel_id=channel_id,
        at=schedule.parse_time(at),
        timezone=zone,
        now=now,
        user_id=None,
    )


# ---------------------------------------------------------------------------------------- admin


def admin_of(sandbox: Sandbox, guild: Guild, name: str = "alice") -> User:
    """A member of ``guild`` with its Admins role (Manage Server)."""
    return sandbox.add_user(name, guild=guild, roles=[sandbox.role(guild, "Admins")])


async def final_message(sandbox: Sandbox, record: InteractionRecord) -> dict:
    """The reply once any "Fetching…/Reading…" progress text has been replaced."""
    await sandbox.wait_until(lambda: record.messages and not record.messages[-1]["content"].endswith("…"))
    return record.messages[-1]


# ---------------------------------------------------------------------------------------- feeds
Serve = Callable[[web.Application], Awaitable[TestServer]]


@dataclass
class World:
    """Two servers, each with an albums channel, made before the bot connects (so it caches them)."""

    guild: Guild
    other: Guild
    albums: Channel
    other_albums: Channel
    member: User
    fans: Role


def poller(bot: Cupola) -> FeedPoller:
    return bot.get_cog("Feeds").poller  # type: ignore[union-attr]


def albums_in(sandbox: Sandbox, channel: Any) -> list[dict[str, Any]]:
    return [m for m in sandbox.channel_messages(channel) if m.get("embeds")]


# ------------------------------------------------------------------------------------ knowledge
SEED_DIR = Path(str(resources.files("bot") / "content" / "seeds"))


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.txt"))
