"""What the /feed commands do, without Discord: validate an address by fetching and parsing it
once, subscribe a channel, unsubscribe. Refusals are :class:`UserFacingError` with a catalog key."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urljoin

from bot.db import Database
from bot.errors import UserFacingError
from bot.feeds import store
from bot.feeds import template as templating
from bot.feeds.albums import Album, groups_of
from bot.feeds.fetch import FeedFetch, fetch_feed
from bot.feeds.filters import EntryFilter, Verdict, parse_terms
from bot.feeds.parse import (
    Entry,
    FeedError,
    ParsedFeed,
    discover_feed_links,
    looks_like_html,
    parse_feed_async,
)
from bot.feeds.policy import HostLimiter
from bot.feeds.preview import Preview, build_preview
from bot.feeds.template import Template, TemplateError
from bot.i18n import MESSAGES
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
    page: str | None = None
    """The web page the feed was discovered from, when the address given was a page."""

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
    return UserFacingError(key=key, **params)


MAX_URL_LENGTH = 2000


def normalise_url(http: SafeHttp, url: str) -> str:
    """The address as stored: checked (scheme, host, private addresses), fragment dropped."""
    try:
        if len(url) > MAX_URL_LENGTH:
            raise InvalidUrlError("net.too_long", url=url[:200])
        parsed = http.check_url(url.strip())
    except FetchError as exc:
        raise refusal(exc, url[:200]) from None
    return str(parsed.with_fragment(None))


async def check_feed(
    http: SafeHttp, url: str, *, max_bytes: int = FEED_MAX_BYTES, discover: bool = True
) -> CheckedFeed:
    """Fetch and parse ``url`` once; raises UserFacingError saying exactly what is wrong.

    With ``discover``, a web page is searched for the feed it names (see :func:`discover_feed`).
    """
    url = normalise_url(http, url)
    try:
        fetched = await fetch_feed(http, url, max_bytes=max_bytes)
    except FetchError as exc:
        raise refusal(exc, url) from None
    try:
        parsed = await parse_feed_async(
            fetched.body, headers=dict(fetched.headers), base_url=fetched.final_url
        )
    except FeedError as exc:
        content_type = fetched.headers.get("Content-Type", "")
        if discover and exc.code == "not_a_feed" and looks_like_html(fetched.body, content_type):
            return await discover_feed(http, url, fetched, max_bytes=max_bytes)
        raise refusal(exc, url) from None
    return CheckedFeed(url, fetched, parsed)


COMMON_FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml")
"""Tried on the page's site when the page itself names no feed."""
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class FeedOption:
    url: str
    title: str


async def _try(http: SafeHttp, url: str, max_bytes: int) -> CheckedFeed | None:
    try:
        return await check_feed(http, url, max_bytes=max_bytes, discover=False)
    except UserFacingError as exc:
        log.info("feed candidate %s not usable: %s", url, exc.key)
        return None


async def discover_feed(http: SafeHttp, page: str, fetched: FeedFetch, *, max_bytes: int) -> CheckedFeed:
    """The feed behind a web page: the RSS/Atom feeds its ``<link rel="alternate">`` names, else
    the common feed paths of its site. One feed that works is used; several are offered (the
    admin picks one); none is refused with a message saying the page names no readable feed."""
    links = await asyncio.to_thread(discover_feed_links, fetched.body, fetched.final_url)
    named = bool(links)
    urls = [link.url for link in links[:MAX_CANDIDATES]]
    if not urls:
        urls = [urljoin(fetched.final_url, path) for path in COMMON_FEED_PATHS]
    working: list[CheckedFeed] = []
    for url in urls:
        checked = await _try(http, url, max_bytes)
        if checked is not None:
            working.append(dataclasses.replace(checked, page=page))
            if not named:  # guessed paths: the first that answers is the site's feed
                break
    if len(working) == 1:
        log.info("feed discovered on %s: %s", page, working[0].url)
        return working[0]
    if working:
        options = "\n".join(f"- {c.title[:100]}: {c.url}" for c in working)
        raise UserFacingError(key="feeds.discover.several", count=len(working), options=options)
    key = "feeds.refuse.page_unreadable" if named else "feeds.refuse.page_no_feed"
    raise UserFacingError(key=key)


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
        partial(
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
            feed_link=checked.parsed.link,
        )
    )
    if checked.page:
        result = dataclasses.replace(result, page=checked.page, url=checked.url)
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
    view = await db.run(partial(store.find_subscription, guild_id, ref))
    if view is None:
        raise UserFacingError(key="feeds.unknown")
    return view


