"""The Bot: start-up wiring, cog discovery, one error handler for every app command, clean shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot import __version__
from bot.admin import AdminService
from bot.background import Supervisor
from bot.cluster import Cluster, install_http_pacing, make_pacer
from bot.config import Settings
from bot.content import CountsCache
from bot.db import Database
from bot.errors import ControlCharacters, UserFacingError
from bot.feeds.service import FeedService
from bot.i18n import CupolaTranslator, lang_of, t
from bot.knowledge.service import Knowledge
from bot.media import ImageStore
from bot.net import SafeHttp
from bot.photos.service import PhotoService, PotdService
from bot.text import has_controls, string_options

log = logging.getLogger(__name__)

USER_AGENT = f"Cupola/{__version__} (self-hosted Discord bot)"
UNLOAD_TIMEOUT_S = 5.0


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at the configured REST base (a proxy, or the sandbox) and gateway."""
    Route.BASE = settings.discord.api_base
    if settings.discord.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)
    stamp_heartbeats_when_sent()


def stamp_heartbeats_when_sent() -> None:
    """Note each heartbeat's send time on the event loop, just before it is written.

    discord.py's heartbeat thread notes it only once the send has returned and the thread has the GIL
    back. An ACK read on the loop before that (a gateway on loopback answers at once; the loop is busy
    during a fan-out) was measured from the *previous* heartbeat: a latency of the whole interval,
    41.25 s, in ``bot.latency`` (and /about) and "Can't keep up, shard ID N websocket is 41.3s behind"
    in the log, with nothing behind at all. Noted on the loop, the ACK can only come after it.
    """
    original = DiscordWebSocket.send_heartbeat
    if getattr(original, "_cupola_stamped", False):
        return

    async def send_heartbeat(self: DiscordWebSocket, data: Any) -> None:
        # discord.py's own attributes: if a release renames them, heartbeats go on, only unstamped
        keep_alive = getattr(self, "_keep_alive", None)
        if keep_alive is not None and hasattr(keep_alive, "_last_send"):
            keep_alive._last_send = time.perf_counter()
        await original(self, data)

    send_heartbeat._cupola_stamped = True  # type: ignore[attr-defined]
    DiscordWebSocket.send_heartbeat = send_heartbeat  # type: ignore[method-assign]


