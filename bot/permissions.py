"""One decorator for admin commands: Discord's default_permissions plus our own check on every call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.errors import GuildOnly, NotAdmin

T = TypeVar("T")


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The server a guild-only command was used in; a DM is refused politely (``error.guild_only``)."""
    if interaction.guild_id is None:
        raise GuildOnly()
    return interaction.guild_id


def is_admin(interaction: discord.Interaction) -> bool:
    """Manage Server (or Administrator) in the guild the interaction came from; never in DMs."""
    if interaction.guild is None:
        return False
    perms = interaction.permissions
    return perms.manage_guild or perms.administrator


def _check(interaction: discord.Interaction) -> bool:
    # Discord hides the command from non-admins, but a crafted interaction still reaches us.
    if not is_admin(interaction):
        raise NotAdmin()
    return True


def admin_only() -> Callable[[T], T]:
    def decorator(func: T) -> T:
        func = app_commands.default_permissions(manage_guild=True)(func)
        func = app_commands.guild_only()(func)
        return app_commands.check(_check)(func)

    return decorator
