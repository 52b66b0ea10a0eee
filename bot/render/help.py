"""/help as an embed: what the bot does, the member's commands (admins' own in their own field), and
questions worth asking."""

from __future__ import annotations

import discord

from bot.help import EXAMPLE_QUESTIONS, CommandHelp
from bot.i18n import COMMAND_ZH, t
from bot.render import BRAND_COLOUR

FIELD_LIMIT = 1024


def _translate(text: str, lang: str) -> str:
    return COMMAND_ZH.get(text, text) if lang == "zh" else text


def _lines(commands: list[CommandHelp], lang: str) -> list[str]:
    out = []
    for command in commands:
        path = " ".join(_translate(part, lang) if lang == "zh" else part for part in command.path.split())
        shown = f"`/{command.path}`" + (f" ({path})" if lang == "zh" and path != command.path else "")
        out.append(f"{shown} — {_translate(command.description, lang)}")
    return out


def _fields(name: str, lines: list[str]) -> list[tuple[str, str]]:
    """Split a long list over several fields of at most 1,024 characters each."""
    fields: list[tuple[str, str]] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > FIELD_LIMIT:
            fields.append((name if not fields else "\u200b", "\n".join(chunk)))
            chunk = []
        chunk.append(line[:FIELD_LIMIT])
    if chunk:
        fields.append((name if not fields else "\u200b", "\n".join(chunk)))
    return fields


def help_embed(commands: list[CommandHelp], lang: str, *, admin: bool) -> discord.Embed:
    embed = discord.Embed(title=t("help.title", lang), description=t("help.intro", lang), colour=BRAND_COLOUR)
    everyone = [c for c in commands if not c.admin]
    mine = [c for c in commands if c.admin]
    for name, value in _fields(t("help.commands", lang), _lines(everyone, lang)):
        embed.add_field(name=name, value=value, inline=False)
    if admin and mine:
        for name, value in _fields(t("help.admin_commands", lang), _lines(mine, lang)):
            embed.add_field(name=name, value=value, inline=False)
    examples = "\n".join(f"• `/iss ask question: {t(key, lang)}`" for key in EXAMPLE_QUESTIONS)
    embed.add_field(name=t("help.examples", lang), value=examples, inline=False)
    embed.set_footer(text=t("help.footer_admin" if admin else "help.footer_member", lang))
    return embed
