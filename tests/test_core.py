"""The bot core: cog discovery, the one error handler, admin checks, localizations."""

from __future__ import annotations

import logging
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.core import Cupola
from bot.db import Database
from bot.errors import UserFacingError
from bot.extensions import find_extensions
from bot.i18n import COMMAND_ZH
from bot.permissions import admin_only
from bot.sandbox import Sandbox
from tests.support.helpers import make_settings, running_bot


def add_test_commands(tree: app_commands.CommandTree) -> None:
    @tree.command(name="refuse", description="refuse politely")
    async def refuse(interaction: discord.Interaction) -> None:
        raise UserFacingError("That photo id does not exist. Try /photo credits for the list.")

    @tree.command(name="crash", description="fail")
    async def crash(interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    @tree.command(name="late_refuse", description="defer then refuse")
    async def late_refuse(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        raise UserFacingError("The feed answered 404 Not Found.")

    @tree.command(name="admin_thing", description="admins only")
    @admin_only()
    async def admin_thing(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("done, admin")


@pytest.fixture
async def test_bot(bot: Cupola) -> Cupola:
    add_test_commands(bot.tree)
    await bot.tree.sync()
    return bot


async def test_user_facing_error_is_ephemeral(test_bot: Cupola, sandbox: Sandbox) -> None:
    record = await sandbox.invoke("refuse")
    assert record.reply["content"] == "That photo id does not exist. Try /photo credits for the list."
    assert record.reply["flags"] & 64


async def test_internal_error_is_logged_and_explained(
    test_bot: Cupola, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.core"):
        record = await sandbox.invoke("crash")
    assert record.reply["content"].startswith("Something went wrong on our side")
    assert record.reply["flags"] & 64
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    # The bot keeps serving.
    assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"


async def test_error_after_defer_uses_followup(test_bot: Cupola, sandbox: Sandbox) -> None:
    record = await sandbox.invoke("late_refuse")
    await sandbox.wait_until(lambda: record.messages and record.messages[0]["content"])
    assert record.response_type == 5
    assert record.messages[0]["content"] == "The feed answered 404 Not Found."


async def test_admin_command_refuses_crafted_interaction_from_member(
    test_bot: Cupola, sandbox: Sandbox
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    schema = next(c for c in sandbox.commands[None] if c["name"] == "admin_thing")
    assert schema["default_member_permissions"] == str(1 << 5)  # Manage Server
    member = sandbox.add_user("mallory", guild=guild)
    refused = await sandbox.invoke("admin_thing", user=member)
    assert refused.reply["content"] == "Only server admins (Manage Server permission) can use this command."
    assert refused.reply["flags"] & 64
    admin = sandbox.add_user("alice", guild=guild, roles=[sandbox.role(guild, "Admins")])
    assert (await sandbox.invoke("admin_thing", user=admin)).reply["content"] == "done, admin"
    chinese = await sandbox.invoke("admin_thing", user=member, locale="zh-CN")
    assert chinese.reply["content"].startswith("只有服务器管理员")


async def test_failing_cog_is_logged_and_others_load(
    sandbox: Sandbox,
    db: Database,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(sandbox, tmp_path, db_url)
    extensions = ["tests.broken_cog", *find_extensions()]
    with caplog.at_level(logging.ERROR, logger="bot.core"):
        async with running_bot(settings, db, sandbox, extensions=extensions) as running:
            assert "tests.broken_cog" in running.failed_cogs
            record = await sandbox.invoke("about")
            assert record.reply["embeds"][0]["title"] == "About Cupola"
    assert any("tests.broken_cog" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_every_cog_loads_and_command_names_are_unique(tmp_path: Path) -> None:
    """Walks every module in cogs/: each loads, no two commands share a name, all are localized."""
    settings = make_settings(Sandbox(), tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    async with Cupola(settings=settings, db=Database(settings.database_url), extensions=()) as bot:
        seen: dict[str, str] = {}
        for module in find_extensions():
            before = set(bot.cogs)
            await bot.load_extension(module)
            for cog_name in set(bot.cogs) - before:
                for command in bot.cogs[cog_name].walk_app_commands():
                    assert command.qualified_name not in seen, f"/{command.qualified_name}: {module}, {seen}"
                    seen[command.qualified_name] = module
        top_level = bot.tree.get_commands()
        assert len(top_level) == len({c.name for c in top_level}) <= 100
        missing = []
        for command in bot.tree.walk_commands():
            texts = [command.name, command.description]
            if isinstance(command, app_commands.Command):
                for param in command.parameters:
                    texts += [param.name, param.description]
            missing += [t for t in texts if t not in COMMAND_ZH and t != "…"]
        assert not missing, f"no zh-CN text for {missing}"
        assert "about" in seen


async def test_the_cached_servers_are_kept_out_of_the_cyclic_gc_once_ready(
    bot: Cupola, sandbox: Sandbox
) -> None:
    """Full collections would walk every server's objects again and again during a fan-out."""
    import gc

    guild = bot.guilds[0]
    assert gc.is_tracked(guild)
    gc.unfreeze()  # whatever froze before (the articles' index too) goes back to the GC's generations
    assert any(o is guild for o in gc.get_objects())
    bot._frozen_at_ready = False  # as at the first READY
    await bot.on_ready()
    assert not any(o is guild for o in gc.get_objects())  # frozen: in no generation the GC walks


async def test_a_heartbeat_is_timed_from_its_own_send_not_the_one_before(
    bot: Cupola, sandbox: Sandbox
) -> None:
    """The heartbeat thread notes the send only once it has the GIL back; an ACK read before that was
    timed from the previous heartbeat (the whole 41.25 s interval: "Can't keep up … 41.3s behind")."""
    import asyncio
    import time

    shard = bot.get_shard(0)
    assert shard is not None
    ws = shard._parent.ws
    keep_alive = ws._keep_alive
    assert keep_alive is not None
    keep_alive._last_send = previous = time.perf_counter() - 41.25  # as if the last beat was that long ago
    acked = keep_alive._last_ack
    before = time.perf_counter()
    await ws.send_heartbeat(keep_alive.get_payload())  # what the thread runs on the loop
    assert keep_alive._last_send >= before > previous
    for _ in range(200):
        if keep_alive._last_ack != acked:
            break
        await asyncio.sleep(0.01)
    assert keep_alive._last_ack != acked, "the sandbox did not acknowledge the heartbeat"
    assert keep_alive.latency == keep_alive._last_ack - keep_alive._last_send
    assert keep_alive.latency <= keep_alive._last_ack - before
