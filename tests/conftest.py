"""Shared fixtures: a real sandbox server, a real database (SQLite, and PostgreSQL when reachable),
and the real Cupola bot connected to the sandbox over HTTP and websocket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import netguard
from bot.core import Cupola
from bot.db import Database
from bot.sandbox import Sandbox
from tests.support.helpers import PG_SKIP, PG_URL, ImageServer, make_settings, running_bot, serving_images


def pytest_configure(config: pytest.Config) -> None:
    """No test may reach anything but loopback: name lookups and connects elsewhere fail at once."""
    netguard.install()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a temp SQLite file, or a throwaway schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cupola.db'}"
        return
    if PG_SKIP:
        pytest.skip(PG_SKIP)
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
