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
    """The catalog's text for ``key`` in ``lang``; a parameter that is itself coded (an error with a
    ``key`` and ``params``, such as the reason a picture was refused) is said in ``lang`` too."""
    english, chinese = MESSAGES[key]
    template = chinese if lang == "zh" else english
    if not params:
        return template
    return template.format(**{name: _said(value, lang) for name, value in params.items()})


def say(coded: Coded, lang: str = "en") -> str:
    """What a coded error or result says, in ``lang``."""
    return t(coded.key, lang, **coded.params)


def _said(value: object, lang: str) -> object:
    key, params = getattr(value, "key", None), getattr(value, "params", None)
    if isinstance(key, str) and key in MESSAGES and isinstance(params, dict):
        return t(key, lang, **params)
    return value


class Coded:
    """Something that says a sentence as a catalog key and its parameters (an error, a refusal).

    Words come from the catalog only: ``message`` is the English text, for logs and operators;
    members get ``say(it, lang)`` in their language."""

    key: str
    params: dict[str, object]

    @property
    def message(self) -> str:
        return say(self)


class Phrase(Coded):
    """A piece of a sentence, said in the reader's language when the sentence is (a nested parameter)."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"Phrase({self.key!r})"


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
