"""English and Chinese (zh-CN) text: command localizations for Discord, and reply strings.

The text lives in ``bot/locale/*.toml``, one file per feature, so features don't edit one table.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

LOCALE_DIR = Path(__file__).parent / "locale"


def _load() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    commands: dict[str, str] = {}
    messages: dict[str, tuple[str, str]] = {}
    for path in sorted(LOCALE_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for english, chinese in data.get("commands", {}).items():
            commands[english] = chinese
        for key, pair in data.get("messages", {}).items():
            if key in messages:
                raise ValueError(f"{path.name}: message key {key!r} is defined twice")
            english, chinese = pair
            messages[key] = (english, chinese)
    return commands, messages


# Command names, descriptions and option names/descriptions, keyed by their English text.
COMMAND_ZH, MESSAGES = _load()

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


Reader = discord.Interaction[Any] | discord.Guild | discord.Locale | str | None


def lang_of(reader: Reader, text: str = "") -> str:
    """The one rule for the language of a reply or a post: Chinese ("zh") when the reader's locale is
    Chinese (a member's client locale; for a post in a channel, its server's preferred locale) or
    when ``text``, what the member wrote, is Chinese; English ("en") otherwise."""
    if isinstance(reader, discord.Interaction):
        locale: object = reader.locale
    elif isinstance(reader, discord.Guild):
        locale = reader.preferred_locale
    else:
        locale = reader
    return "zh" if str(locale or "").lower().startswith("zh") or (text and has_chinese(text)) else "en"


def t(key: str, lang: str = "en", **params: object) -> str:
    english, chinese = MESSAGES[key]
    template = chinese if lang == "zh" else english
    return template.format(**params) if params else template


class CupolaTranslator(app_commands.Translator):
    """Gives Discord zh-CN names and descriptions; every other locale falls back to English."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.chinese:
            return None
        return COMMAND_ZH.get(string.message)
