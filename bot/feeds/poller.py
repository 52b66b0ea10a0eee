"""Polling rounds: fetch the feeds that are due, queue their new albums, post what is queued.

One round (:meth:`FeedPoller.run_once`) is what the cog's loop runs every tick and what tests call
directly with a controlled clock:

1. claim due feeds in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes sharing a
   database never fetch the same feed), each feed fetched once however many servers watch it;
2. fetch them concurrently under a global bound and a per-host bound, conditional GET, then parse
   in a worker thread; new entries are recorded and queued for every subscribing channel in one
   transaction; failures back off and eventually pause the feed (subscribers are told why);
3. post the queued deliveries of the guilds this process owns, once each, paced.

The poller decides *what* to post (a :class:`FeedPost`: an album with its preview, the summary of an
overflow, a paused-feed notice) and hands it to a :class:`FeedSender`, which the cog layer provides
(``bot/senders.py``): the sender renders it in the server's language and posts it. The poller
imports nothing from ``bot/render/`` and holds only what a :class:`~bot.background.WorkerHost` offers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import aiohttp
import discord

from bot import delivery
from bot.faults import record_posted
from bot.feeds import store
from bot.feeds.albums import Album
from bot.feeds.fetch import fetch_feed
from bot.feeds.parse import FeedError, parse_feed_async
from bot.feeds.policy import HostLimiter
from bot.feeds.preview import Preview
from bot.feeds.service import FEED_MAX_BYTES, album_preview
from bot.feeds.template import Template
from bot.net import FetchError

if TYPE_CHECKING:
    from bot.background import WorkerHost

log = logging.getLogger(__name__)
T = TypeVar("T")

FETCH_CONCURRENCY = 16
PER_HOST = 2
PARSE_CONCURRENCY = 2
CLAIM_BATCH = 500
DELIVERY_BATCH = 200
UNCHANGED_BATCH = 100
BODY_MEMORY = 100_000


@dataclass
class RoundReport:
    """What one round did, for logs, tests and the benchmark."""

    claimed: int = 0
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    paused: int = 0
    new_entries: int = 0
    queued: int = 0
    posted: int = 0
    post_failures: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: RoundReport) -> None:
        for name in ("posted", "post_failures"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class FeedPost:
    """What one delivery posts: ``album`` (with its subscription's template and preview), the
    ``summary`` of the albums beyond what an update posts in full, or a ``paused`` feed's notice."""

    kind: Literal["album", "summary", "paused"]
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]
    album: Album | None = None
    template: Template | None = None
    preview: Preview | None = None


class FeedSender(Protocol):
    """Posts a :class:`FeedPost` in its channel (provided by the cog layer, which renders).

    ``send`` raises ``discord.HTTPException`` when Discord refuses (``NotFound`` / ``Forbidden``:
    the channel is gone or closed to the bot), ``aiohttp.ClientError`` / ``OSError`` on transport
    failures.
    """

    async def send(self, post: FeedPost, *, nonce: str) -> int:
        """Post it with the delivery's nonce; the message id."""
        ...

    async def find_earlier(self, post: FeedPost, claim: delivery.Claim) -> int | None:
        """The id of this post if an interrupted earlier attempt made it after all."""
        ...


