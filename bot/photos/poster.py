"""Posting the photo of the day: a tick finds due servers, claims each one's day, renders the credit
card and posts it, paced under Discord's global limit by the bot's shared Pacer.

Exactly once per server and local day: the delivery claim (kind "potd", key "<guild>:<date>") is
taken before anything is posted, the message carries the claim's nonce, and a take-over of an
attempt that may already have posted first looks for that post in the channel.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import discord

from bot import delivery
from bot.faults import record_posted
from bot.i18n import is_chinese_locale, t
from bot.media import ProcessedImage
from bot.photos import catalog, potd, schedule
from bot.photos.pictures import CardMaker, Picture
from bot.render.photos import credit_line, potd_embed, potd_marker

if TYPE_CHECKING:
    from bot.core import Cupola

log = logging.getLogger(__name__)

Status = Literal["sent", "recovered", "skipped", "failed", "dropped"]
HISTORY_LOOKBACK = 50
PICTURE_REASONS = {
    "bomb", "truncated", "corrupt", "not_an_image", "unsupported_format", "empty", "too_large",
    "missing", "http_error", "timeout", "connection_failed", "private_address", "too_many_redirects",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    guild_id: int
    status: Status
    photo_id: int | None = None
    message_id: int | None = None
    channel_id: int | None = None
    picture_code: str | None = None
    error: str | None = None


def picture_reason(code: str | None, lang: str) -> str:
    """A short, member-facing reason for a missing picture (the log has the full one)."""
    return t(f"picture.{code if code in PICTURE_REASONS else 'other'}", lang)


def picture_note(picture: Picture, lang: str) -> str | None:
    """What the post says when it has no credit card: why, and that caption and credit are there."""
    if picture.ok:
        return None
    key = "potd.fallback_note" if picture.fallback_url else "potd.no_picture_note"
    return t(key, lang, reason=picture_reason(picture.code, lang))


class PhotoOfTheDay:
    """The scheduler's work, callable directly (tests drive ``tick`` with a controlled ``bot.clock``)."""

    def __init__(self, bot: Cupola, *, owner: str = delivery.OWNER, concurrency: int = 16) -> None:
        self.bot = bot
        self.owner = owner
        self.concurrency = concurrency
        self.cards = CardMaker(bot.images, bot.net, remember=self._remember)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._releases: set[asyncio.Task[Any]] = set()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    async def aclose(self) -> None:
        """Stop: interrupted posts that had not been sent are handed back for the next start."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Hand-backs run as their own tasks, so a second cancellation of a post cannot cut them short.
        await asyncio.gather(*list(self._releases), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Outcome]) -> asyncio.Task[Outcome]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ scheduled posts
    async def tick(self) -> list[Outcome]:
        """Post every due photo of the day for the servers this process owns."""
        if self._closed:
            return []
        async with self._lock:
            now = self.bot.clock()
            due = await self.bot.db.run(schedule.due_posts, now=now)
            mine = [d for d in due if self.bot.owns_guild(d.guild_id)]
            if not mine:
                return []
            log.info("photo of the day: %d server(s) due", len(mine))
            gate = asyncio.Semaphore(self.concurrency)
            tasks = [self._spawn(self._scheduled(d, gate)) for d in mine]
            return list(await asyncio.gather(*tasks))

    async def _scheduled(self, due: schedule.DuePost, gate: asyncio.Semaphore) -> Outcome:
        async with gate:
            try:
                prepared = await self.bot.db.run(
                    potd.prepare_post, due, now=self.bot.clock(), owner=self.owner
                )
            except Exception as exc:
                log.exception("guild %s: could not prepare the photo of the day", due.guild_id)
                return Outcome(due.guild_id, "failed", error=repr(exc))
            if prepared is None:
                return Outcome(due.guild_id, "skipped")
            return await self.deliver(prepared)

    # ------------------------------------------------------------------ extra posts
    async def post_now(self, guild_id: int, channel_id: int, request_id: int) -> Outcome | None:
        """/potd now: post an extra photo immediately; None when there is no photo to post."""
        prepared = await self.bot.db.run(
            potd.prepare_extra, guild_id, channel_id, request_id, now=self.bot.clock(), owner=self.owner
        )
        if prepared is None:
            return None
        return await self._spawn(self.deliver(prepared))

    # ------------------------------------------------------------------ posting
    def guild_lang(self, guild_id: int) -> str:
        guild = self.bot.get_guild(guild_id)
        return "zh" if guild is not None and is_chinese_locale(guild.preferred_locale) else "en"

    async def _remember(self, photo_id: int, processed: ProcessedImage, path: str) -> None:
        await self.bot.db.run(catalog.remember_image, photo_id, processed, path)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            await self.bot.pacer.wait()
            channel = await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise TypeError(f"channel {channel_id} cannot take messages")
        return channel

    async def _earlier_post(self, channel: discord.abc.Messageable, day: date) -> discord.Message | None:
        """Our post for ``day`` if an interrupted attempt made it after all (the nonce only lasts minutes)."""
        marker = potd_marker(day)
        me = self.bot.user.id if self.bot.user else None
        await self.bot.pacer.wait()
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if message.author.id != me:
                    continue
                if any(marker in ((e.footer.text if e.footer else None) or "") for e in message.embeds):
                    return message
        except discord.Forbidden:
            log.warning("cannot read the history of channel %s to check for an earlier post", channel)
        return None

    async def deliver(self, prepared: potd.Prepared) -> Outcome:
        """Post a prepared photo of the day and record the result; never raises (except cancellation)."""
        claim, photo, day = prepared.claim, prepared.photo, prepared.day
        base = {"guild_id": prepared.guild_id, "photo_id": photo.id, "channel_id": prepared.channel_id}
        lang = self.guild_lang(prepared.guild_id)
        sending = False
        try:
            channel = await self._channel(prepared.channel_id)
            if day is not None and prepared.maybe_posted:
                earlier = await self._earlier_post(channel, day)
                if earlier is not None:
                    log.info(
                        "guild %s: the post for %s was made by an earlier attempt", prepared.guild_id, day
                    )
                    await self.bot.db.run(delivery.mark_sent, claim.id, earlier.id, now=self.bot.clock())
                    return Outcome(status="recovered", message_id=earlier.id, **base)
            picture = await self.cards.card(photo, caption=photo.caption, credit=credit_line(photo, lang))
            file = None
            image_url = picture.fallback_url
            if picture.card is not None:
                name = f"potd-{day.isoformat() if day else 'extra'}-{photo.id}.jpg"
                file = discord.File(io.BytesIO(picture.card), filename=name)
                image_url = f"attachment://{name}"
            embed = potd_embed(photo, lang, day=day, image_url=image_url, note=picture_note(picture, lang))
            await self.bot.pacer.wait()
            sending = True  # from here on the message may reach Discord even if we are interrupted
            if file is not None:
                message = await channel.send(embed=embed, file=file, nonce=claim.nonce)
            else:
                message = await channel.send(embed=embed, nonce=claim.nonce)
            await record_posted(
                lambda: self.bot.db.run(delivery.mark_sent, claim.id, message.id, now=self.bot.clock()),
                what=f"photo of the day {claim.key} in channel {prepared.channel_id}",
                logger=log,
            )
            log.info(
                "guild %s: posted photo %s (%s) in channel %s%s",
                prepared.guild_id,
                photo.id,
                claim.kind,
                prepared.channel_id,
                "" if picture.ok else f" without its picture ({picture.code})",
            )
            return Outcome(status="sent", message_id=message.id, picture_code=picture.code, **base)
        except asyncio.CancelledError:
            if not sending:
                release = asyncio.create_task(self._release(claim))
                self._releases.add(release)
                release.add_done_callback(self._releases.discard)
            raise
        except (discord.NotFound, discord.Forbidden) as exc:
            error = f"{exc.status} {exc.text or type(exc).__name__}"
            log.warning(
                "guild %s: cannot post in channel %s: %s", prepared.guild_id, prepared.channel_id, error
            )
            await self._fail(claim, error, permanent=True)
            return Outcome(status="dropped", error=error, **base)
        except Exception as exc:
            log.warning("guild %s: posting failed, will retry: %r", prepared.guild_id, exc, exc_info=True)
            await self._fail(claim, repr(exc), permanent=False)
            return Outcome(status="failed", error=repr(exc), **base)

    async def _release(self, claim: delivery.Claim) -> None:
        try:
            await self.bot.db.run(potd.release, claim.id, "interrupted before posting")
        except Exception:
            log.warning(
                "could not hand back claim %s; it frees itself after its lease", claim.id, exc_info=True
            )

    async def _fail(self, claim: delivery.Claim, error: str, *, permanent: bool) -> None:
        try:
            await self.bot.db.run(delivery.mark_failed, claim.id, error, permanent=permanent)
        except Exception:
            log.warning("could not record the failure of claim %s", claim.id, exc_info=True)
