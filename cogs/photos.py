"""/photo random | show | credits, and the Another button (a DynamicItem: it works after restarts)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Cupola, CupolaTree, send_ephemeral
from bot.errors import UserFacingError
from bot.i18n import lang_of, t
from bot.photos import PhotoView
from bot.photos.pictures import read_stored, stored_file
from bot.render.photos import credits_embed, photo_embed

log = logging.getLogger(__name__)

AUTOCOMPLETE_BUDGET = 2.0


class AnotherPhoto(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cupola:photo:another:(?P<photo_id>[0-9]{1,19})"
):
    """Shows the next photo of this channel's rotation in place; ``photo_id`` is the one on screen."""

    def __init__(self, photo_id: int, label: str = "Another") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"cupola:photo:another:{photo_id}"
            )
        )
        self.photo_id = photo_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherPhoto:
        return cls(int(match["photo_id"]))

    # discord.py types callback's interaction as generic in the client; this button lives in Cupola only.
    async def callback(self, interaction: discord.Interaction[Cupola]) -> None:  # type: ignore[override]
        bot = interaction.client
        tree = bot.tree
        assert isinstance(tree, CupolaTree)  # Cupola is built with tree_cls=CupolaTree
        cog = bot.get_cog(Photos.__cog_name__)
        try:
            if not isinstance(cog, Photos):
                raise UserFacingError("Photos are not available right now; try again in a moment.")
            await cog.another(interaction, self.photo_id)
        except Exception as exc:  # buttons bypass the tree's handler: answer the same way it does
            message = tree.describe_error(interaction, exc)
            if message is not None:
                await send_ephemeral(interaction, message)


class Photos(commands.GroupCog, group_name="photo", group_description="Flyaround photos with their credits"):
    dynamic_items = (AnotherPhoto,)

    def __init__(self, bot: Cupola) -> None:
        self.bot = bot
        super().__init__()

    async def render(self, photo: PhotoView, lang: str) -> dict[str, Any]:
        """Embed (credit always in it), the picture by URL or as an upload, and the Another button."""
        files: list[discord.File] = []
        web_url = photo.url if photo.url and photo.url.startswith(("https://", "http://")) else None
        image_url = web_url
        note = None
        # A web picture is shown by its URL unless we already hold a cleaned copy (fetched earlier, or
        # given from a local file offline): then that copy is uploaded, and members see it either way.
        if image_url is None or photo.path:
            try:
                data = await asyncio.to_thread(read_stored, photo, self.bot.images)
            except OSError as exc:
                log.warning("photo %s: stored picture unreadable: %s", photo.id, exc)
                data = None
            if data is None:
                if web_url is None:
                    note = t("photos.picture_missing", lang)
            else:
                path = stored_file(photo, self.bot.images)
                suffix = Path(path).suffix if path else ".jpg"
                name = f"photo-{photo.id}{suffix}"
                files.append(discord.File(fp=io.BytesIO(data), filename=name))
                image_url = f"attachment://{name}"
        view = discord.ui.View(timeout=None)
        view.add_item(AnotherPhoto(photo.id, label=t("photos.another", lang)))
        return {
            "embed": photo_embed(photo, lang, image_url=image_url, note=note),
            "files": files,
            "view": view,
        }

    async def _next(self, interaction: discord.Interaction[Cupola]) -> PhotoView:
        photo = await self.bot.photos.next_in_channel(
            interaction.channel_id or 0, guild_id=interaction.guild_id
        )
        if photo is None:
            raise UserFacingError(t("photos.empty"), key="photos.empty")
        return photo

    @app_commands.command(
        name="random",
        description="A random photo with its credit; no repeats in this channel until every photo was shown",
    )
    async def random(self, interaction: discord.Interaction[Cupola]) -> None:
        photo = await self._next(interaction)
        await interaction.response.send_message(**await self.render(photo, lang_of(interaction)))

    async def another(self, interaction: discord.Interaction[Cupola], shown_id: int) -> None:
        photo = await self._next(interaction)
        log.debug("channel %s: Another after photo %s -> %s", interaction.channel_id, shown_id, photo.id)
        message = await self.render(photo, lang_of(interaction))
        await interaction.response.edit_message(
            embed=message["embed"], attachments=message["files"], view=message["view"]
        )

    @app_commands.command(name="show", description="Show one photo by its number, with its credit")
    @app_commands.describe(id="Start typing a caption, or the photo number")
    async def show(
        self, interaction: discord.Interaction[Cupola], id: app_commands.Range[str, 1, 100]
    ) -> None:
        # A string option: Discord lets members type only digits into integer options, and the
        # autocomplete searches captions. A choice's value is the photo number.
        photo = await self.bot.photos.find(id, guild_id=interaction.guild_id)
        if photo is None:
            number = id.strip().lstrip("#").strip()
            if number.isdigit():
                raise UserFacingError(t("photos.not_found", id=number), key="photos.not_found", id=number)
            raise UserFacingError(t("photos.no_match", text=id[:50]), key="photos.no_match", text=id[:50])
        if not photo.showable:
            raise UserFacingError(t("photos.no_picture", id=photo.id), key="photos.no_picture", id=photo.id)
        await interaction.response.send_message(**await self.render(photo, lang_of(interaction)))

    @show.autocomplete("id")
    async def show_autocomplete(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        try:  # autocomplete cannot be deferred: better no choices than an expired interaction
            async with asyncio.timeout(AUTOCOMPLETE_BUDGET):
                found = await self.bot.photos.search(str(current or ""), guild_id=interaction.guild_id)
        except TimeoutError:
            log.warning("photo autocomplete took over %s s; answered with no choices", AUTOCOMPLETE_BUDGET)
            return []
        return [
            app_commands.Choice(name=_choice_name(pid, caption), value=str(pid)) for pid, caption in found
        ]

    @app_commands.command(name="credits", description="Who took which photo, and from which article")
    @app_commands.describe(page="Which page of the list")
    async def credits(
        self, interaction: discord.Interaction[Cupola], page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        groups = await self.bot.photos.credits(guild_id=interaction.guild_id)
        await interaction.response.send_message(embed=credits_embed(groups, lang_of(interaction), page).embed)


def _choice_name(photo_id: int, caption: str) -> str:
    text = " ".join(caption.split())
    name = f"#{photo_id} · {text}"
    return name if len(name) <= 100 else name[:99] + "…"


async def setup(bot: Cupola) -> None:
    await bot.add_cog(Photos(bot))
