"""Database faults with real files and a real server: read-only file, a lock held elsewhere, killed
connections, PostgreSQL unreachable. The bot answers in time, recovers by itself, loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bot.core import Cupola
from bot.db import Database, DatabaseUnavailable
from bot.faults import Backoff
from bot.models import Fact
from bot.sandbox import Sandbox
from bot.sandbox.model import Guild, User
from tests.feeds.feedserver import Album, FeedServer, media_rss
from tests.support.helpers import PG_SKIP, PG_URL, Clock, make_settings, running_bot

BUSY = "The database is busy right now; please try again in a minute."


def admin_of(sandbox: Sandbox, guild: Guild) -> User:
    return sandbox.add_user("alice", guild=guild, roles=[sandbox.role(guild, "Admins")])


def fact_texts(*, session: Session) -> list[str]:
    return sorted(f.text for f in session.exec(select(Fact).where(Fact.guild_id.is_not(None))).all())  # type: ignore[union-attr]


async def add_fact(sandbox: Sandbox, user: User, text_: str) -> str:
    record = await sandbox.invoke("admin fact add", {"text": text_}, user=user)
    assert record.reply is not None, "the command went unanswered"
    return record.reply["content"]


# --------------------------------------------------------------------------------------------- SQLite


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the database file read-only for real: chmod, or the immutable flag when we are root
    (root ignores permissions)."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a file read-only")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i failed: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(0o444)
    try:
        yield
    finally:
        path.chmod(mode)


@pytest.fixture
async def sqlite_bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[Cupola, Path]]:
    path = tmp_path / "cupola.db"
    url = f"sqlite:///{path}"
    db = Database(url)
    async with running_bot(make_settings(sandbox, tmp_path, url), db, sandbox) as bot:
        yield bot, path


async def test_read_only_sqlite_file_then_writable_again_recovers_by_itself(
    sqlite_bot: tuple[Cupola, Path], sandbox: Sandbox
) -> None:
    bot, path = sqlite_bot
    alice = admin_of(sandbox, next(iter(sandbox.guilds.values())))
    assert (await add_fact(sandbox, alice, "Fact before the fault.")).startswith("Added fact #")

    # Background loops would hold connections opened before the fault (those stay writable).
    for cog, loop in (("Feeds", "poll_loop"), ("PhotoOfTheDay", "scheduler"), ("Knowledge", "refresh")):
        getattr(bot.get_cog(cog), loop).cancel()
    await asyncio.sleep(0.2)
    with read_only(path):
        # Connections opened now are read-only for good (SQLite falls back silently): make the
        # pool open new ones, as recycling or a burst of concurrent commands does.
        bot.db.engine.pool.dispose()
        texts = [f"Fact {i} during the fault." for i in range(4)]
        during = await asyncio.gather(*(add_fact(sandbox, alice, t) for t in texts))
        assert BUSY in during and all(r == BUSY or r.startswith("Added fact #") for r in during), during
        kept = [t for t, r in zip(texts, during, strict=True) if r != BUSY]
        about = await sandbox.invoke("about")
        assert about.reply["embeds"][0]["title"] == "About Cupola"

    # Writable again: every write succeeds at once, none is lost, none is doubled.
    after = [await add_fact(sandbox, alice, f"Fact {i} after the fault.") for i in range(10)]
    assert all(reply.startswith("Added fact #") for reply in after), after
    assert await bot.db.run(fact_texts) == sorted(
        ["Fact before the fault.", *kept, *(f"Fact {i} after the fault." for i in range(10))]
    )


async def test_a_write_lock_held_by_another_process_gets_a_busy_answer_in_time(
    sqlite_bot: tuple[Cupola, Path], sandbox: Sandbox
) -> None:
    """The 5 s busy timeout outlasted Discord's 3 s deadline: the admin got no reply at all."""
    bot, path = sqlite_bot
    alice = admin_of(sandbox, next(iter(sandbox.guilds.values())))
    other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as another cupola process could
    try:
        record = await sandbox.invoke(
            "admin fact add", {"text": "The arm was blocked by a lock."}, user=alice
        )
        assert record.reply is not None and record.reply["content"] == BUSY
        assert record.reply["flags"] & 64
        zh = await sandbox.invoke(
            "admin fact add", {"text": "The hatch was blocked by a lock."}, user=alice, locale="zh-CN"
        )
        assert zh.reply["content"] == "数据库现在很忙，请一分钟后再试。"
        # Reads do not wait for writers (WAL): /about and /iss ask answer as usual.
        assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"
        assert (await sandbox.invoke("iss ask", {"question": "How fast does the ISS go?"})).reply["embeds"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await add_fact(sandbox, alice, "After the lock.")).startswith("Added fact #")
    assert await bot.db.run(fact_texts) == ["After the lock."]


