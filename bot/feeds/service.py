"""What the /feed commands do, without Discord: validate an address by fetching and parsing it
once, subscribe a channel, unsubscribe. Refusals are :class:`UserFacingError` with a catalog key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db import Database
from bot.errors import UserFacingError
from bot.feeds import store
from bot.feeds.fetch import FeedFetch, fetch_feed
from bot.feeds.parse import Entry, FeedError, ParsedFeed, parse_feed_async
from bot.i18n import MESSAGES, t
from bot.net import FetchError, InvalidUrlError, SafeHttp, status_text

log = logging.getLogger(__name__)

FEED_MAX_BYTES = 4 * 1024 * 1024
"""Bytes read per feed document; real album feeds are a few hundred KiB at most."""


@dataclass(frozen=True, slots=True)
class CheckedFeed:
    url: str
    """The address as stored: normalised, fragment removed."""
    fetch: FeedFetch
    parsed: ParsedFeed

    @property
    def title(self) -> str:
        return self.parsed.title or self.url


def refusal_key(code: str, status: int | None) -> tuple[str, dict[str, Any]]:
    """The catalog key (and its parameters) telling an admin why a feed address was not accepted."""
    if code == "http_error" and status is not None:
        params = {"status": status_text(status)}
        if status in (404, 410, 429):
            return f"feeds.refuse.http_{status}", {}
        if status in (401, 403):
            return "feeds.refuse.http_denied", params
        if status >= 500:
            return "feeds.refuse.http_5xx", params
        return "feeds.refuse.http", params
    key = f"feeds.refuse.{code}"
    return (key, {}) if key in MESSAGES else ("feeds.refuse.connection_failed", {})


def refusal(exc: FetchError | FeedError, url: str) -> UserFacingError:
    """A polite, specific refusal for an address that cannot be watched; the reason is logged."""
    status = exc.status if isinstance(exc, FetchError) else None
    key, params = refusal_key(exc.code, status)
    log.info("feed address %s refused: %s (%s)", url, exc.code, exc)
    return UserFacingError(t(key, "en", **params), key=key, **params)


MAX_URL_LENGTH = 2000


def normalise_url(http: SafeHttp, url: str) -> str:
    """The address as stored: checked (scheme, host, private addresses), fragment dropped."""
    try:
        if len(url) > MAX_URL_LENGTH:
            raise InvalidUrlError(message="The address is too long.", url=url[:200])
        parsed = http.check_url(url.strip())
    except FetchError as exc:
        raise refusal(exc, url[:200]) from None
    return str(parsed.with_fragment(None))


async def check_feed(http: SafeHttp, url: str, *, max_bytes: int = FEED_MAX_BYTES) -> CheckedFeed:
    """Fetch and parse ``url`` once; raises UserFacingError saying exactly what is wrong."""
    url = normalise_url(http, url)
    try:
        fetched = await fetch_feed(http, url, max_bytes=max_bytes)
        parsed = await parse_feed_async(
            fetched.body, headers=dict(fetched.headers), base_url=fetched.final_url
        )
    except (FetchError, FeedError) as exc:
        raise refusal(exc, url) from None
    return CheckedFeed(url, fetched, parsed)


def latest(entries: tuple[Entry, ...] | list[Entry]) -> Entry | None:
    ordered = store.newest_first(entries)
    return ordered[0] if ordered else None


async def watch_feed(
    *,
    db: Database,
    http: SafeHttp,
    clock: Callable[[], datetime],
    interval: float,
    url: str,
    guild_id: int,
    channel_id: int,
    role_id: int | None,
    user_id: int | None,
    backfill: int = 0,
) -> store.WatchResult:
    """Validate the feed, then subscribe the channel (marking what it holds as seen)."""
    checked = await check_feed(http, url)
    fetched = checked.fetch
    result = await db.run(
        store.watch,
        checked.url,
        checked.parsed.entries,
        guild_id=guild_id,
        channel_id=channel_id,
        role_id=role_id,
        user_id=user_id,
        title=checked.title,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        final_url=fetched.final_url if fetched.moved_permanently else None,
        backfill=backfill,
        interval=interval,
        now=clock(),
    )
    log.info(
        "guild %s watches feed %s (%s) in channel %s: %s items, backfill %s",
        guild_id,
        result.feed_id,
        checked.url,
        channel_id,
        result.item_count,
        result.backfill,
    )
    return result


async def find_subscription(db: Database, guild_id: int, ref: str) -> store.SubscriptionView:
    view = await db.run(store.find_subscription, guild_id, ref)
    if view is None:
        raise UserFacingError(t("feeds.unknown", "en"), key="feeds.unknown")
    return view


async def unwatch_feed(db: Database, guild_id: int, ref: str) -> store.SubscriptionView:
    view = await find_subscription(db, guild_id, ref)
    removed = await db.run(store.unwatch, guild_id, view.id)
    if removed is None:
        raise UserFacingError(t("feeds.unknown", "en"), key="feeds.unknown")
    log.info("guild %s stopped watching feed %s in channel %s", guild_id, view.feed_id, view.channel_id)
    return removed
