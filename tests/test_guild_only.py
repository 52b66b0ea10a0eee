"""A server command that reaches the bot from a DM gets the same polite answer, in the member's language."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.core import Cupola, CupolaTree
from bot.errors import GuildOnly
from bot.permissions import guild_id_of


def dm_interaction(bot: Cupola, locale: str) -> discord.Interaction[Cupola]:
    """A real discord.py Interaction parsed from the payload Discord sends for a command used in a DM."""
    payload: dict[str, Any] = {
        "id": "900001",
        "application_id": str(bot.application_id),
        "type": 2,
        "token": "dm-token",
        "version": 1,
        "locale": locale,
        "channel_id": "900002",
        "user": {
            "id": "900003",
            "username": "dora",
            "discriminator": "0",
            "avatar": None,
            "global_name": None,
        },
        "data": {"id": "900004", "name": "feed", "type": 1},
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "app_permissions": "0",
        "context": 1,
        "authorizing_integration_owners": {"1": "900003"},
    }
    return discord.Interaction(data=payload, state=bot._connection)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-US", "This command only works in a server."), ("zh-CN", "此命令只能在服务器中使用。")],
)
async def test_a_server_command_from_a_dm_is_refused_politely(
    bot: Cupola, locale: str, expected: str
) -> None:
    interaction = dm_interaction(bot, locale)
    assert interaction.guild_id is None
    with pytest.raises(GuildOnly) as refused:
        guild_id_of(interaction)
    assert isinstance(bot.tree, CupolaTree)
    assert bot.tree.describe_error(interaction, refused.value) == expected
