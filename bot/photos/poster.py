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
from bot.i18n import is_chinese_locale, t
from bot.media import ProcessedImage
from bot.photos import catalog, potd, schedule
from bot.photos.pictures import CardMaker, Picture
from bot.render.photos import credit_line, potd_embed, potd_marker

if TYPE_CHECKING:
    from bot.core import Cupola

log = logging.getLogger(__name__)

Status = Literal["sent", "recovered", "skipped", "failed", "dropped"]
PREPARE_BATCH = 16
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

    def __init__(self, bot: Cupola, *, owner: str | None = None, concurrency: int = 16) -> None:
        self.bot = bot
        self.owner = owner or bot.claimer
        self.concurrency = concurrency
        self.cards = CardMaker(bot.images, bot.net, remember=self._remember)
        self.sent = delivery.SentBatcher(bot.db)
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
        await self.sent.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, Outcome]) -> asyncio.Task[Outcome]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ scheduled posts
    async def tick(self) -> list[Outcome]:
        """Post every due photo of the day for the servers this process owns.

        The servers are claimed in batches (one transaction each), only a little ahead of what is
        being posted: a process killed mid-way leaves few claims that need a look in the channel.
        """
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
            ahead = asyncio.Semaphore(self.concurrency + PREPARE_BATCH)
            tasks: list[asyncio.Task[Outcome]] = []
            outcomes: list[Outcome] = []
            for start in range(0, len(mine), PREPARE_BATCH):
                batch = mine[start : start + PREPARE_BATCH]
                for _ in batch:
                    await ahead.acquire()
                try:
                    prepared = await self.bot.db.run(
                        potd.prepare_posts, batch, now=self.bot.clock(), owner=self.owner
                    )
                except Exception as exc:
                    log.exception("could not prepare %d photo(s) of the day", len(batch))
                    outcomes += [Outcome(d.guild_id, "failed", error=repr(exc)) for d in batch]
                    for _ in batch:
                        ahead.release()
                    continue
                for item, dp in zip(prepared, batch, strict=True):
                    if item is None:
                        outcomes.append(Outcome(dp.guild_id, "skipped"))
                        ahead.release()
                        continue
                    tasks.append(self._spawn(self._post(item, gate, ahead)))
            return outcomes + list(await asyncio.gather(*tasks))

    async def _post(
        self, prepared: potd.Prepared, gate: asyncio.Semaphore, ahead: asyncio.Semaphore
    ) -> Outcome:
        try:
            async with gate:
                return await self.deliver(prepared)
        finally:
            ahead.release()

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

    def _channel(self, channel_id: int, guild_id: int) -> discord.abc.Messageable:
        """A partial channel: no walk over every guild (Client.get_channel), no REST call; a channel
        that is gone answers 404 on the post itself."""
        return self.bot.get_partial_messageable(channel_id, guild_id=guild_id)

    async def _earlier_post(
        self, channel: discord.abc.Messageable, claim: delivery.Claim, day: date
    ) -> discord.Message | None:
        """Our post for ``day`` if an interrupted attempt made it after all (same nonce, or its footer)."""
        marker = potd_marker(day)

        def ours(message: discord.Message) -> bool:
            return any(marker in ((e.footer.text if e.footer else None) or "") for e in message.embeds)

        me = self.bot.user.id if self.bot.user else None
        return await delivery.find_earlier(channel, claim, me=me, marker=ours)

    async def deliver(self, prepared: potd.Prepared) -> Outcome:
        """Post a prepared photo of the day and record the result; never raises (except cancellation)."""
        claim, photo, day = prepared.claim, prepared.photo, prepared.day
        base: dict[str, Any] = {
            "guild_id": prepared.guild_id,
            "photo_id": photo.id,
            "channel_id": prepared.channel_id,
        }
        lang = self.guild_lang(prepared.guild_id)
        sending = False
        try:
            channel = self._channel(prepared.channel_id, prepared.guild_id)
            if day is not None and prepared.maybe_posted:
                earlier = await self._earlier_post(channel, claim, day)
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
            sending = True  # from here on the message may reach Discord even if we are interrupted
            if file is not None:
                message = await channel.send(embed=embed, file=file, nonce=claim.nonce)
            else:
                message = await channel.send(embed=embed, nonce=claim.nonce)
            await self.sent.mark(claim.id, message.id, now=self.bot.clock())
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