async def unwatch_feed(db: Database, guild_id: int, ref: str) -> store.SubscriptionView:
    view = await find_subscription(db, guild_id, ref)
    removed = await db.run(partial(store.unwatch, guild_id, view.id))
    if removed is None:
        raise UserFacingError(key="feeds.unknown")
    log.info("guild %s stopped watching feed %s in channel %s", guild_id, view.feed_id, view.channel_id)
    return removed


# --------------------------------------------------------------------------------------------- settings


async def album_preview(
    http: SafeHttp, album: Album, template: Template, *, hosts: HostLimiter | None = None
) -> Preview | None:
    """The picture an announcement shows, as its template asks: a collage, one image, or none."""
    if template.image == "none":
        return None
    entry = album.as_entry()
    if template.image == "single":
        entry = dataclasses.replace(entry, images=entry.images[:1], photos=entry.images[:1])
    return await build_preview(http, entry, hosts=hosts)


def latest_album(parsed: ParsedFeed, entry_filter: EntryFilter | None = None) -> Album | None:
    """The newest album of a document (grouped as the poller groups), passing ``entry_filter``."""
    albums = store.albums_for(
        groups_of(list(parsed.entries), feed_link=parsed.link), entry_filter or EntryFilter()
    )
    return albums[-1] if albums else None


@dataclass(frozen=True, slots=True)
class EditResult:
    view: store.SubscriptionView
    changed: tuple[str, ...]
    """Names of what changed: channel, role, paused, include, exclude, template."""
    checked_against: str | None = None
    """Title of the latest album the template was checked against (None: not checked)."""


def _template_checked(template: Template, checked: CheckedFeed | None, role_id: int | None) -> str | None:
    """Check the template against the feed's latest album; raise naming the part that is too long."""
    if checked is None:
        return None
    album = latest_album(checked.parsed)
    if album is None:
        return None
    values = templating.values_for(album, feed_title=checked.title, role_id=role_id)
    for part, length, limit in templating.overlong(template, values):
        names = templating.part_names(part)
        raise TemplateError(
            key="feeds.template.over_limit",
            length=length,
            limit=limit,
            **names,
        )
    return album.title


async def edit_feed(
    *,
    db: Database,
    http: SafeHttp,
    clock: Callable[[], datetime],
    guild_id: int,
    ref: str,
    channel_id: int | None = None,
    role_id: int | object | None = store.KEEP,
    paused: bool | None = None,
    include: str | None = None,
    exclude: str | None = None,
    clear_filters: bool = False,
    template: dict[str, Any] | None = None,
    reset_template: bool = False,
) -> EditResult:
    """/feed edit, /feed filter and /feed template: validate every change, then apply them at once.

    Filters are parsed (too many or too long terms refused); a template is parsed (unknown
    placeholders and stray braces named) and checked against the feed's latest album for
    Discord's length limits. Seen entries are untouched: nothing seen is announced again.
    """
    view = await find_subscription(db, guild_id, ref)
    changed: list[str] = []
    include_terms: tuple[str, ...] | None = None
    exclude_terms: tuple[str, ...] | None = None
    if clear_filters:
        include_terms, exclude_terms = (), ()
        changed += ["include", "exclude"]
    if include is not None:
        include_terms = parse_terms(include, what="include")
        changed.append("include")
    if exclude is not None:
        exclude_terms = parse_terms(exclude, what="exclude")
        changed.append("exclude")
    new_template = None
    checked_against = None
    if reset_template:
        new_template = Template()
        changed.append("template")
    if template:
        new_template = (new_template or view.template).with_changes(**template)
        changed.append("template")
        try:
            checked = await check_feed(http, view.url, discover=False)
        except UserFacingError:
            checked = None  # the feed cannot be read right now: the syntax was checked
        effective_role = view.role_id if role_id is store.KEEP else role_id
        checked_against = _template_checked(new_template, checked, effective_role)  # type: ignore[arg-type]
    if channel_id is not None and channel_id != view.channel_id:
        changed.append("channel")
    if role_id is not store.KEEP and role_id != view.role_id:
        changed.append("role")
    if paused is not None and paused != view.sub_paused:
        changed.append("paused")
    updated = await db.run(
        partial(
            store.edit_subscription,
            guild_id,
            view.id,
            channel_id=channel_id,
            role_id=role_id,
            paused=paused,
            include=include_terms,
            exclude=exclude_terms,
            template=new_template,
            now=clock(),
        )
    )
    if updated is None:
        raise UserFacingError(key="feeds.unknown")
    log.info("guild %s edited subscription %s: %s", guild_id, view.id, ", ".join(changed) or "nothing")
    return EditResult(updated, tuple(dict.fromkeys(changed)), checked_against)


