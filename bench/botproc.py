"""One bot under benchmark, in its own process so its CPU is not shared with the sandbox's event loop.

``python -m bench.botproc --kind bare|cupola --api-base URL --token T --data-dir DIR`` connects, syncs
its commands, prints READY on stdout, and closes the bot cleanly on SIGTERM (or SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Protocol

import discord
from discord import app_commands

from bench import netguard

log = logging.getLogger("bench.botproc")
READY_LINE = "READY"
GUILD_READY_TIMEOUT = 0.05


class BenchBot(Protocol):
    tree: app_commands.CommandTree

    async def login(self, token: str) -> None: ...
    async def connect(self, *, reconnect: bool = True) -> None: ...
    async def wait_until_ready(self) -> None: ...
    async def close(self) -> None: ...


class BareBot(discord.AutoShardedClient):
    """The floor: a plain discord.py client with one ``/ping`` command and nothing else."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=GUILD_READY_TIMEOUT)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ping", description="Reply pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")


def make_bare(api_base: str) -> BareBot:
    discord.http.Route.BASE = api_base
    return BareBot()


def make_cupola(api_base: str, token: str, data_dir: Path) -> BenchBot:
    from bot.config import load_settings
    from bot.core import Cupola
    from bot.db import Database
    from bot.extensions import find_extensions

    data_dir.mkdir(parents=True, exist_ok=True)
    # An explicit, empty config file: a stray ./config.toml must not change what is measured.
    config = data_dir / "config.toml"
    config.write_text("", encoding="utf-8")
    db_url = f"sqlite:///{data_dir / 'cupola.db'}"
    env = {
        "CUPOLA_DISCORD_TOKEN": token,
        "CUPOLA_DISCORD_API_BASE": api_base,
        "CUPOLA_DATABASE_URL": db_url,
        "CUPOLA_PATHS_DATA_DIR": str(data_dir / "data"),
    }
    settings = load_settings(config, env=env)
    return Cupola(
        settings=settings,
        db=Database(settings.database_url),
        extensions=find_extensions(),
        guild_ready_timeout=GUILD_READY_TIMEOUT,
    )


async def run(kind: str, api_base: str, token: str, data_dir: Path, ready_timeout: float) -> int:
    client: BenchBot = make_bare(api_base) if kind == "bare" else make_cupola(api_base, token, data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    await client.login(token)
    connect = asyncio.create_task(client.connect(), name=f"bench-{kind}-connect")
    stopper = asyncio.create_task(stop.wait(), name="bench-stop")
    try:
        ready = asyncio.create_task(asyncio.wait_for(client.wait_until_ready(), ready_timeout))
        await asyncio.wait({ready, connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            log.error("the %s bot stopped before it was ready", kind)
            return 1
        ready.result()
        knowledge = getattr(client, "knowledge", None)
        if knowledge is not None:
            await knowledge.wait_ready(ready_timeout)
        await client.tree.sync()
        print(READY_LINE, flush=True)
        await asyncio.wait({connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if connect.done() and not stopper.done():
            log.error("the %s bot's gateway connection ended on its own", kind)
            return 1
        return 0
    finally:
        stopper.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(connect, 5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc", description=__doc__)
    parser.add_argument("--kind", choices=["bare", "cupola"], required=True)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the whole run here")
    args = parser.parse_args(argv)
    netguard.install()
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    coro = run(args.kind, args.api_base, args.token, args.data_dir, args.ready_timeout)
    if args.profile is None:
        return asyncio.run(coro)
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(asyncio.run, coro)
    finally:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    sys.exit(main())
