"""The senders background workers post through: render in the server's language, post with the nonce.

The feed poller and the photo-of-the-day poster decide what to post and know nothing of Discord's
channels or of ``bot/render/``; the cogs hand them these (``FeedSender`` / ``PotdSender`` in
``bot/feeds/poller.py`` and ``bot/photos/poster.py``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord

from bot import delivery
from bot.feeds.poller import FeedPost
from bot.i18n import lang_of
from bot.photos.poster import PotdDraft, PotdPost
from bot.render.feeds import feed_message
from bot.render.photos import credit_line, picture_note, potd_embed, potd_marker

if TYPE_CHECKING:
    from bot.core import Cupola


class ChannelSender:
    """Posts in a channel by id: a partial channel (no walk over every guild, no REST call); a
    channel that is gone answers 404 on the post itself."""

    def __init__(self, bot: Cupola) -> None:
        self.bot = bot

    def lang(self, guild_id: int | None) -> str:
        return lang_of(self.bot.get_guild(guild_id) if guild_id else None)

    def channel(self, channel_id: int, guild_id: int | None) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(channel_id, guild_id=guild_id)

    async def earlier(
        self, channel_id: int, guild_id: int | None, claim: delivery.Claim, marker: Any
    ) -> int | None:
        me = self.bot.user.id if self.bot.user else None
        found = await delivery.find_earlier(self.channel(channel_id, guild_id), claim, me=me, marker=marker)
        return found.id if found is not None else None


class FeedChannelSender(ChannelSender):
    async def send(self, post: FeedPost, *, nonce: str) -> int:
        message = feed_message(post, self.lang(post.guild_id))
        sent = await self.channel(post.channel_id, post.guild_id).send(**message.send_kwargs(), nonce=nonce)
        return sent.id

    async def find_earlier(self, post: FeedPost, claim: delivery.Claim) -> int | None:
        """Same nonce, or the same album link (embed) or text."""
        message = feed_message(post, self.lang(post.guild_id))
        url = message.embed.url if message.embed is not None else None

        def same(found: discord.Message) -> bool:
            if url:
                return any(e.url == url for e in found.embeds)
            return bool(message.content) and found.content == message.content

        return await self.earlier(post.channel_id, post.guild_id, claim, same)


class PotdChannelSender(ChannelSender):
    async def draft(self, post: PotdPost) -> PotdDraft:
        lang = self.lang(post.guild_id)
        photo, day = post.photo, post.day
        picture = await post.draw(credit_line(photo, lang))
        file = None
        image_url = picture.fallback_url
        if picture.card is not None:
            name = f"potd-{day.isoformat() if day else 'extra'}-{photo.id}.jpg"
            file = discord.File(io.BytesIO(picture.card), filename=name)
            image_url = f"attachment://{name}"
        embed = potd_embed(photo, lang, day=day, image_url=image_url, note=picture_note(picture, lang))
        return PotdDraft(picture, (embed, file))

    async def send(self, post: PotdPost, draft: PotdDraft, *, nonce: str) -> int:
        embed, file = draft.message
        channel = self.channel(post.channel_id, post.guild_id)
        if file is not None:
            message = await channel.send(embed=embed, file=file, nonce=nonce)
        else:
            message = await channel.send(embed=embed, nonce=nonce)
        return message.id

    async def find_earlier(self, post: PotdPost, claim: delivery.Claim) -> int | None:
        """Same nonce, or the day in the footer of one of our posts."""
        if post.day is None:
            return None
        marker = potd_marker(post.day)

        def ours(message: discord.Message) -> bool:
            return any(marker in ((e.footer.text if e.footer else None) or "") for e in message.embeds)

        return await self.earlier(post.channel_id, post.guild_id, claim, ours)
