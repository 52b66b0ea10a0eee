"""The sandbox itself, exercised by an unmodified discord.py client with a small test command tree."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import zstandard
from discord import app_commands

from bot.sandbox import Limit, RateLimitConfig, Sandbox, Upload

FRUITS = [f"fruit-{i:02d}" for i in range(40)]


class Probe:
    """What the test commands saw, for assertions."""

    def __init__(self) -> None:
        self.shards: list[int | None] = []
        self.resolved: dict[str, Any] = {}
        self.errors: list[BaseException] = []


class Counter(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Add one", custom_id="counter:add")
    async def add(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        value = int((interaction.message.content or "0").split()[-1]) + 1 if interaction.message else 1
        await interaction.response.edit_message(content=f"count {value}")


def build_tree(client: discord.Client, probe: Probe) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)

    @tree.error
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        probe.errors.append(getattr(error, "original", error))

    @tree.command(description="Answer pong")
    async def ping(interaction: discord.Interaction) -> None:
        probe.shards.append(interaction.guild.shard_id if interaction.guild else None)
        await interaction.response.send_message("pong")

    @tree.command(description="Think, then answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("done thinking", ephemeral=True)

    @tree.command(description="Answer, then edit the answer")
    async def edit(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        await interaction.edit_original_response(content="second")

    @tree.command(description="Too long a message")
    async def big(interaction: discord.Interaction, kind: str) -> None:
        if kind == "content":
            await interaction.response.send_message("x" * 2001)
        else:
            await interaction.response.send_message(embed=discord.Embed(description="y" * 4097))

    @tree.command(description="Pick a fruit")
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(f"you picked {fruit}")

    @pick.autocomplete("fruit")
    async def pick_fruit(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if current in f][:25]

    @tree.command(description="Send a counter with a button")
    async def counter(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("count 0", view=Counter())

    @tree.command(description="Describe the options")
    async def inspect(
        interaction: discord.Interaction,
        user: discord.Member,
        channel: discord.TextChannel,
        role: discord.Role,
        file: discord.Attachment,
    ) -> None:
        probe.resolved = {
            "user": user.name,
            "user_type": type(user).__name__,
            "channel": channel.name,
            "role": role.name,
            "file": await file.read(),
        }
        await interaction.response.send_message("ok", file=discord.File(__file__, filename="echo.py"))

    @tree.command(description="Post in a channel")
    async def post(interaction: discord.Interaction, count: int) -> None:
        await interaction.response.defer()
        assert isinstance(interaction.channel, discord.abc.Messageable)
        for i in range(count):
            await interaction.channel.send(f"message {i}")
        await interaction.followup.send("posted")

    return tree


class SandboxClient(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # the sandbox has no identify rate limit; skip discord.py's 5 s pause


@contextlib.asynccontextmanager
async def connected(sb: Sandbox, token: str | None = None) -> AsyncIterator[tuple[discord.Client, Probe]]:
    discord.http.Route.BASE = sb.api_base
    client = SandboxClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    probe = Probe()
    tree = build_tree(client, probe)
    await client.login(token or sb.token)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 15)
        await tree.sync()
        yield client, probe
    finally:
        await client.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    sandbox = Sandbox()
    guild = sandbox.add_guild("Sandbox Test")
    sandbox.add_user("member", guild=guild)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


async def test_login_sync_and_round_trip(sb: Sandbox) -> None:
    async with connected(sb):
        routes = [c.route for c in sb.calls]
        assert "GET /users/@me" in routes
        assert "GET /oauth2/applications/@me" in routes
        assert "PUT /applications/{app_id}/commands" in routes
        assert sb.identify_count == 1
        names = {c["name"] for c in sb.commands[None]}
        assert {"ping", "slow", "pick", "counter", "inspect"} <= names
        record = await sb.invoke("ping")
        assert record.reply["content"] == "pong"
        assert (
            sb.channel_messages(sb.default_channel(next(iter(sb.guilds.values()))))[-1]["content"] == "pong"
        )


async def test_wrong_token_is_refused(sb: Sandbox) -> None:
    discord.http.Route.BASE = sb.api_base
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_defer_followup_and_edit(sb: Sandbox) -> None:
    async with connected(sb):
        slow = await sb.invoke("slow")
        assert slow.response_type == 5
        assert slow.reply["content"] == "done thinking"
        assert slow.reply["flags"] & 64  # ephemeral, and never in the channel history
        channel = sb.default_channel(next(iter(sb.guilds.values())))
        assert all(m["content"] != "done thinking" for m in sb.channel_messages(channel))
        edit = await sb.invoke("edit")
        await sb.wait_until(lambda: edit.edits == 1)
        assert edit.reply["content"] == "second"
        assert edit.reply["edited_timestamp"] is not None


async def test_double_acknowledge_is_refused(sb: Sandbox) -> None:
    async with connected(sb):
        record = await sb.invoke("ping")
        url = f"{sb.api_base}/interactions/{record.id}/{record.token}/callback"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp,
        ):
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060
        assert record.errors == ["double-acknowledge"]
        assert [m["content"] for m in record.messages] == ["pong"]


async def test_message_limits(sb: Sandbox) -> None:
    async with connected(sb) as (_, probe):
        for kind, key in (("content", "content"), ("embed", "embeds")):
            probe.errors.clear()
            record = await sb.invoke("big", {"kind": kind})
            await sb.wait_until(lambda: probe.errors)
            error = probe.errors[0]
            assert isinstance(error, discord.HTTPException) and error.status == 400 and error.code == 50035
            assert key in error.text or key in json.dumps(getattr(error, "_errors", {}))
            assert record.errors and record.errors[0].startswith("invalid")


async def test_autocomplete_returns_at_most_25(sb: Sandbox) -> None:
    async with connected(sb):
        choices = await sb.autocomplete("pick", {"fruit": "fruit-"}, focused="fruit")
        assert len(choices) == 25
        assert choices[0] == {"name": "fruit-00", "value": "fruit-00"}
        narrow = await sb.autocomplete("pick", {"fruit": "-3"}, focused="fruit")
        assert [c["value"] for c in narrow] == [f"fruit-3{i}" for i in range(10)]


async def test_button_click_updates_the_message(sb: Sandbox) -> None:
    async with connected(sb) as (client, _):
        client.add_view(Counter())
        record = await sb.invoke("counter")
        message = record.reply
        assert sb.buttons(message)[0]["label"] == "Add one"
        click = await sb.click(message, "counter:add")
        assert click.response_type == 7
        click = await sb.click(message, "counter:add")
        assert sb.find_message(message["id"])["content"] == "count 2"


async def test_resolved_options_and_files(sb: Sandbox) -> None:
    guild = next(iter(sb.guilds.values()))
    member = next(m for m in guild.members.values() if m.user.username == "member")
    async with connected(sb) as (_, probe):
        record = await sb.invoke(
            "inspect",
            {
                "user": member.user,
                "channel": sb.default_channel(guild),
                "role": sb.role(guild, "Admins"),
                "file": Upload("notes.txt", b"hello sandbox", "text/plain"),
            },
        )
        assert probe.resolved == {
            "user": "member",
            "user_type": "Member",
            "channel": "general",
            "role": "Admins",
            "file": b"hello sandbox",
        }
        attachment = record.reply["attachments"][0]
        assert attachment["filename"] == "echo.py"
        async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as resp:
            assert b"The sandbox itself" in await resp.read()
        callback = sb.calls_to("POST", "/interactions/")[-1]
        assert callback.files == ["echo.py"]


async def test_resume_after_dropped_connection(sb: Sandbox) -> None:
    async with connected(sb):
        await sb.drop_connection(0)
        # An interaction sent while the bot is away is replayed on RESUME and still answered.
        record = await sb.invoke("ping", timeout=15)
        assert record.reply["content"] == "pong"
        assert sb.resume_count == 1
        assert sb.identify_count == 1


async def test_rate_limit_429_is_retried() -> None:
    limits = RateLimitConfig(routes={"POST /channels/{channel_id}/messages": Limit(2, 0.3)})
    sandbox = Sandbox(rate_limits=limits)
    guild = sandbox.add_guild()
    async with sandbox:
        async with connected(sandbox):
            record = await sandbox.invoke("post", {"count": 5}, timeout=15)
            assert record.reply["content"] == "posted"
            posted = [m["content"] for m in sandbox.channel_messages(sandbox.default_channel(guild))]
            assert [p for p in posted if p.startswith("message")] == [f"message {i}" for i in range(5)]
            # discord.py paced itself from the X-RateLimit headers: every request went through.
            assert all(c.status == 200 for c in sandbox.calls_to("POST", "/channels/"))


async def test_global_429_carries_via_and_is_retried() -> None:
    sandbox = Sandbox(rate_limits=RateLimitConfig(global_limit=Limit(3, 0.3)))
    guild = sandbox.add_guild()
    extra = [sandbox.add_channel(guild, f"c{i}") for i in range(6)]
    async with sandbox:
        async with connected(sandbox) as (client, _):
            channels = [client.get_channel(c.id) for c in extra]
            await asyncio.gather(*(ch.send("hi") for ch in channels))  # type: ignore[union-attr]
        assert sandbox.rate_limited >= 1
        statuses = [c.status for c in sandbox.calls_to("POST", "/channels/")]
        assert statuses.count(200) == 6 and 429 in statuses
        for channel in extra:
            assert [m["content"] for m in sandbox.channel_messages(channel)] == ["hi"]


async def test_429_response_shape() -> None:
    sandbox = Sandbox(rate_limits=RateLimitConfig(global_limit=Limit(1, 60)))
    guild = sandbox.add_guild()
    channel = sandbox.default_channel(guild)
    async with sandbox, aiohttp.ClientSession(headers={"Authorization": f"Bot {sandbox.token}"}) as http:
        url = f"{sandbox.api_base}/channels/{channel.id}/messages"
        async with http.post(url, json={"content": "a"}) as first:
            assert first.status == 200
            assert first.headers["Content-Type"] == "application/json"
            assert first.headers["X-RateLimit-Limit"] == "5"
            assert first.headers["X-RateLimit-Remaining"] == "4"
            assert "X-RateLimit-Reset-After" in first.headers and "X-RateLimit-Bucket" in first.headers
        async with http.post(url, json={"content": "b"}) as second:
            assert second.status == 429
            assert second.headers["Via"]
            assert second.headers["X-RateLimit-Global"] == "true"
            body = await second.json()
            assert body["global"] is True and body["retry_after"] > 0


async def test_first_response_deadline() -> None:
    sandbox = Sandbox(deadline=0.0)  # every answer arrives "after" the deadline
    sandbox.add_guild()
    async with sandbox:
        async with connected(sandbox) as (_, probe):
            record = await sandbox.invoke("ping")
            assert record.errors == ["late"]
            await sandbox.wait_until(lambda: probe.errors)
            assert isinstance(probe.errors[0], discord.NotFound) and probe.errors[0].code == 10062


async def test_sharded_routing() -> None:
    sandbox = Sandbox(shard_count=2)
    guilds = [sandbox.add_guild("zero", shard_id=0), sandbox.add_guild("one", shard_id=1)]
    async with sandbox:
        async with connected(sandbox) as (client, probe):
            assert client.shard_count == 2
            for guild in guilds:
                await sandbox.invoke("ping", guild=guild)
            assert probe.shards == [0, 1]
            assert sandbox.identify_count == 2


@pytest.mark.parametrize("compress", ["zlib-stream", "zstd-stream", None])
async def test_transport_compression(sb: Sandbox, compress: str | None) -> None:
    query = "?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    zlib_ctx = zlib.decompressobj()
    zstd_ctx = zstandard.ZstdDecompressor().decompressobj()

    def decode(msg: aiohttp.WSMessage) -> dict[str, Any]:
        if compress == "zlib-stream":
            assert msg.data.endswith(b"\x00\x00\xff\xff")
            return json.loads(zlib_ctx.decompress(msg.data))
        if compress == "zstd-stream":
            return json.loads(zstd_ctx.decompress(msg.data))
        return json.loads(msg.data)

    async with aiohttp.ClientSession() as session, session.ws_connect(sb.gateway_url + query) as ws:
        hello = decode(await ws.receive())
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert decode(await ws.receive())["op"] == 11
        await ws.send_json(
            {"op": 2, "d": {"token": sb.token, "intents": 1, "properties": {}, "shard": [0, 1]}}
        )
        ready = decode(await ws.receive())
        assert ready["t"] == "READY" and ready["s"] == 1
        guild_create = decode(await ws.receive())
        assert guild_create["t"] == "GUILD_CREATE"
        assert guild_create["d"]["name"] == "Sandbox Test"


async def test_control_api(sb: Sandbox) -> None:
    async with connected(sb):
        guild = next(iter(sb.guilds.values()))
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{sb.url}/_sandbox/interactions", json={"command": "ping"}) as resp:
                body = await resp.json()
            assert resp.status == 200
            assert body["messages"][0]["content"] == "pong"
            async with http.post(f"{sb.url}/_sandbox/interactions", json={"command": "nope"}) as resp:
                assert resp.status == 400
                assert "no command named 'nope'" in (await resp.json())["error"]
            channel = sb.default_channel(guild)
            async with http.get(f"{sb.url}/_sandbox/channels/{channel.id}/messages") as resp:
                assert [m["content"] for m in await resp.json()] == ["pong"]
            async with http.get(f"{sb.url}/_sandbox/state") as resp:
                state = await resp.json()
            assert state["guilds"][0]["name"] == "Sandbox Test"