class CupolaTree(app_commands.CommandTree["Cupola"]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Refuse a command whose text options carry NUL or other control characters, whatever it is.

        Autocomplete is left alone: nothing typed there is stored, and it cannot show a message.
        """
        if interaction.type is discord.InteractionType.application_command:
            data: Any = interaction.data or {}
            for name, value in string_options(data.get("options")):
                if has_controls(value):
                    raise ControlCharacters(name)
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        message = self.describe_error(interaction, error)
        if message is None:
            return
        await send_ephemeral(interaction, message)

    def describe_error(self, interaction: discord.Interaction, error: Exception) -> str | None:
        """The member-facing text for ``error``; None when nobody can be told (expired interaction)."""
        lang = lang_of(interaction)
        original = getattr(error, "original", error)
        name = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(original, UserFacingError):
            log.info("/%s refused for %s: %s", name, interaction.user.id, original.message)
            if original.key:
                return t(original.key, lang, **original.params)
            return original.message
        if isinstance(original, discord.NotFound) and original.code == 10062:
            log.warning("/%s: the interaction expired before we answered", name)
            return None
        if isinstance(error, app_commands.MissingPermissions):
            perms = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            log.info("/%s refused for %s: missing %s", name, interaction.user.id, perms)
            return t("error.missing_permissions", lang, permissions=perms)
        if isinstance(error, app_commands.NoPrivateMessage):
            return t("error.guild_only", lang)
        if isinstance(error, app_commands.CommandOnCooldown):
            return t("error.cooldown", lang, seconds=math.ceil(error.retry_after))
        if isinstance(error, app_commands.TransformerError):
            kind = error.type.name.lower() if hasattr(error.type, "name") else "value"
            return t("error.bad_value", lang, value=error.value, kind=kind)
        if isinstance(error, app_commands.CheckFailure):
            log.info("/%s refused for %s: %s", name, interaction.user.id, error)
            return t("error.check_failed", lang)
        log.error("/%s failed", name, exc_info=original)
        return t("error.internal", lang)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Answer ephemerally whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # Replace the "thinking…" or progress text the admin is looking at with the reason.
            await interaction.edit_original_response(content=message, embed=None, view=None)
        elif interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.NotFound:
        log.warning("could not tell %s about an error: the interaction expired", interaction.user.id)
    except discord.HTTPException:
        log.exception("could not send an error message")


class Cupola(commands.AutoShardedBot):
    """The Cupola bot. ``setup_hook`` opens the database and loads the cogs; ``close`` closes them all.

    ``extensions`` are the modules ``setup_hook`` loads, named by the entry point
    (``bot.extensions.find_extensions()``): the bot itself knows nothing of ``cogs/``.
    """

    def __init__(
        self, *, settings: Settings, db: Database, extensions: Sequence[str], **options: Any
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = False
        # No message events: the bot reads no messages, and its own posts' echoes cost CPU per post.
        intents.guild_messages = False
        intents.dm_messages = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=CupolaTree,
            shard_count=settings.discord.shard_count,
            # discord.py's options TypedDict says list[int]; None (every shard) is its own default.
            shard_ids=settings.discord.shard_ids,  # type: ignore[arg-type]
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.db = db
        self.initial_extensions = tuple(extensions)
        # The one outbound HTTP client for user- and feed-supplied URLs (bot/net.py).
        self.net = SafeHttp(
            allow_private_addresses=settings.net.allow_private_addresses, user_agent=USER_AGENT
        )
        self.images = ImageStore(settings.paths.data_dir / "images")
        # Several processes: who we are to our peers, and the REST rate limit we share with them.
        self.cluster = Cluster(self)
        self.claimer = self.cluster.claimer
        self.pacer = make_pacer(self)
        install_http_pacing(self)
        # Wall-clock time for schedules; tests replace it to control the clock.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.started_at = time.monotonic()
        self.failed_cogs: dict[str, BaseException] = {}
        self._frozen_at_ready = False
        self.content_counts = CountsCache(db)
        self.knowledge = Knowledge(db)
        # The services: each command's whole workflow, reached by the cogs as ``bot.<service>``.
        # They read ``net`` and ``clock`` through these lambdas: tests replace both on a built bot.
        self.admin = AdminService(
            db=db,
            knowledge=self.knowledge,
            counts=self.content_counts,
            net=lambda: self.net,
            images=self.images,
        )
        self.feeds = FeedService(
            db=db,
            http=lambda: self.net,
            clock=lambda: self.clock(),
            interval=float(settings.feeds.poll_interval_seconds),
        )
        self.photos = PhotoService(db=db, clock=lambda: self.clock())
        self.potd = PotdService(db=db, clock=lambda: self.clock())
        self.background = Supervisor("bot", logger=log)
        """The bot's own background work; each cog has its own (bot/background.py)."""

    # -------------------------------------------------------------- start-up
    async def login(self, token: str) -> None:
        configure_endpoints(self.settings)
        if not self.db.is_open:  # first: the login requests already go through the shared rate limit
            await self.db.open()
        await super().login(token)

    async def setup_hook(self) -> None:
        self.started_at = time.monotonic()
        if not self.db.is_open:  # the caller may already have opened it (tests, console)
            await self.db.open()
        await self.cluster.start()
        # The articles are indexed while the bot connects and serves (/iss waits a moment or says so):
        # start-up does not wait for work that grows with the content.
        # A failure is logged; the knowledge cog's refresh loop retries.
        self.background.spawn(self.knowledge.load(), name="loading the articles")
        await self.tree.set_translator(CupolaTranslator())
        for module in self.initial_extensions:
            try:
                await self.load_extension(module)
            except Exception as exc:
                self.failed_cogs[module] = exc
                log.exception("cog %s failed to load; the others still load", module)
        for cog in self.cogs.values():
            for item in getattr(cog, "dynamic_items", ()):
                self.add_dynamic_items(item)
            for view in getattr(cog, "persistent_views", ()):
                self.add_view(view)
        await self.sync_from_settings()

    async def sync_from_settings(self) -> None:
        target = self.settings.discord.sync_on_start
        if target == "off":
            return
        if target == "global":
            synced = await self.tree.sync()
        else:
            guild = discord.Object(id=int(target))
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        log.info("synced %d commands (%s)", len(synced), target)

    async def launch_shards(self) -> None:
        """Use the configured gateway URL, else the one /gateway/bot names, for every connection.

        discord.py falls back to ``DEFAULT_GATEWAY`` (wss://gateway.discord.gg) whenever a session
        cannot be resumed (INVALID_SESSION, a fresh IDENTIFY): that default is set here to the gateway
        this bot was really given, so a proxy or sandbox set-up never wanders off to Discord.
        """
        if self.settings.discord.gateway_url:
            gateway = yarl.URL(self.settings.discord.gateway_url)
            if self.shard_count is None:
                self.shard_count, _, _ = await self.http.get_bot_gateway()
        else:
            count, url, _ = await self.http.get_bot_gateway()
            if self.shard_count is None:
                self.shard_count = count
            gateway = yarl.URL(url)
        DiscordWebSocket.DEFAULT_GATEWAY = gateway
        await super().launch_shards()

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers (%d shards)", self.user, len(self.guilds), self.shard_count or 1)
        if not self._frozen_at_ready:
            # Every server is cached now: objects that live as long as the process (tens per server).
            # Left to the cyclic GC, each full collection walks them all again (~0.1 s at 10,000
            # servers, a pause of the event loop every ~20 s of a fan-out, and a CPU cost per post
            # that grows with the servers). Garbage is still freed by reference counting.
            self._frozen_at_ready = True
            gc.freeze()

    # -------------------------------------------------------------- shutdown
    async def close(self) -> None:
        """Unload cogs first (their cog_unload stops loops), then the gateway, HTTP and database.

        Unloading is bounded: a loop stuck in discord.py's REST retries (the API unreachable) must
        not keep a stopping process alive for minutes.
        """
        try:
            await asyncio.wait_for(self._unload_everything(), UNLOAD_TIMEOUT_S)
        except TimeoutError:
            log.warning("cogs did not unload within %s s; stopping without them", UNLOAD_TIMEOUT_S)
        await self.background.stop()
        await self.cluster.stop()
        await super().close()
        await self.net.close()
        await self.db.aclose()

    async def _unload_everything(self) -> None:
        for name in list(self.extensions):
            try:
                await self.unload_extension(name)
            except Exception:
                log.exception("unloading %s failed", name)
        for name in list(self.cogs):
            try:
                await self.remove_cog(name)
            except Exception:
                log.exception("removing cog %s failed", name)

    def owns_guild(self, guild_id: int) -> bool:
        """Whether this process runs the shard of ``guild_id`` (several processes share one database)."""
        count = self.shard_count or 1
        shard = (guild_id >> 22) % count
        return self.shard_ids is None or shard in self.shard_ids

    # -------------------------------------------------------------- facts for /about
    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started_at

    @property
    def gateway_latency_ms(self) -> float | None:
        latency = self.latency
        if latency is None or math.isnan(latency) or math.isinf(latency):
            return None
        return latency * 1000
