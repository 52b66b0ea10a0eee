"""Local servers and a network guard for the feed tests: nothing here may leave 127.0.0.1."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import aiohappyeyeballs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core import Cupola
from bot.net import SafeHttp
from bot.sandbox import Sandbox
from tests.feeds.feedserver import FeedServer
from tests.support.helpers import Clock, Serve, World


@pytest.fixture(autouse=True)
def connect_log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address aiohttp is about to open a socket to, recorded before the attempt.

    A non-loopback address fails the test on the spot, before any socket exists, so no test can
    reach the outside world even if the code under test is wrong.
    """
    attempts: list[str] = []
    real = aiohappyeyeballs.start_connection

    async def recording(addr_infos: Any, *args: Any, **kwargs: Any) -> Any:
        for info in addr_infos:
            host = str(info[4][0])
            attempts.append(host)
            if not ipaddress.ip_address(host).is_loopback:
                pytest.fail(f"a test tried to connect to {host}")
        return await real(addr_infos, *args, **kwargs)

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", recording)
    return attempts


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start aiohttp apps on 127.0.0.1, port 0; all are closed at the end of the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(shutdown_timeout=0.5)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[SafeHttp]:
    """A client that may reach the local test servers, with short timeouts."""
    async with SafeHttp(allow_private_addresses=True, connect_timeout=1, total_timeout=2) as client:
        yield client


@pytest.fixture
async def guarded() -> AsyncIterator[SafeHttp]:
    """A client with the address guard on, as in production."""
    async with SafeHttp(connect_timeout=1, total_timeout=2) as client:
        yield client


# --------------------------------------------------------------------------------------------- the bot


@pytest.fixture
async def feeds(serve: Serve) -> FeedServer:
    """A feed publisher on 127.0.0.1 (see feedserver.py)."""
    server = FeedServer()
    server.server = await serve(server.app())
    return server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(sandbox: Sandbox) -> World:
    guild = next(iter(sandbox.guilds.values()))
    other = sandbox.add_guild("Second Server")
    return World(
        guild=guild,
        other=other,
        albums=sandbox.add_channel(guild, "albums"),
        other_albums=sandbox.add_channel(other, "photos"),
        member=sandbox.add_user("mallory", guild=guild),
        fans=sandbox.add_role(guild, "Astronomy fans", 0),
    )


@pytest.fixture
async def feed_bot(world: World, bot: Cupola, clock: Clock) -> Cupola:
    """The real bot with its polling loop stopped, a controlled clock and short fetch timeouts."""
    cog = bot.get_cog("Feeds")
    assert cog is not None
    cog.poll_loop.cancel()  # type: ignore[attr-defined]
    bot.clock = clock
    bot.net.total_timeout = 1.0
    bot.net.connect_timeout = 1.0
    return bot
