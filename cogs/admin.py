"""/admin: server admins add and manage their own photos, facts, crew and articles; every change is audited."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import admin, intake
from bot.core import Cupola
from bot.errors import UserFacingError
from bot.i18n import lang_of, t
from bot.permissions import admin_only, guild_id_of
from bot.render.admin import PAGE_SIZE, Pager, audit_embed, content_embed

log = logging.getLogger(__name__)

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)


def parse_id(value: str) -> int:
    digits = value.strip().lstrip("#").split(" ", 1)[0]
    if not digits.isdigit():
        raise UserFacingError("Pick an item from the list (or type its number).", key="admin.bad_id")
    return int(digits)


def not_found(kind: str, item_id: int, lang: str) -> UserFacingError:
    return UserFacingError(
        f"This server has no {kind} #{item_id}.",
        key="admin.not_found",
        kind=t(f"admin.kind_{kind}", lang),
        id=item_id,
    )


class Admin(commands.Cog):
    admin_group = app_commands.Group(
        name="admin",
        description="Manage this server's own photos, facts, crew and articles",
        default_permissions=ADMIN_PERMISSIONS,
        guild_only=True,
    )
    photo = app_commands.Group(name="photo", description="This server's own photos", parent=admin_group)
    fact = app_commands.Group(name="fact", description="This server's own facts", parent=admin_group)
    crew = app_commands.Group(name="crew", description="This server's own crew roster", parent=admin_group)
    article = app_commands.Group(name="article", description="This server's own articles", parent=admin_group)
    content = app_commands.Group(name="content", description="What this server has added", parent=admin_group)

    def __init__(self, bot: Cupola) -> None:
        self.bot = bot

    async def _autocomplete(
        self, interaction: discord.Interaction[Cupola], current: str, kind: admin.Kind
    ) -> list[app_commands.Choice[str]]:
        guild_id = guild_id_of(interaction)
        items, _ = await self.bot.admin.content(guild_id=guild_id, kind=kind, offset=0, limit=500)
        wanted = current.casefold().strip().lstrip("#")
        out = []
        for item in items:
            label = f"#{item.id} {' '.join(item.label.split())}"
            if wanted in label.casefold():
                out.append(app_commands.Choice(name=label[:100], value=str(item.id)))
            if len(out) == 25:
                break
        return out

    # ------------------------------------------------------------------------------------ photos
    @photo.command(name="add", description="Add a photo (an attachment or a URL) with its caption and credit")
    @app_commands.describe(
        image="The picture as an attachment",
        url="Or the picture's web address (http or https)",
        caption="What the picture shows",
        credit="Who the picture is credited to (required)",
        photographer="Who took it, if known",
    )
    @admin_only()
    async def photo_add(
        self,
        interaction: discord.Interaction[Cupola],
        caption: app_commands.Range[str, 1, 1000],
        credit: app_commands.Range[str, 1, 300],
        image: discord.Attachment | None = None,
        url: app_commands.Range[str, 1, 2000] | None = None,
        photographer: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        intake.exactly_one(image, url, "admin.photo_source")
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await intake.read_attachment(image, intake.MAX_IMAGE_BYTES) if image is not None else None
        photo, created = await self.bot.admin.add_photo(
            guild_id=guild_id,
            user_id=interaction.user.id,
            caption=caption,
            credit=credit,
            photographer=photographer,
            data=data,
            url=url,
        )
        key = "admin.photo_added" if created else "admin.photo_duplicate"
        await interaction.followup.send(
            t(key, lang, id=photo.id, caption=photo.caption[:200], credit=photo.credit), ephemeral=True
        )

    @photo.command(name="remove", description="Remove one of this server's photos")
    @app_commands.describe(id="Which one (start typing to search)")
    @admin_only()
    async def photo_remove(self, interaction: discord.Interaction[Cupola], id: str) -> None:
        guild_id = guild_id_of(interaction)
        lang, photo_id = lang_of(interaction), parse_id(id)
        removed = await self.bot.admin.remove_photo(photo_id, guild_id=guild_id, user_id=interaction.user.id)
        if removed is None:
            raise not_found("photo", photo_id, lang)
        await interaction.response.send_message(
            t("admin.photo_removed", lang, id=photo_id, caption=removed.caption[:200]), ephemeral=True
        )

    @photo_remove.autocomplete("id")
    async def _photo_ids(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, "photo")

    # ------------------------------------------------------------------------------------- facts
    @fact.command(name="add", description="Add a fact that /iss ask can answer from")
    @app_commands.describe(
        text="The fact, as one or two sentences",
        keywords="Optional keywords, comma-separated",
        source="Where the fact comes from",
    )
    @admin_only()
    async def fact_add(
        self,
        interaction: discord.Interaction[Cupola],
        text: app_commands.Range[str, 1, 1000],
        keywords: app_commands.Range[str, 1, 300] | None = None,
        source: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        fact = await self.bot.admin.add_fact(
            guild_id=guild_id,
            user_id=interaction.user.id,
            text=text,
            keywords=keywords,
            source=source,
        )
        await interaction.response.send_message(
            t("admin.fact_added", lang, id=fact.id, text=fact.text), ephemeral=True
        )

    @fact.command(name="remove", description="Remove one of this server's facts")
    @app_commands.describe(id="Which one (start typing to search)")
    @admin_only()
    async def fact_remove(self, interaction: discord.Interaction[Cupola], id: str) -> None:
        guild_id = guild_id_of(interaction)
        lang, fact_id = lang_of(interaction), parse_id(id)
        removed = await self.bot.admin.remove_fact(fact_id, guild_id=guild_id, user_id=interaction.user.id)
        if removed is None:
            raise not_found("fact", fact_id, lang)
        await interaction.response.send_message(t("admin.fact_removed", lang, id=fact_id), ephemeral=True)

    @fact_remove.autocomplete("id")
    async def _fact_ids(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, "fact")

    # -------------------------------------------------------------------------------------- crew
    @crew.command(name="add", description="Add a crew member to this server's roster")
    @app_commands.describe(
        name="The crew member's name",
        agency="The agency, e.g. NASA, ESA, Roscosmos",
        role="Their role, e.g. Commander",
    )
    @admin_only()
    async def crew_add(
        self,
        interaction: discord.Interaction[Cupola],
        name: app_commands.Range[str, 1, 100],
        agency: app_commands.Range[str, 1, 100],
        role: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        member = await self.bot.admin.add_crew(
            guild_id=guild_id, user_id=interaction.user.id, name=name, agency=agency, role=role
        )
        await interaction.response.send_message(t("admin.crew_added", lang, name=member.name), ephemeral=True)

    @crew.command(name="remove", description="Remove a crew member this server added")
    @app_commands.describe(id="Which one (start typing to search)")
    @admin_only()
    async def crew_remove(self, interaction: discord.Interaction[Cupola], id: str) -> None:
        guild_id = guild_id_of(interaction)
        lang, crew_id = lang_of(interaction), parse_id(id)
        removed = await self.bot.admin.remove_crew(crew_id, guild_id=guild_id, user_id=interaction.user.id)
        if removed is None:
            raise not_found("crew", crew_id, lang)
        await interaction.response.send_message(
            t("admin.crew_removed", lang, name=removed.name), ephemeral=True
        )

    @crew_remove.autocomplete("id")
    async def _crew_ids(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, "crew")

    # ---------------------------------------------------------------------------------- articles
    @article.command(name="import", description="Import an article (.txt, .md or .html attachment, or a URL)")
    @app_commands.describe(file="The article file", url="Or the article's web address")
    @admin_only()
    async def article_import(
        self,
        interaction: discord.Interaction[Cupola],
        file: discord.Attachment | None = None,
        url: app_commands.Range[str, 1, 2000] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)
        intake.exactly_one(file, url, "admin.article_source")
        filename = intake.article_filename(file, url)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await intake.read_attachment(file, intake.MAX_ARTICLE_BYTES) if file is not None else None

        async def progress(step: str) -> None:
            await interaction.edit_original_response(content=t(f"admin.progress_{step}", lang))

        result = await self.bot.admin.import_article(
            guild_id=guild_id,
            user_id=interaction.user.id,
            filename=filename,
            data=data,
            url=url,
            progress=progress,
        )
        await interaction.edit_original_response(
            content=t(
                "admin.import_done",
                lang,
                status=t(f"admin.status_{result.status}", lang),
                title=result.title,
                passages=result.passages,
                facts=result.facts,
                crew=result.crew,
                photos=result.photos,
            )
        )

    @article.command(name="remove", description="Remove one of this server's articles and what came from it")
    @app_commands.describe(id="Which one (start typing to search)")
    @admin_only()
    async def article_remove(self, interaction: discord.Interaction[Cupola], id: str) -> None:
        guild_id = guild_id_of(interaction)
        lang, article_id = lang_of(interaction), parse_id(id)
        removed = await self.bot.admin.remove_article(
            article_id, guild_id=guild_id, user_id=interaction.user.id
        )
        if removed is None:
            raise not_found("article", article_id, lang)
        await interaction.response.send_message(
            t("admin.article_removed", lang, id=article_id, title=removed.title), ephemeral=True
        )

    @article_remove.autocomplete("id")
    async def _article_ids(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, "article")

    # ------------------------------------------------------------------------- listing and audit
    @content.command(name="list", description="List this server's own content")
    @app_commands.describe(kind="Only one kind of content")
    @admin_only()
    async def content_list(
        self,
        interaction: discord.Interaction[Cupola],
        kind: Literal["article", "photo", "fact", "crew"] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)

        async def load(page: int) -> tuple[discord.Embed, int]:
            items, total = await self.bot.admin.content(
                guild_id=guild_id, kind=kind, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
            return content_embed(items, page, total, lang), total

        embed, total = await load(0)
        await interaction.response.send_message(
            embed=embed, view=Pager(interaction.user.id, load, total, lang), ephemeral=True
        )

    @admin_group.command(name="audit", description="Who changed what, and when")
    @admin_only()
    async def audit(self, interaction: discord.Interaction[Cupola]) -> None:
        guild_id = guild_id_of(interaction)
        lang = lang_of(interaction)

        async def load(page: int) -> tuple[discord.Embed, int]:
            lines, total = await self.bot.admin.audit_log(
                guild_id=guild_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
            return audit_embed(lines, page, total, lang), total

        embed, total = await load(0)
        await interaction.response.send_message(
            embed=embed, view=Pager(interaction.user.id, load, total, lang), ephemeral=True
        )


async def setup(bot: Cupola) -> None:
    await bot.add_cog(Admin(bot))