TEST_ITEMS = 10
"""Latest items /feed test explains."""


@dataclass(frozen=True, slots=True)
class FeedTest:
    title: str
    url: str
    view: store.SubscriptionView | None
    verdicts: list[tuple[Entry, Verdict]] = field(default_factory=list)
    album: Album | None = None
    preview: Preview | None = None
    template: Template = field(default_factory=Template)
    problems: list[tuple[str, int, int]] = field(default_factory=list)
    """Template parts over Discord's limits with this album (clipped when posted)."""
    page: str | None = None


async def try_feed(
    *, db: Database, http: SafeHttp, guild_id: int, ref: str, hosts: HostLimiter | None = None
) -> FeedTest:
    """/feed test: the latest items with the subscription's filter verdicts, and the newest album
    that passes, rendered as it would be posted (its template and picture)."""
    view = None
    url = ref
    if ref.strip().isdigit():
        view = await find_subscription(db, guild_id, ref)
        url = view.url
    checked = await check_feed(http, url)
    entry_filter = view.filter if view else EntryFilter()
    template = view.template if view else Template()
    latest = store.newest_first(list(checked.parsed.entries))[:TEST_ITEMS]
    verdicts = [(entry, entry_filter.check(entry)) for entry in latest]
    album = latest_album(checked.parsed, entry_filter)
    preview = None
    problems: list[tuple[str, int, int]] = []
    if album is not None:
        preview = await album_preview(http, album, template, hosts=hosts)
        values = templating.values_for(
            album, feed_title=checked.title, role_id=view.role_id if view else None
        )
        problems = templating.overlong(template, values)
    return FeedTest(
        checked.title, checked.url, view, verdicts, album, preview, template, problems, checked.page
    )


class FeedService:
    """What each /feed command does, start to finish; built once by the bot (``bot.feeds``).

    The poller (the cog's background loop) stays the cog's: a command that queued posts hands
    them to it through ``deliver``, and ``/feed test`` fetches under its per-host limits.
    ``http`` and ``clock`` give the bot's current client and time (tests swap both).
    """

    def __init__(
        self,
        *,
        db: Database,
        http: Callable[[], SafeHttp],
        clock: Callable[[], datetime],
        interval: float,
    ) -> None:
        self.db = db
        self.http = http
        self.clock = clock
        self.interval = interval

    async def subscriptions(self, guild_id: int) -> list[store.SubscriptionView]:
        return await self.db.run(partial(store.guild_subscriptions, guild_id))

    async def status(self, guild_id: int, ref: str | None) -> list[store.SubscriptionView]:
        """One subscription (``ref``), or every one of the server's."""
        if ref:
            return [await find_subscription(self.db, guild_id, ref)]
        return await self.subscriptions(guild_id)

    async def watch(
        self,
        *,
        url: str,
        guild_id: int,
        channel_id: int,
        role_id: int | None,
        user_id: int | None,
        backfill: int,
        deliver: Callable[[], Awaitable[object]],
    ) -> store.WatchResult:
        """Validate and subscribe; posts it queued (backfill, an album announced elsewhere) go out
        through ``deliver`` before the reply."""
        result = await watch_feed(
            db=self.db,
            http=self.http(),
            clock=self.clock,
            interval=self.interval,
            url=url,
            guild_id=guild_id,
            channel_id=channel_id,
            role_id=role_id,
            user_id=user_id,
            backfill=backfill,
        )
        if result.backfill or result.announced_elsewhere:
            await deliver()
        return result

    async def unwatch(self, guild_id: int, ref: str) -> store.SubscriptionView:
        return await unwatch_feed(self.db, guild_id, ref)

    async def edit(self, guild_id: int, ref: str, **changes: Any) -> EditResult:
        return await edit_feed(
            db=self.db, http=self.http(), clock=self.clock, guild_id=guild_id, ref=ref, **changes
        )

    async def test(self, guild_id: int, ref: str, *, hosts: HostLimiter | None = None) -> FeedTest:
        return await try_feed(db=self.db, http=self.http(), guild_id=guild_id, ref=ref, hosts=hosts)
