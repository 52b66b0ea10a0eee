"""/feed: watch photo feeds and announce each new album once; the polling loop lives here too."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.background import Supervisor
from bot.core import Cupola
from bot.errors import UserFacingError
from bot.faults import Backoff
from bot.feeds import store
from bot.feeds.poller import FeedPoller
from bot.i18n import lang_of, t
from bot.permissions import admin_only, guild_id_of
from bot.render.feeds import (
    choice_name,
    edit_reply,
    list_embed,
    safe_text,
    status_embed,
    trial_reply,
    unwatch_reply,
    watch_reply,
)
from bot.senders import FeedChannelSender

log = logging.getLogger(__name__)

_NEEDED = discord.Permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True)


def _refuse(key: str, **params: object) -> UserFacingError:
    return UserFacingError(t(key, "en", **params), key=key, **params)


@app_commands.guild_only()
class Feeds(
    commands.GroupCog, group_name="feed", group_description="Watch photo feeds and announce their new albums"
):
    def __init__(self, bot: Cupola) -> None:
        self.bot = bot
        self.poller = FeedPoller(bot, sender=FeedChannelSender(bot))
        self.backoff = Backoff("feed polling", base=60, logger=log)
        self.background = Supervisor("feeds", logger=log, ready=bot.wait_until_ready)
        self.poll_loop = self.background.loop(
            lambda: self.poller.run_once(), seconds=self.poller.tick_seconds, backoff=self.backoff
        )

    async def cog_load(self) -> None:
        self.background.start()

    async def cog_unload(self) -> None:
        await self.background.stop()

    # ------------------------------------------------------------------------------------- helpers

    def _target_channel(
        self, interaction: discord.Interaction[Cupola], channel: discord.TextChannel | None
    ) -> discord.TextChannel:
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise _refuse("feeds.watch.not_text")
        me = target.guild.me
        if me is not None and not target.permissions_for(me).is_superset(_NEEDED):
            raise _refuse("feeds.watch.no_access", channel=target.mention)
        return target

    async def _choices(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        views = await self.bot.feeds.subscriptions(interaction.guild_id)
        needle = current.strip().lower()
        out = []
        for view in views:
            channel = interaction.guild.get_channel(view.channel_id) if interaction.guild else None
            name = choice_name(view, channel.name if channel else None)
            if needle and needle not in name.lower() and needle not in view.url.lower():
                continue
            out.append(app_commands.Choice(name=name, value=str(view.id)))
        return out[:25]

    # ------------------------------------------------------------------------------------- commands

    @app_commands.command(
        name="watch", description="Watch a photo feed (RSS or Atom) and announce each new album in a channel"
    )
    @app_commands.describe(
        url="The feed's address, starting with https://",
        channel="Where new albums are announced (default: this channel)",
        role="A role to ping with each new album (default: nobody)",
        backfill="How many of the latest albums to post right away (0 to 10, default 0)",
    )
    @admin_only()
    async def watch(
        self,
        interaction: discord.Interaction[Cupola],
        url: str,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        backfill: app_commands.Range[int, 0, store.MAX_BACKFILL] = 0,
    ) -> None:
        guild_id = guild_id_of(interaction)
        target = self._target_channel(interaction, channel)
        if role is not None and role.is_default():
            raise _refuse("feeds.watch.everyone")
        await interaction.response.defer(ephemeral=True, thinking=True)  # the fetch may take seconds
        result = await self.bot.feeds.watch(
            url=url,
            guild_id=guild_id,
            channel_id=target.id,
            role_id=role.id if role else None,
            user_id=interaction.user.id,
            backfill=backfill,
            deliver=self.poller.deliver_queued,
        )
        reply = watch_reply(
            result, channel_id=target.id, role_id=role.id if role else None, lang=lang_of(interaction)
        )
        await interaction.followup.send(
            reply, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="unwatch", description="Stop watching a feed in this server")
    @app_commands.describe(feed="The feed to stop watching")
    @admin_only()
    async def unwatch(self, interaction: discord.Interaction[Cupola], feed: str) -> None:
        guild_id = guild_id_of(interaction)
        view = await self.bot.feeds.unwatch(guild_id, feed)
        await interaction.response.send_message(
            unwatch_reply(view, lang_of(interaction)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @unwatch.autocomplete("feed")
    async def _unwatch_choices(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current)

    @app_commands.command(name="list", description="The feeds this server watches")
    async def list_(self, interaction: discord.Interaction[Cupola]) -> None:
        guild_id = guild_id_of(interaction)
        views = await self.bot.feeds.subscriptions(guild_id)
        await interaction.response.send_message(embed=list_embed(views, lang_of(interaction)), ephemeral=True)

    @app_commands.command(
        name="status", description="Last fetch, next poll and problems of this server's feeds"
    )
    @app_commands.describe(feed="The feed to look at (default: all of this server's feeds)")
    async def status(self, interaction: discord.Interaction[Cupola], feed: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        views = await self.bot.feeds.status(guild_id, feed)
        await interaction.response.send_message(
            embed=status_embed(views, lang_of(interaction)), ephemeral=True
        )

    @status.autocomplete("feed")
    async def _status_choices(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current)

    @app_commands.command(
        name="test",
        description="Preview the latest album of a feed and which items its filters pass, visible only to you",
    )
    @app_commands.describe(feed="A watched feed, or any feed address")
    @admin_only()
    async def test(self, interaction: discord.Interaction[Cupola], feed: str) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.feeds.test(guild_id, feed, hosts=self.poller.hosts)
        if not result.verdicts:
            await interaction.followup.send(
                t("feeds.test.empty", lang, title=safe_text(result.title)), ephemeral=True
            )
            return
        await interaction.followup.send(ephemeral=True, **trial_reply(result, lang))

    @test.autocomplete("feed")
    async def _test_choices(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current)

    # ------------------------------------------------------------------------------------- settings

    async def _edit(self, interaction: discord.Interaction[Cupola], feed: str, **changes: Any) -> None:
        """Every settings command: one service call, then the subscription's settings shown."""
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # a template fetches the feed
        result = await self.bot.feeds.edit(guild_id, feed, **changes)
        await interaction.followup.send(
            embed=edit_reply(result, lang_of(interaction)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(
        name="edit",
        description="Change a watched feed: channel, role, pause, filters, message (seen items stay seen)",
    )
    @app_commands.describe(
        feed="The feed to change",
        channel="Move the announcements to this channel",
        role="Ping this role with each new album",
        no_role="Ping nobody any more",
        paused="True: announce nothing for now; False: resume",
        include="Only announce items with one of these words or phrases (comma-separated)",
        exclude="Never announce items with one of these words or phrases (comma-separated)",
        text="The message text template, e.g. {role} New: {title} ({count} photos) {link}",
    )
    @admin_only()
    async def edit(
        self,
        interaction: discord.Interaction[Cupola],
        feed: str,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        no_role: bool = False,
        paused: bool | None = None,
        include: str | None = None,
        exclude: str | None = None,
        text: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {"paused": paused, "include": include, "exclude": exclude}
        if channel is not None:
            changes["channel_id"] = self._target_channel(interaction, channel).id
        if role is not None:
            if role.is_default():
                raise _refuse("feeds.edit.everyone")
            changes["role_id"] = role.id
        elif no_role:
            changes["role_id"] = None
        if text is not None:
            changes["template"] = {"content": text}
        await self._edit(interaction, feed, **changes)

    @app_commands.command(
        name="filter", description="Choose which items of a feed are announced: include and exclude words"
    )
    @app_commands.describe(
        feed="The feed to change",
        include="Only announce items with one of these words or phrases (comma-separated)",
        exclude="Never announce items with one of these words or phrases (comma-separated)",
        clear="Remove all filter words",
    )
    @admin_only()
    async def filter(
        self,
        interaction: discord.Interaction[Cupola],
        feed: str,
        include: str | None = None,
        exclude: str | None = None,
        clear: bool = False,
    ) -> None:
        await self._edit(interaction, feed, include=include, exclude=exclude, clear_filters=clear)

    @app_commands.command(
        name="template",
        description="Choose what a feed's announcements show, with placeholders such as {title} and {count}",
    )
    @app_commands.describe(
        feed="The feed to change",
        text="The message text template, e.g. {role} New: {title} ({count} photos) {link}",
        title="The embed title template (default {title})",
        description="The embed description template (default {description})",
        footer="The embed footer template (default: none)",
        image="The picture: a collage of up to four, one image, or none",
        details="Show the date, credit and photo count fields",
        reset="Go back to the default layout first",
    )
    @app_commands.choices(
        image=[
            app_commands.Choice(name="collage", value="collage"),
            app_commands.Choice(name="one image", value="single"),
            app_commands.Choice(name="none", value="none"),
        ]
    )
    @admin_only()
    async def template(
        self,
        interaction: discord.Interaction[Cupola],
        feed: str,
        text: str | None = None,
        title: str | None = None,
        description: str | None = None,
        footer: str | None = None,
        image: str | None = None,
        details: bool | None = None,
        reset: bool = False,
    ) -> None:
        parts = {"content": text, "title": title, "description": description, "footer": footer}
        template = {k: v for k, v in {**parts, "image": image, "details": details}.items() if v is not None}
        await self._edit(interaction, feed, template=template or None, reset_template=reset)

    @edit.autocomplete("feed")
    @filter.autocomplete("feed")
    @template.autocomplete("feed")
    async def _settings_choices(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current)


async def setup(bot: Cupola) -> None:
    await bot.add_cog(Feeds(bot))
