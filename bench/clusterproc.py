"""One Cupola process of a multi-process deployment, for bench/cluster_bench.py and tests/test_cluster.py.

``python -m bench.clusterproc`` reads every setting from ``CUPOLA_*`` environment variables (shard
count and ids, database, REST base, data directory), prints READY once connected, and stops cleanly
on SIGTERM. The harness kills it with SIGKILL at random moments; nothing here softens that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from bench import netguard

READY_LINE = "READY"


async def run() -> int:
    from bot.config import load_settings
    from bot.core import Cupola
    from bot.db import Database
    from bot.extensions import find_extensions

    with tempfile.TemporaryDirectory(prefix="cupola-clusterproc-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text("", encoding="utf-8")  # every setting comes from the environment
        settings = load_settings(config, env=dict(os.environ))
    bot = Cupola(
        settings=settings,
        db=Database(settings.database_url),
        extensions=find_extensions(),
        guild_ready_timeout=0.05,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await bot.login(settings.discord.token)
    connect = asyncio.create_task(bot.connect(), name="clusterproc-connect")
    stopper = asyncio.create_task(stop.wait(), name="clusterproc-stop")
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({ready, connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            await bot.knowledge.wait_ready(120)  # the articles load in the background
            print(READY_LINE, flush=True)
            await asyncio.wait({connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        return 0 if stopper.done() else 1
    finally:
        stopper.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(connect, 5)


def main() -> int:
    netguard.install()
    logging.basicConfig(
        level=os.environ.get("CUPOLA_BENCH_LOG", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    profile = os.environ.get("CLUSTERPROC_PROFILE")
    if not profile:
        return asyncio.run(run())
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(asyncio.run, run())
    finally:
        profiler.dump_stats(profile)


if __name__ == "__main__":
    sys.exit(main())
