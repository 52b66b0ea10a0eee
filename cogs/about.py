"""/about: the first command, proving the whole path from the gateway to the database and back."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.core import Cupola
from bot.i18n import lang_of
from bot.render import AboutInfo, about_embed


class About(commands.Cog):
    def __init__(self, bot: Cupola) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="Version, uptime, servers and content of this bot")
    async def about(self, interaction: discord.Interaction[Cupola]) -> None:
        counts = await self.bot.content_counts.get(interaction.guild_id)
        info = AboutInfo(
            version=__version__,
            uptime_seconds=self.bot.uptime,
            guilds=len(self.bot.guilds),
            shards=self.bot.shard_count or 1,
            latency_ms=self.bot.gateway_latency_ms,
            counts=counts,
        )
        await interaction.response.send_message(embed=about_embed(info, lang_of(interaction)))


async def setup(bot: Cupola) -> None:
    await bot.add_cog(About(bot))
