"""Domain results -> discord.Embed / File / View, shared by the cogs and the console."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.content import ContentCounts
from bot.i18n import t

BRAND_COLOUR = discord.Colour(0x2B6CB0)


@dataclass(frozen=True)
class AboutInfo:
    version: str
    uptime_seconds: float
    guilds: int
    shards: int
    latency_ms: float | None
    counts: ContentCounts


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def about_embed(info: AboutInfo, lang: str = "en") -> discord.Embed:
    embed = discord.Embed(title=t("about.title", lang), colour=BRAND_COLOUR)
    embed.add_field(name=t("about.version", lang), value=info.version)
    embed.add_field(name=t("about.uptime", lang), value=format_duration(info.uptime_seconds))
    embed.add_field(name=t("about.servers", lang), value=str(info.guilds))
    embed.add_field(name=t("about.shards", lang), value=str(info.shards))
    latency = "—" if info.latency_ms is None else f"{info.latency_ms:.0f} ms"
    embed.add_field(name=t("about.latency", lang), value=latency)
    c = info.counts
    content = t("about.content_value", lang, articles=c.articles, facts=c.facts, crew=c.crew, photos=c.photos)
    embed.add_field(name=t("about.content", lang), value=content, inline=False)
    embed.set_footer(text=t("about.footer", lang))
    return embed
