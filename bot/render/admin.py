"""Admin listings (content, audit) as embeds with page buttons."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable

import discord

from bot.admin import AuditLine, ContentItem
from bot.i18n import MESSAGES, t
from bot.render import BRAND_COLOUR
from bot.render.knowledge import clip

PAGE_SIZE = 10


def pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def content_embed(items: list[ContentItem], page: int, total: int, lang: str) -> discord.Embed:
    embed = discord.Embed(title=t("admin.content_title", lang), colour=BRAND_COLOUR)
    if not items:
        embed.description = t("admin.content_empty", lang)
        return embed
    lines = [
        f"`{t('admin.kind_' + i.kind, lang)} #{i.id}` {clip(' '.join(i.label.split()), 150)}" for i in items
    ]
    embed.description = clip("\n".join(lines), 4096)
    embed.set_footer(text=t("admin.page", lang, page=page + 1, pages=pages(total), total=total))
    return embed


def audit_embed(lines: list[AuditLine], page: int, total: int, lang: str) -> discord.Embed:
    embed = discord.Embed(title=t("admin.audit_title", lang), colour=BRAND_COLOUR)
    if not lines:
        embed.description = t("admin.audit_empty", lang)
        return embed
    text = []
    for line in lines:
        who = f"<@{line.user_id}>" if line.user_id else "—"
        text.append(
            f"<t:{int(line.at.timestamp())}:f> {who} **{action_text(line.action, lang)}** {clip(line.target, 200)}"
        )
    embed.description = clip("\n".join(text), 4096)
    embed.set_footer(text=t("admin.page", lang, page=page + 1, pages=pages(total), total=total))
    return embed


PageLoader = Callable[[int], Awaitable[tuple[discord.Embed, int]]]


class Pager(discord.ui.View):
    """◀ ▶ buttons over a listing; only the admin who asked may turn the pages."""

    def __init__(self, owner_id: int, load: PageLoader, total: int, lang: str) -> None:
        super().__init__(timeout=600)
        self.owner_id = owner_id
        self.load = load
        self.page = 0
        self.total = total
        self.lang = lang
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= pages(self.total) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(t("admin.not_yours", self.lang), ephemeral=True)
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), pages(self.total) - 1)
        embed, self.total = await self.load(self.page)
        self._sync()
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, 1)


def action_text(action: str, lang: str) -> str:
    """An audit line's action code ("fact add", "article import (new)", "potd.set") in the reader's
    language; a code this version does not know is shown as stored."""
    key = "audit." + re.sub(r"[^a-z0-9]+", "_", action.lower()).strip("_")
    return t(key, lang) if key in MESSAGES else action
