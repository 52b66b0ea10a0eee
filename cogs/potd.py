"""/potd set | off | status | now, and the loop that posts the photo of the day (bot/photos/poster.py).

Decision: /potd now posts an *extra* photo (from the same no-repeat rotation) and does not count as
the day's scheduled post, so an admin trying it out still gets the scheduled one later.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.background import Supervisor
from bot.core import Cupola
from bot.errors import UserFacingError
from bot.faults import Backoff
from bot.i18n import lang_of, t
from bot.permissions import admin_only, guild_id_of
from bot.photos import schedule
from bot.photos.poster import PhotoOfTheDay
from bot.render.photos import discord_time, picture_reason
from bot.senders import PotdChannelSender

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


@app_commands.guild_only()
class PotdCommands(
    commands.GroupCog,
    name="PhotoOfTheDay",
    group_name="potd",
    group_description="Photo of the day: when and where it is posted",
):
    def __init__(self, bot: Cupola) -> None:
        self.bot = bot
        self.service = PhotoOfTheDay(bot, sender=PotdChannelSender(bot))
        # capped at 5 min so a photo of the day is at most that late once the database is back
        self.backoff = Backoff("photo of the day", base=TICK_SECONDS, maximum=300, logger=log)
        self.background = Supervisor("photo of the day", logger=log, ready=bot.wait_until_ready)
        self.scheduler = self.background.loop(
            lambda: self.service.tick(), seconds=TICK_SECONDS, backoff=self.backoff
        )
        super().__init__()

    # ------------------------------------------------------------------ the schedule loop
    async def cog_load(self) -> None:
        self.background.start()

    async def cog_unload(self) -> None:
        await self.background.stop()  # the tick has ended: interrupted posts can be handed back
        await self.service.aclose()

    # ------------------------------------------------------------------ commands
    @app_commands.command(
        name="set", description="Post the photo of the day in a channel at a time each day (admins)"
    )
    @app_commands.describe(
        channel="The channel to post in",
        time="Local time, 24-hour, like 08:30",
        timezone="IANA time zone such as Europe/Paris (start typing to search)",
    )
    @admin_only()
    async def set_(
        self,
        interaction: discord.Interaction[Cupola],
        channel: discord.TextChannel,
        time: str,
        timezone: str = "UTC",
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        when = schedule.parse_time(time)
        zone_name = schedule.parse_timezone(timezone)
        self._check_can_post(interaction, channel.id)
        state = await self.bot.potd.set(
            guild_id, user_id=interaction.user.id, channel_id=channel.id, at=when, timezone=zone_name
        )
        assert state.next_post is not None
        text = t(
            "potd.set_done",
            lang,
            channel=channel.id,
            time=schedule.format_time(when),
            timezone=zone_name,
            next=discord_time(state.next_post),
        )
        await interaction.response.send_message(text, ephemeral=True)

    @set_.autocomplete("timezone")
    async def _timezone_autocomplete(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in schedule.suggest_timezones(current or "")]

    def _check_can_post(self, interaction: discord.Interaction[Cupola], channel_id: int) -> None:
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild else None
        if guild is None or channel is None or not isinstance(channel, discord.abc.Messageable):
            raise UserFacingError(t("potd.bad_channel"), key="potd.bad_channel")
        me = guild.me
        if me is None:
            return
        perms = channel.permissions_for(me)
        if not (perms.view_channel and perms.send_messages and perms.embed_links and perms.attach_files):
            raise UserFacingError(
                t("potd.cannot_post", channel=channel_id), key="potd.cannot_post", channel=channel_id
            )

    @app_commands.command(name="off", description="Stop posting the photo of the day (admins)")
    @admin_only()
    async def off(self, interaction: discord.Interaction[Cupola]) -> None:
        guild_id = guild_id_of(interaction)
        was_on = await self.bot.potd.off(guild_id, user_id=interaction.user.id)
        key = "potd.off_done" if was_on else "potd.was_off"
        await interaction.response.send_message(t(key, lang_of(interaction)), ephemeral=True)

    @app_commands.command(name="status", description="Where and when the next photo of the day is posted")
    async def status(self, interaction: discord.Interaction[Cupola]) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        state = await self.bot.potd.status(guild_id)
        saved = state.schedule
        if saved is None or state.next_post is None:
            await interaction.response.send_message(t("potd.status_off", lang))
            return
        text = t(
            "potd.status_on",
            lang,
            channel=saved.channel_id,
            time=schedule.format_time(saved.at),
            timezone=saved.timezone,
            next=discord_time(state.next_post),
        )
        if state.posted_today:
            text += "\n" + t("potd.status_posted_today", lang)
        await interaction.response.send_message(text)

    @app_commands.command(name="now", description="Post an extra photo of the day right now (admins)")
    @admin_only()
    async def now(self, interaction: discord.Interaction[Cupola]) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        saved = (await self.bot.potd.status(guild_id)).schedule
        if saved is None:
            raise UserFacingError(t("potd.not_set"), key="potd.not_set")
        await interaction.response.defer(ephemeral=True, thinking=True)
        posted = await self.bot.potd.post_now(saved, interaction.id, self.service.post_now)
        if posted is None:
            raise UserFacingError(t("potd.no_photos"), key="potd.no_photos")
        outcome, state = posted
        if outcome.status != "sent":
            error = outcome.error or outcome.status
            await interaction.followup.send(
                t("potd.now_failed", lang, channel=saved.channel_id, error=error[:200]), ephemeral=True
            )
            return
        assert state.next_post is not None
        text = t(
            "potd.now_done",
            lang,
            id=outcome.photo_id,
            channel=saved.channel_id,
            next=discord_time(state.next_post),
        )
        if outcome.picture_code:
            text += " " + t("potd.now_no_picture", lang, reason=picture_reason(outcome.picture_code, lang))
        await interaction.followup.send(text, ephemeral=True)


async def setup(bot: Cupola) -> None:
    await bot.add_cog(PotdCommands(bot))