class FeedPoller:
    def __init__(
        self,
        bot: WorkerHost,
        *,
        sender: FeedSender | None = None,
        concurrency: int = FETCH_CONCURRENCY,
        per_host: int = PER_HOST,
        claim_batch: int = CLAIM_BATCH,
        max_bytes: int = FEED_MAX_BYTES,
        deliver: bool = True,
    ) -> None:
        self.bot = bot
        self.sender = sender
        """None for a poller that only polls (``deliver=False``: benchmarks, tests)."""
        self.hosts = HostLimiter(per_host)
        self.claim_batch = claim_batch
        self.max_bytes = max_bytes
        self.deliver = deliver
        self._fetch_slots = asyncio.Semaphore(concurrency)
        self._parse_slots = asyncio.Semaphore(PARSE_CONCURRENCY)
        self._round = asyncio.Lock()
        self._unchanged: list[store.Unchanged] = []
        self._writers: asyncio.Semaphore | None = None
        self._last_body: dict[int, str | None] = {}
        """sha256 of the body each feed last had read and recorded, by feed id; the database keeps
        it too (``Feed.body_hash``), so a restarted process does not parse unchanged bodies again."""

    @property
    def interval(self) -> float:
        return float(self.bot.settings.feeds.poll_interval_seconds)

    @property
    def tick_seconds(self) -> float:
        """How often the loop looks for due feeds: a tenth of the interval, between 1 s and 1 min."""
        return min(60.0, max(1.0, self.interval / 10))

    # ----------------------------------------------------------------------------------------- rounds

    async def run_once(self) -> RoundReport:
        """One round: poll what is due, then post what is queued. Rounds never overlap."""
        async with self._round:
            report = RoundReport()
            await self.poll_due(report)
            if self.deliver:
                report.merge(await self.deliver_queued())
            if report.claimed or report.posted or report.post_failures:
                log.info(
                    "feed round: %s fetched (%s ok, %s unchanged, %s failed, %s paused), "
                    "%s new entries, %s posts queued, %s posted, %s post failures",
                    report.claimed,
                    report.ok,
                    report.not_modified,
                    report.failed,
                    report.paused,
                    report.new_entries,
                    report.queued,
                    report.posted,
                    report.post_failures,
                )
            return report

    async def poll_due(self, report: RoundReport) -> None:
        now = self.bot.clock()
        lease_until = now + timedelta(seconds=max(self.interval, 60.0))
        while True:
            batch = await self.bot.db.run(
                store.claim_due_feeds, now=now, lease_until=lease_until, limit=self.claim_batch
            )
            report.claimed += len(batch)
            try:
                await asyncio.gather(*(self._poll_guarded(feed, report) for feed in batch))
            finally:
                await self._flush_unchanged()
            if len(batch) < self.claim_batch:
                return

    async def _write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """A write transaction of the round. SQLite has one writer at a time: queueing here costs
        nothing, while threads contending for its lock sleep in its busy handler."""
        if self._writers is None:
            self._writers = asyncio.Semaphore(1 if self.bot.db.is_sqlite else 4)
        async with self._writers:
            return await self.bot.db.run(fn, *args, **kwargs)

    async def _flush_unchanged(self) -> None:
        """Record the buffered unchanged feeds in one statement: most of a round, at little cost."""
        items, self._unchanged = self._unchanged, []
        if items:
            await self._write(store.record_unchanged, items)

    async def _poll_guarded(self, feed: store.FeedSnapshot, report: RoundReport) -> None:
        """Nothing one feed does may break the round."""
        try:
            await self.poll_feed(feed, report)
        except Exception as exc:
            log.exception("feed %s (%s): unexpected error", feed.id, feed.fetch_url)
            report.errors.append(f"{feed.id}: {exc!r}")
            try:
                await self._failed(feed, "internal", report)
            except Exception:
                log.exception("feed %s: could not record the failure", feed.id)

    async def poll_feed(self, feed: store.FeedSnapshot, report: RoundReport) -> None:
        now = self.bot.clock()
        try:
            async with self._fetch_slots, self.hosts.limit(feed.fetch_url):
                fetched = await fetch_feed(
                    self.bot.net,
                    feed.fetch_url,
                    etag=feed.etag,
                    last_modified=feed.last_modified,
                    max_bytes=self.max_bytes,
                    now=now,
                )
        except FetchError as exc:
            log.info("feed %s (%s): %s", feed.id, feed.fetch_url, exc.code)
            await self._failed(feed, exc.code, report, status=exc.status, retry_after=exc.retry_after)
            return
        next_at = store.next_poll(now, self.interval, feed.id, cache_max_age=fetched.cache_max_age)
        digest = hashlib.sha256(fetched.body).hexdigest() if fetched.status == "ok" else None
        known = self._last_body.get(feed.id, feed.body_hash)
        if fetched.status == "not_modified" or (digest is not None and known == digest):
            # A 304, or the very bytes read last time (a server without validators): nothing to parse.
            self._unchanged.append(
                store.Unchanged(feed.id, fetched.etag, fetched.last_modified, now, next_at, fetched.status)
            )
            if fetched.status == "not_modified":
                report.not_modified += 1
            else:
                report.ok += 1
            if len(self._unchanged) >= UNCHANGED_BATCH:
                await self._flush_unchanged()
            return
        etag, last_modified = fetched.etag, fetched.last_modified
        moved_to = fetched.final_url if fetched.moved_permanently else None
        try:
            async with self._parse_slots:
                parsed = await parse_feed_async(
                    fetched.body, headers=dict(fetched.headers), base_url=fetched.final_url
                )
        except FeedError as exc:
            log.info("feed %s (%s): %s", feed.id, feed.fetch_url, exc.code)
            await self._failed(feed, exc.code, report)
            return
        finally:
            del fetched  # the body can be large: let it go before the database work
        result = await self._write(
            store.ingest,
            feed.id,
            parsed.entries,
            title=parsed.title,
            etag=etag,
            last_modified=last_modified,
            final_url=moved_to,
            now=now,
            next_poll_at=next_at,
            feed_link=parsed.link,
            body_hash=digest,
        )
        if len(self._last_body) >= BODY_MEMORY:
            self._last_body.clear()
        if digest is not None:
            self._last_body[feed.id] = digest
        report.ok += 1
        report.new_entries += result.new
        report.queued += result.deliveries

    async def _failed(
        self,
        feed: store.FeedSnapshot,
        code: str,
        report: RoundReport,
        *,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        result = await self._write(
            store.record_failure,
            feed.id,
            code=code,
            status=status,
            retry_after=retry_after,
            interval=self.interval,
            now=self.bot.clock(),
        )
        report.failed += 1
        if result is not None and result.paused:
            report.paused += 1

    # ----------------------------------------------------------------------------------------- posting

    async def deliver_queued(self) -> RoundReport:
        """Post the queued announcements and notices of the guilds this process owns."""
        report = RoundReport()
        now = self.bot.clock()
        queued = await self.bot.db.run(
            store.queued_deliveries,
            now=now,
            lease=delivery.LEASE,
            limit=DELIVERY_BATCH,
            shard_count=self.bot.shard_count or 1,
            shard_ids=self.bot.shard_ids,
        )
        previews: dict[str, Preview | None] = {}
        current_group = ""
        for item in queued:
            if item.guild_id is not None and not self.bot.owns_guild(item.guild_id):
                continue
            if item.group != current_group:
                previews.clear()  # one album at a time: its channels are listed together
                current_group = item.group
            try:
                await self._deliver(item, previews, report)
            except Exception:
                log.exception("delivery %s %s failed unexpectedly", item.kind, item.key)
                report.post_failures += 1
        return report

    async def _deliver(
        self, item: store.QueuedDelivery, previews: dict[str, Preview | None], report: RoundReport
    ) -> None:
        db = self.bot.db
        claim = await db.run(
            delivery.claim,
            item.kind,
            item.key,
            channel_id=item.channel_id,
            guild_id=item.guild_id,
            now=self.bot.clock(),
            owner=self.bot.claimer,
        )
        if claim is None:
            return
        if claim.attempts > store.MAX_ATTEMPTS:
            await db.run(delivery.mark_failed, claim.id, "gave up after repeated failures", permanent=True)
            report.post_failures += 1
            return
        if self.sender is None:
            raise RuntimeError("this poller has no sender: it was made to poll only (deliver=False)")
        post = await self._post_of(claim, item.group, previews)
        try:
            sent = await self.sender.find_earlier(post, claim) if claim.is_retry else None
            if sent is not None:
                log.info("%s %s was posted by an earlier attempt", claim.kind, claim.key)
            else:
                sent = await self.sender.send(post, nonce=claim.nonce)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("channel %s refused %s %s: %s", claim.channel_id, claim.kind, claim.key, exc)
            await db.run(delivery.mark_failed, claim.id, f"{exc.status} {exc.text}", permanent=True)
            if isinstance(exc, discord.NotFound) and exc.code == 10003:  # Unknown Channel: it is gone
                await db.run(store.forget_channel, claim.channel_id)
            report.post_failures += 1
            return
        except discord.HTTPException as exc:
            permanent = 400 <= exc.status < 500 and exc.status != 429
            log.warning("posting %s %s failed (%s): %s", claim.kind, claim.key, exc.status, exc.text)
            await db.run(delivery.mark_failed, claim.id, f"{exc.status} {exc.text}", permanent=permanent)
            report.post_failures += 1
            return
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("posting %s %s failed, will retry: %r", claim.kind, claim.key, exc)
            await db.run(delivery.mark_failed, claim.id, repr(exc))
            report.post_failures += 1
            return
        message_id = sent
        await record_posted(
            lambda: db.run(delivery.mark_sent, claim.id, message_id, now=self.bot.clock()),
            what=f"{claim.kind} {claim.key} in channel {claim.channel_id}",
            logger=log,
        )
        report.posted += 1

    async def _post_of(
        self, claim: delivery.Claim, group: str, previews: dict[str, Preview | None]
    ) -> FeedPost:
        """What the claimed delivery posts; an album's preview is made once per album and image choice."""
        payload = claim.payload
        if claim.kind == store.ALBUM and "summary" in payload:
            return FeedPost("summary", claim.channel_id, claim.guild_id, payload)
        if claim.kind != store.ALBUM:
            return FeedPost("paused", claim.channel_id, claim.guild_id, payload)
        if "album" in payload:
            album = Album.from_payload(payload["album"])
        else:  # queued by a version before albums were grouped
            album = Album.of_entry(store.entry_from_payload(payload.get("entry") or {}))
        template = Template.load(payload.get("template"))
        cache = f"{group}:{template.image}"
        if cache not in previews:
            previews[cache] = await album_preview(self.bot.net, album, template, hosts=self.hosts)
        return FeedPost("album", claim.channel_id, claim.guild_id, payload, album, template, previews[cache])
