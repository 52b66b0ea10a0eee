"""English and Chinese (zh-CN) text: command localizations for Discord, and reply strings."""

from __future__ import annotations

import re

import discord
from discord import app_commands

# Command names, descriptions and option names, keyed by their English text.
COMMAND_ZH: dict[str, str] = {
    "about": "关于",
    "Version, uptime, servers and content of this bot": "机器人的版本、运行时间、服务器数量和内容统计",
}

# Reply strings: key -> (English, Chinese).
MESSAGES: dict[str, tuple[str, str]] = {
    "about.title": ("About Cupola", "关于 Cupola"),
    "about.version": ("Version", "版本"),
    "about.uptime": ("Uptime", "运行时间"),
    "about.servers": ("Servers", "服务器"),
    "about.shards": ("Shards", "分片"),
    "about.latency": ("Gateway latency", "网关延迟"),
    "about.content": ("Content", "内容"),
    "about.content_value": (
        "{articles} articles · {facts} facts · {crew} crew · {photos} photos",
        "{articles} 篇文章 · {facts} 条事实 · {crew} 名乘员 · {photos} 张照片",
    ),
    "about.footer": (
        "Answers come from the articles I hold, with their sources.",
        "所有回答都来自我收录的文章，并注明出处。",
    ),
    "error.not_admin": (
        "Only server admins (Manage Server permission) can use this command.",
        "只有服务器管理员（拥有“管理服务器”权限）才能使用此命令。",
    ),
    "error.missing_permissions": (
        "You need the {permissions} permission to use this command.",
        "你需要 {permissions} 权限才能使用此命令。",
    ),
    "error.guild_only": ("This command only works in a server.", "此命令只能在服务器中使用。"),
    "error.cooldown": (
        "Slow down a little: try again in {seconds:.0f} s.",
        "请稍等，{seconds:.0f} 秒后再试。",
    ),
    "error.bad_value": ("{value!r} is not a valid {kind}.", "{value!r} 不是有效的{kind}。"),
    "error.check_failed": ("You can't use this command here.", "你不能在这里使用此命令。"),
    "error.internal": (
        "Something went wrong on our side. It has been logged; please try again in a moment.",
        "我们这边出了点问题，已经记录下来了，请稍后再试。",
    ),
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_chinese_locale(locale: discord.Locale | str | None) -> bool:
    return str(locale or "").lower().startswith("zh")


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def lang_of(interaction: discord.Interaction) -> str:
    """The member's language: their client locale, "en" unless it is Chinese."""
    return "zh" if is_chinese_locale(interaction.locale) else "en"


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