def test_database_run_maps_a_lock_to_database_unavailable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'l.db'}")
    db.open_sync(migrate=True)
    other = sqlite3.connect(tmp_path / "l.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            db.run_sync(lambda *, session: session.execute(text("CREATE TABLE x (a)")))
        assert "locked" in str(info.value)
        assert info.value.key == "error.db_busy"
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.close()


# --------------------------------------------------------------------------------------------- PostgreSQL


class TcpProxy:
    """A TCP relay to PostgreSQL on 127.0.0.1: ``stop`` is the server going away (every connection
    cut, new ones refused), ``start`` it coming back on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})


@pytest.fixture
def pg_schema() -> Iterator[str]:
    if PG_SKIP:
        pytest.skip(PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
async def test_postgres_connections_killed_with_pg_terminate_backend(
    sandbox: Sandbox, tmp_path: Path, pg_schema: str
) -> None:
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}&application_name={pg_schema}"
    db = Database(url)
    await db.open(migrate=True)
    async with running_bot(make_settings(sandbox, tmp_path, url), db, sandbox) as bot:
        alice = admin_of(sandbox, next(iter(sandbox.guilds.values())))
        await asyncio.gather(
            *(add_fact(sandbox, alice, f"The station carries {i} spare pumps.") for i in range(3))
        )  # several pooled
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :a"
                ),
                {"a": pg_schema},
            ).scalar()
        admin.dispose()
        assert killed and killed >= 1
        replies = [await add_fact(sandbox, alice, f"The station stores {i} spare fans.") for i in range(5)]
        assert all(r.startswith("Added fact #") for r in replies), replies
        assert len(await bot.db.run(fact_texts)) == 8
        assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"


@pytest.mark.postgres
async def test_postgres_going_away_and_coming_back(
    sandbox: Sandbox, tmp_path: Path, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy(5432)
    await proxy.start()
    url = (
        PG_URL.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}") + f"?options=-csearch_path%3D{pg_schema}"
    )
    db = Database(url)
    await db.open(migrate=True)
    try:
        async with running_bot(make_settings(sandbox, tmp_path, url), db, sandbox) as bot:
            guild = next(iter(sandbox.guilds.values()))
            alice = admin_of(sandbox, guild)
            assert (await add_fact(sandbox, alice, "The cupola has seven windows.")).startswith("Added")
            bot.content_counts._ttl = 0  # every /about goes to the database
            before = (await sandbox.invoke("about")).reply["embeds"][0]
            iss: object = bot.get_cog("Knowledge")
            backoff: Backoff = iss.refresh_backoff  # type: ignore[attr-defined]
            backoff.base = 0  # retry on every tick, to count the log lines

            await proxy.stop()
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="cogs.iss"):
                # Members still get /about (last known counts) and answers from memory.
                about = (await sandbox.invoke("about")).reply["embeds"][0]
                assert about["fields"] == before["fields"]
                answer = await sandbox.invoke(
                    "iss ask", {"question": "How many windows does the cupola have?"}, guild=guild
                )
                assert "seven windows" in answer.reply["embeds"][0]["description"]
                # Writes and database reads say so, in time, instead of "Something went wrong".
                assert await add_fact(sandbox, alice, "While away.") == BUSY
                listing = await sandbox.invoke("feed list")
                assert listing.reply["content"] == BUSY
                for _ in range(6):
                    await iss.refresh.coro()  # type: ignore[attr-defined]
                assert backoff.failures == 6
                await proxy.start()
                await iss.refresh.coro()  # type: ignore[attr-defined]
            messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
            assert len([m for m in messages if "knowledge refresh failed" in m]) == 1, messages
            assert [m for m in messages if "recovered" in m] == [
                "knowledge refresh recovered after 6 failed attempts"
            ]

            assert (await add_fact(sandbox, alice, "Back again.")).startswith("Added fact #")
            assert await bot.db.run(fact_texts) == ["Back again.", "The cupola has seven windows."]
    finally:
        with contextlib.suppress(Exception):
            await proxy.stop()


# --------------------------------------------------------------------------------------------- posted, then recorded


async def test_an_album_posted_while_the_database_locks_is_recorded_and_never_posted_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The worst moment: the album reached Discord and the database locks before it is marked sent.

    It used to stay pending, and a later round posted it again once the database was back.
    """
    path = tmp_path / "cupola.db"
    url = f"sqlite:///{path}"
    channel = sandbox.add_channel(next(iter(sandbox.guilds.values())), "albums")
    feeds = FeedServer()
    feeds.server = TestServer(feeds.app(), host="127.0.0.1")
    await feeds.server.start_server()
    clock = Clock()
    locker: list[sqlite3.Connection] = []

    def lock_the_database(message: dict) -> None:
        if message.get("embeds") and not locker:
            other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
            other.execute("BEGIN IMMEDIATE")
            locker.append(other)

    try:
        async with running_bot(make_settings(sandbox, tmp_path, url), Database(url), sandbox) as bot:
            cog: object = bot.get_cog("Feeds")
            cog.poll_loop.cancel()  # type: ignore[attr-defined]
            bot.clock = clock
            feeds.feed("/a.xml", media_rss([Album(1)]))
            record = await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": channel})
            assert record.reply["content"].startswith("Now watching")
            feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
            clock.advance(7200)
            sandbox.on_channel_message.append(lock_the_database)
            poller = cog.poller  # type: ignore[attr-defined]
            round_ = asyncio.create_task(poller.run_once())
            await sandbox.wait_until(lambda: bool(locker), timeout=20)
            await asyncio.sleep(3)  # the lock outlasts the busy timeout: the first write fails
            locker[0].execute("ROLLBACK")
            locker[0].close()
            report = await asyncio.wait_for(round_, 60)
            assert report.posted == 1
            for _ in range(3):  # later rounds, past the delivery lease: nothing is posted again
                clock.advance(7200)
                await poller.run_once()
            titles = [m["embeds"][0]["title"] for m in sandbox.channel_messages(channel) if m.get("embeds")]
            assert titles == ["Album 2"]
    finally:
        await feeds.server.close()


@pytest.mark.postgres
async def test_a_postgres_row_lock_held_elsewhere_gets_a_busy_answer_in_time(
    sandbox: Sandbox, tmp_path: Path, pg_schema: str
) -> None:
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    db = Database(url)
    await db.open(migrate=True)
    async with running_bot(make_settings(sandbox, tmp_path, url), db, sandbox) as bot:
        alice = admin_of(sandbox, next(iter(sandbox.guilds.values())))
        added = await add_fact(sandbox, alice, "The cupola has seven windows.")
        fact_id = added.split("#")[1].split(":")[0].split()[0].strip("*.")
        other = create_engine(url)
        with other.connect() as conn:
            conn.execute(text("SELECT id FROM fact WHERE id = :i FOR UPDATE"), {"i": int(fact_id)})
            record = await sandbox.invoke("admin fact remove", {"id": fact_id}, user=alice)
            assert record.reply is not None and record.reply["content"] == BUSY
            conn.rollback()
        other.dispose()
        record = await sandbox.invoke("admin fact remove", {"id": fact_id}, user=alice)
        assert "Removed" in record.reply["content"]
        assert await bot.db.run(fact_texts) == []
