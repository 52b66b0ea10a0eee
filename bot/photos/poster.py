"""Posting the photo of the day: a tick finds due servers, claims each one's day, renders the credit
card and posts it, paced under Discord's global limit by the bot's shared Pacer.

Exactly once per server and local day: the delivery claim (kind "potd", key "<guild>:<date>") is
taken before anything is posted, the message carries the claim's nonce, and a take-over of an
attempt that may already have posted first looks for that post in the channel.

The poster decides *what* to post (a :class:`PotdPost`: the photo, its day, and how to draw its credit
card) and hands it to a :class:`PotdSender`, which the cog layer provides (``bot/senders.py``): the
sender renders it in the server's language and posts it. Nothing here imports ``bot/render/``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, Protocol

import discord

from bot import delivery
from bot.media import ProcessedImage
from bot.photos import catalog, potd, schedule
from bot.photos.catalog import PhotoView
from bot.photos.pictures import CardMaker, Picture

if TYPE_CHECKING:
    from bot.background import WorkerHost

log = logging.getLogger(__name__)

Status = Literal["sent", "recovered", "skipped", "failed", "dropped"]
PREPARE_BATCH = 16


@dataclass(frozen=True, slots=True)
class Outcome:
    guild_id: int
    status: Status
    photo_id: int | None = None
    message_id: int | None = None
    channel_id: int | None = None
    picture_code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PotdPost:
    """A photo of the day to post: ``day`` None for an extra post (/potd now). ``draw`` makes the
    credit card with a credit line in the reader's language (cached per photo and line)."""

    guild_id: int
    channel_id: int
    photo: PhotoView
    day: date | None
    draw: Callable[[str], Awaitable[Picture]]


@dataclass(frozen=True, slots=True)
class PotdDraft:
    """A post rendered and ready to send: the picture it carries, and the message (the sender's own)."""

    picture: Picture
    message: Any


class PotdSender(Protocol):
    """Renders and posts a :class:`PotdPost` (provided by the cog layer).

    ``send`` raises ``discord.NotFound`` / ``discord.Forbidden`` when the channel is gone or closed
    to the bot (the post is dropped), anything else for a failure worth retrying.
    """

    async def draft(self, post: PotdPost) -> PotdDraft:
        """Render the post (draws its credit card); nothing is sent yet."""
        ...

    async def send(self, post: PotdPost, draft: PotdDraft, *, nonce: str) -> int:
        """Post the draft with the claim's nonce; the message id."""
        ...

    async def find_earlier(self, post: PotdPost, claim: delivery.Claim) -> int | None:
        """The id of this post if an interrupted earlier attempt made it after all."""
        ...


class PhotoOfTheDay:
    """The scheduler's work, callable directly (tests drive ``tick`` with a controlled ``bot.clock``)."""

    def __init__(
        self, bot: WorkerHost, *, sender: PotdSender, owner: str | None = None, concurrency: int = 16
    ) -> None:
        self.bot = bot
        self.sender = sender
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
    async def _remember(self, photo_id: int, processed: ProcessedImage, path: str) -> None:
        await self.bot.db.run(catalog.remember_image, photo_id, processed, path)

    async def deliver(self, prepared: potd.Prepared) -> Outcome:
        """Post a prepared photo of the day and record the result; never raises (except cancellation)."""
        claim, photo, day = prepared.claim, prepared.photo, prepared.day
        base: dict[str, Any] = {
            "guild_id": prepared.guild_id,
            "photo_id": photo.id,
            "channel_id": prepared.channel_id,
        }
        post = PotdPost(
            prepared.guild_id,
            prepared.channel_id,
            photo,
            day,
            lambda credit: self.cards.card(photo, caption=photo.caption, credit=credit),
        )
        sending = False
        try:
            if day is not None and prepared.maybe_posted:
                earlier = await self.sender.find_earlier(post, claim)
                if earlier is not None:
                    log.info(
                        "guild %s: the post for %s was made by an earlier attempt", prepared.guild_id, day
                    )
                    await self.bot.db.run(delivery.mark_sent, claim.id, earlier, now=self.bot.clock())
                    return Outcome(status="recovered", message_id=earlier, **base)
            draft = await self.sender.draft(post)
            picture = draft.picture
            sending = True  # from here on the message may reach Discord even if we are interrupted
            message_id = await self.sender.send(post, draft, nonce=claim.nonce)
            await self.sent.mark(claim.id, message_id, now=self.bot.clock())
            log.info(
                "guild %s: posted photo %s (%s) in channel %s%s",
                prepared.guild_id,
                photo.id,
                claim.kind,
                prepared.channel_id,
                "" if picture.ok else f" without its picture ({picture.code})",
            )
            return Outcome(status="sent", message_id=message_id, picture_code=picture.code, **base)
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
