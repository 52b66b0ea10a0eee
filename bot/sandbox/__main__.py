"""Run the sandbox on its own: ``python -m bot.sandbox`` or ``cupola sandbox``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.sandbox.server import Sandbox


async def serve(*, port: int = 8765, token: str = "sandbox-token", guilds: int = 1, shards: int = 1) -> int:
    sandbox = Sandbox(token=token, port=port, shard_count=shards)
    for index in range(guilds):
        guild = sandbox.add_guild(f"Sandbox Server {index + 1}", shard_id=index % shards)
        sandbox.add_user("member", guild=guild)
    await sandbox.start()
    print(f"Discord-compatible sandbox on {sandbox.url}")
    print(f"  api_base    = {sandbox.api_base}")
    print(f"  token       = {token}")
    print(f"  control API = {sandbox.url}/_sandbox/state (POST /_sandbox/interactions to run a command)")
    for guild in sandbox.guilds.values():
        channel = sandbox.default_channel(guild)
        print(f"  guild {guild.id} '{guild.name}', channel #{channel.name} {channel.id}")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sandbox.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--guilds", type=int, default=1)
    parser.add_argument("--shards", type=int, default=1)
    args = parser.parse_args()
    return asyncio.run(serve(port=args.port, token=args.token, guilds=args.guilds, shards=args.shards))


if __name__ == "__main__":
    sys.exit(main())
