"""Shared fixtures: a real sandbox server, a real database (SQLite, and PostgreSQL when reachable),
and the real Cupola bot connected to the sandbox over HTTP and websocket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings, load_settings
from bot.core import Cupola
from bot.db import Database
from bot.extensions import find_extensions
from bot.sandbox import Sandbox, netguard
from tests.test_photos_support import ImageServer, serving_images


def pytest_configure(config: pytest.Config) -> None:
    """No test may reach anything but loopback: name lookups and connects elsewhere fail at once."""
    netguard.install()


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


_PG_SKIP = _postgres_reason()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a temp SQLite file, or a throwaway schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cupola.db'}"
        return
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await database.open(migrate=True)
    yield database
    database.close()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox()
    sb.add_guild("Cupola Test")
    await sb.start()
    yield sb
    await sb.stop()


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
    extensions: Sequence[str] | None = None,
) -> AsyncIterator[Cupola]:
    """Start the real bot against the sandbox; leave when it is connected and its commands synced."""
    chosen = find_extensions() if extensions is None else extensions
    bot = Cupola(settings=settings, db=db, extensions=chosen, guild_ready_timeout=0.05)
    await bot.login(settings.discord.token)
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


@pytest.fixture
async def bot(sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path) -> AsyncIterator[Cupola]:
    settings = make_settings(sandbox, tmp_path, db_url)
    async with running_bot(settings, db, sandbox) as running:
        yield running


@pytest.fixture
async def image_server() -> AsyncIterator[ImageServer]:
    """Real images made with Pillow, served over HTTP on 127.0.0.1."""
    async with serving_images() as server:
        yield server
