"""Gateway faults: every reconnect goes to the configured gateway; SIGTERM always stops the process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import pytest
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.core import Cupola
from bot.sandbox import Sandbox
from tests.support.helpers import clean_env


async def test_invalid_session_re_identifies_to_the_configured_gateway(bot: Cupola, sandbox: Sandbox) -> None:
    """shard_count unset, no gateway_url, api_base not Discord: the case that went to discord.gg."""
    assert bot.settings.discord.shard_count is None and bot.settings.discord.gateway_url is None
    assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"
    assert sandbox.identify_count == 1
    assert str(DiscordWebSocket.DEFAULT_GATEWAY).startswith(sandbox.gateway_url.rstrip("/"))

    await sandbox.invalidate_session(0)  # op 9, not resumable: discord.py must IDENTIFY anew
    await sandbox.wait_until(lambda: sandbox.identify_count == 2, timeout=30)  # after its 5 s pause
    await sandbox.wait_for_connections(1, timeout=10)
    record = await sandbox.invoke("about", timeout=15)
    assert record.reply["embeds"][0]["title"] == "About Cupola"
    assert sandbox.resume_count == 0


async def test_sigterm_during_reconnect_back_off_stops_the_process(tmp_path: Path) -> None:
    """The gateway goes away; discord.py keeps reconnecting with back-off; SIGTERM must still stop
    `cupola run` promptly and cleanly (it used to take about 6 minutes)."""
    sandbox = Sandbox(token="operator-token")
    sandbox.add_guild("Operators")
    await sandbox.start()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[discord]\ntoken = "operator-token"\napi_base = "{sandbox.api_base}"\n'
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(cfg),
        cwd=tmp_path,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await sandbox.wait_for_connections(1, timeout=60)
    finally:
        await sandbox.stop()  # REST and gateway gone: the bot is now reconnecting with back-off
    await asyncio.sleep(3)  # let it fail a few reconnects (this is the state, not a measurement)
    assert proc.returncode is None
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("cupola run did not stop after SIGTERM") from None
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "stopping (SIGTERM)" in err.decode()


class StuckCog(commands.Cog):
    """Stands for a loop caught in discord.py's REST retries while the API is unreachable."""

    async def cog_unload(self) -> None:
        await asyncio.Event().wait()


async def test_close_is_bounded_when_a_cog_will_not_unload(
    bot: Cupola, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.add_cog(StuckCog())
    with caplog.at_level(logging.WARNING, logger="bot.core"):
        await asyncio.wait_for(bot.close(), 30)  # without the bound: never
    assert bot.is_closed() and not bot.db.is_open
    assert "cogs did not unload within" in caplog.text
