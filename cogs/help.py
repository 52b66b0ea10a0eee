"""/help: what the bot can do, the commands this member may use (admins see theirs), example questions."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Cupola
from bot.help import command_list
from bot.i18n import lang_of
from bot.permissions import is_admin
from bot.render.help import help_embed


class Help(commands.Cog):
    def __init__(self, bot: Cupola) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What this bot can do, and your commands")
    async def help(self, interaction: discord.Interaction[Cupola]) -> None:
        admin = is_admin(interaction)
        listed = command_list(self.bot.tree, admin=admin)
        await interaction.response.send_message(
            embed=help_embed(listed, lang_of(interaction), admin=admin), ephemeral=True
        )


async def setup(bot: Cupola) -> None:
    await bot.add_cog(Help(bot))
