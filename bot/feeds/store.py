"""Watched feeds in the database: subscriptions, seen entries, the polling schedule, queued posts.

Plain synchronous functions taking ``session=`` keyword-only; call them through ``Database.run``.
Announcements are queued as Delivery rows in the same transaction that records the entries as seen,
so a crash between "seen" and "posted" loses nothing: the queued rows are posted on a later round,
by whichever process owns the channel's guild.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, exists, false, func, literal_column, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import delivery
from bot.cluster import HEARTBEAT_TIMEOUT
from bot.errors import UserFacingError
from bot.feeds.albums import MIN_STEM, STREAM_WINDOW, Album, groups_of, make_album, title_stem
from bot.feeds.filters import EntryFilter, dump_terms, fold
from bot.feeds.parse import Entry
from bot.feeds.policy import failure_code, next_poll_time, should_pause, slot_time, stagger_offset
from bot.feeds.template import Template
from bot.models import Delivery, Feed, FeedEntry, Subscription, Worker

log = logging.getLogger(__name__)

ALBUM = "album"
"""Delivery kind of an album announcement."""
NOTICE = "feed_notice"
"""Delivery kind of a message telling a channel that its feed was paused."""
KINDS = (ALBUM, NOTICE)

MAX_FEEDS_PER_GUILD = 25
"""Subscriptions per server: also what one autocomplete answer can list."""
MAX_ANNOUNCE_PER_POLL = 10
"""New entries announced per feed and poll; a feed that suddenly shows hundreds is not a flood."""
MAX_ENTRIES_PER_DOCUMENT = 500
"""Entries of one document looked at; the rest of a giant feed is ignored."""
MAX_BACKFILL = 10
MAX_ATTEMPTS = 5
"""Posting attempts per delivery before it is dropped."""

_IN_CHUNK = 500
_MAX_DELIVERY_KEY = 300


# --------------------------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    """What the poller needs to fetch one feed; taken when the feed is claimed."""

    id: int
    url: str
    fetch_url: str
    etag: str | None
    last_modified: str | None
    failures: int
    body_hash: str | None = None
    """sha256 (hex) of the body last read: the same bytes again are not parsed."""


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """One server's subscription with its feed's state, for /feed list, status and autocomplete."""

    id: int
    feed_id: int
    guild_id: int
    channel_id: int
    role_id: int | None
    url: str
    title: str | None
    paused: bool
    paused_reason: str | None
    last_fetch_at: datetime | None
    last_status: str | None
    last_error: str | None
    next_poll_at: datetime
    item_count: int
    failures: int
    sub_paused: bool = False
    """Paused by an admin (/feed edit): nothing is announced, seen entries are kept current."""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    template: Template = field(default_factory=Template)

    @property
    def label(self) -> str:
        return self.title or self.url

    @property
    def filter(self) -> EntryFilter:
        return EntryFilter(self.include, self.exclude)


@dataclass(frozen=True, slots=True)
class WatchResult:
    subscription_id: int
    feed_id: int
    title: str
    item_count: int
    backfill: int
    resumed: bool
    announced_elsewhere: int = 0
    """New entries found while validating, queued for the feed's other subscribers."""
    page: str | None = None
    """The web page the admin gave, when the feed was discovered on it."""
    url: str | None = None
    """The feed's own address, when discovered."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    new: int
    announced: int
    deliveries: int


@dataclass(frozen=True, slots=True)
class FailureResult:
    failures: int
    paused: bool
    """True when this failure paused the feed (it was not paused before)."""
    next_poll_at: datetime


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    kind: str
    key: str
    channel_id: int
    guild_id: int | None
    group: str
    """Deliveries of one entry share a group, so its preview is built once for all channels."""


# --------------------------------------------------------------------------------------------- helpers


def _now_aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delivery_key(feed_id: int, channel_id: int, entry_key: str) -> str:
    """``<feed id>:<channel id>:<entry key>``, the entry key hashed if it would not fit the column."""
    key = f"{feed_id}:{channel_id}:{entry_key}"
    if len(key) <= _MAX_DELIVERY_KEY:
        return key
    return f"{feed_id}:{channel_id}:sha256:{hashlib.sha256(entry_key.encode('utf-8')).hexdigest()}"


def entry_payload(entry: Entry) -> dict[str, Any]:
    """The part of an Entry an announcement shows, as JSON (stored with the queued delivery)."""
    return {
        "key": entry.key,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
        "description": entry.description_text,
        "credit": entry.credit,
        "images": list(entry.images[:8]),
        "thumbnail": entry.thumbnail,
    }


def entry_from_payload(data: dict[str, Any]) -> Entry:
    published = data.get("published")
    return Entry(
        key=str(data.get("key") or ""),
        title=str(data.get("title") or ""),
        link=data.get("link"),
        published=datetime.fromisoformat(published) if published else None,
        description_text=str(data.get("description") or ""),
        credit=data.get("credit"),
        images=tuple(data.get("images") or ()),
        thumbnail=data.get("thumbnail"),
    )


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Entries by publication date, newest first; undated ones keep their place in the document
    (feeds list newest first) after the dated ones."""
    indexed = list(enumerate(entries))
    dated = sorted(
        (p for p in indexed if p[1].published), key=lambda p: (p[1].published, -p[0]), reverse=True
    )
    undated = [p for p in indexed if not p[1].published]
    return [e for _, e in dated + undated]


def next_poll(
    now: datetime,
    interval: float,
    feed_id: int,
    *,
    cache_max_age: int | None = None,
    retry_after: int | None = None,
    failures: int = 0,
) -> datetime:
    """When to poll next: the policy's delay; a plain interval lands on the feed's own slot, so
    feeds stay spread over the interval even after a restart made them all due at once."""
    plain = next_poll_time(now, interval)
    when = next_poll_time(
        now, interval, cache_max_age=cache_max_age, retry_after=retry_after, failures=failures
    )
    if when == plain:
        delay = (plain - now).total_seconds()
        return slot_time(plain, stagger_offset(str(feed_id), delay), delay)
    return when


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unique_entries(entries: Sequence[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for entry in entries[:MAX_ENTRIES_PER_DOCUMENT]:
        if entry.key not in seen:
            seen.add(entry.key)
            out.append(entry)
    return out


def _known_entries(feed_id: int, keys: Sequence[str], *, session: Session) -> dict[str, str | None]:
    known: dict[str, str | None] = {}
    for chunk in _chunks(keys):
        rows = session.exec(
            select(FeedEntry.key, FeedEntry.fingerprint).where(
                col(FeedEntry.feed_id) == feed_id, col(FeedEntry.key).in_(chunk)
            )
        ).all()
        known.update({key: fingerprint for key, fingerprint in rows})
    return known


def _recognised(feed_id: int, new: Sequence[Entry], document_keys: set[str], *, session: Session) -> set[str]:
    """Keys of ``new`` entries that are entries seen before under another guid (so not news):

    - the same content hash (title, text and pictures) as a seen entry, or as an earlier entry of
      this document;
    - the same link as seen entries none of which is still in the document under its own key (the
      publisher re-guided it). While one of them is still listed, the link is an album's and a new
      photo added to that album is news, even once older photos leave a feed that lists only the
      latest items.
    """
    hashes = [e.content_hash for e in new if e.content_hash]
    links = [e.link[:2000] for e in new if e.link]
    seen_hashes: set[str | None] = set()
    for chunk in _chunks(list(dict.fromkeys(hashes))):
        seen_hashes.update(
            session.exec(
                select(FeedEntry.content_hash).where(
                    col(FeedEntry.feed_id) == feed_id, col(FeedEntry.content_hash).in_(chunk)
                )
            ).all()
        )
    listed: dict[str, bool] = {}
    """Seen links → whether some entry seen under that link is still in the document."""
    for chunk in _chunks(list(dict.fromkeys(links))):
        rows = session.exec(
            select(FeedEntry.link, FeedEntry.key).where(
                col(FeedEntry.feed_id) == feed_id, col(FeedEntry.link).in_(chunk)
            )
        ).all()
        for link, key in rows:
            if link:
                listed[link] = listed.get(link, False) or key in document_keys
    relinked = {link for link, still_listed in listed.items() if not still_listed}
    out: set[str] = set()
    for entry in new:
        if entry.content_hash and entry.content_hash in seen_hashes:
            out.add(entry.key)
        elif entry.link and entry.link[:2000] in relinked:
            out.add(entry.key)
        if entry.content_hash:
            seen_hashes.add(entry.content_hash)
    return out


def _record_entries(
    feed_id: int, entries: Sequence[Entry], *, now: datetime, session: Session
) -> list[Entry]:
    """Store unseen entries; returns those that are news (document order). Entries seen before are
    left alone, except their fingerprint, kept current so an edit is not mistaken for news later.
    An unseen key that is a seen entry under a new guid (see :func:`_recognised`) is stored, so it
    is known by its new key from now on, but is not news."""
    entries = _unique_entries(entries)
    for attempt in range(2):
        known = _known_entries(feed_id, [e.key for e in entries], session=session)
        new = [e for e in entries if e.key not in known]
        again = _recognised(feed_id, new, {e.key for e in entries}, session=session) if new else set()
        if again:
            log.info("feed %s: %s entries are seen entries under a new guid", feed_id, len(again))
        try:
            with session.begin_nested():
                for entry in new:
                    session.add(
                        FeedEntry(
                            feed_id=feed_id,
                            key=entry.key,
                            fingerprint=entry.fingerprint or None,
                            title=_clip(entry.title, 500),
                            link=_clip(entry.link, 2000),
                            published=entry.published,
                            first_seen_at=now,
                            content_hash=entry.content_hash or None,
                        )
                    )
        except IntegrityError:
            if attempt:
                raise
            log.info("feed %s: entries recorded concurrently, reading them again", feed_id)
            continue
        changed = [e for e in entries if e.key in known and known[e.key] != (e.fingerprint or None)]
        if changed:  # an edit: remember it (one executemany), never announce it again
            table: Table = FeedEntry.__table__  # type: ignore[attr-defined]  # SQLModel's stubs lack the __table__ every table model has
            session.execute(
                update(table)
                .where(table.c.feed_id == feed_id, table.c.key == bindparam("b_key"))
                .values(fingerprint=bindparam("b_fingerprint"), title=bindparam("b_title")),
                [
                    {"b_key": e.key, "b_fingerprint": e.fingerprint or None, "b_title": _clip(e.title, 500)}
                    for e in changed
                ],
            )
        return [e for e in new if e.key not in again]
    return []


def _subscriptions(feed_id: int, *, session: Session) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(Subscription.feed_id == feed_id)).all())


def albums_for(
    groups: Sequence[tuple[str, list[Entry]]], entry_filter: EntryFilter, continued: Collection[int] = ()
) -> list[Album]:
    """The albums one subscription announces: each group's members that pass its filter.
    ``continued``: indexes of groups that go on an upload announced before."""
    out = []
    for index, (rule, members) in enumerate(groups):
        passing = [e for e in members if entry_filter.passes(e)] if entry_filter.active else members
        if passing:
            album = make_album(passing, rule)
            out.append(dataclasses.replace(album, continued=True) if index in continued else album)
    return out


def _continued_uploads(
    feed_id: int, groups: Sequence[tuple[str, list[Entry]]], *, session: Session
) -> set[int]:
    """Groups whose first photo follows, within the photostream window, a seen photo with the same
    title stem: the rest of an upload that was still going on when the feed was read before."""
    new_keys = {e.key for _, members in groups for e in members}
    out: set[int] = set()
    for index, (_, members) in enumerate(groups):
        first = members[0]
        stem = fold(title_stem(first.title))
        if first.published is None or len(stem) < MIN_STEM:
            continue
        rows = session.exec(
            select(FeedEntry.key, FeedEntry.title).where(
                FeedEntry.feed_id == feed_id,
                col(FeedEntry.published) >= first.published - STREAM_WINDOW,
                col(FeedEntry.published) <= first.published,
            )
        ).all()
        if any(key not in new_keys and fold(title_stem(title or "")) == stem for key, title in rows):
            out.add(index)
    return out


MAX_SUMMARY_ITEMS = 50
"""Albums listed in one "and N more" message's payload (the rest are only counted)."""


def _queue_albums(
    feed: Feed,
    entries: Sequence[Entry],
    subs: Sequence[Subscription],
    *,
    feed_link: str | None = None,
    limit: int = MAX_ANNOUNCE_PER_POLL,
    look_back: bool = False,
    session: Session,
) -> int:
    """Group ``entries`` into albums and queue them for every active subscription, filtered.

    Beyond ``limit`` albums per channel, the older ones are listed in one summary message: nothing
    new is dropped silently.
    """
    assert feed.id is not None
    groups = groups_of(entries, feed_link=feed_link)
    unfiltered: list[Album] | None = None
    continued = _continued_uploads(feed.id, groups, session=session) if look_back else set()
    rows: list[delivery.Queued] = []
    for sub in subs:
        if sub.paused:
            continue
        entry_filter = EntryFilter.stored(sub.include_terms, sub.exclude_terms)
        if entry_filter.active:
            albums = albums_for(groups, entry_filter, continued)
        else:  # most subscriptions: the same albums for all of them, made once
            if unfiltered is None:
                unfiltered = albums_for(groups, entry_filter, continued)
            albums = unfiltered
        if not albums:
            continue
        shown = albums[-limit:] if limit > 0 else []
        rest = albums[: len(albums) - len(shown)]
        base = {"feed_id": feed.id, "feed_title": feed.title, "role_id": sub.role_id}
        if rest:
            digest = hashlib.sha256("\n".join(a.key for a in rest).encode("utf-8")).hexdigest()[:40]
            summary = [
                {"title": a.title, "link": a.link, "count": a.photo_count} for a in rest[-MAX_SUMMARY_ITEMS:]
            ]
            rows.append(
                delivery.Queued(
                    ALBUM,
                    delivery_key(feed.id, sub.channel_id, f"more:{digest}"),
                    sub.channel_id,
                    sub.guild_id,
                    {**base, "summary": summary, "total": len(rest), "shown": len(shown)},
                )
            )
        for album in shown:
            rows.append(
                delivery.Queued(
                    ALBUM,
                    delivery_key(feed.id, sub.channel_id, album.key),
                    sub.channel_id,
                    sub.guild_id,
                    {**base, "album": album.to_payload(), "template": sub.template},
                )
            )
    return delivery.enqueue_many(rows, session=session)


# --------------------------------------------------------------------------------------------- polling


def claim_due_feeds(
    *, now: datetime, lease_until: datetime, limit: int = 500, session: Session
) -> list[FeedSnapshot]:
    """Take up to ``limit`` due feeds (not paused, with a subscriber) and move their next poll to
    ``lease_until`` in the same statement, so no other process takes them meanwhile.

    On PostgreSQL the inner SELECT is ``FOR UPDATE SKIP LOCKED``: processes claiming at the same
    moment split the due feeds between them. SQLite runs the one UPDATE under its write lock.
    The claim holds once the caller commits (``Database.run`` does).
    """
    due = (
        select(Feed.id)
        .where(
            Feed.paused == false(),
            Feed.next_poll_at <= now,
            col(Feed.id).in_(select(Subscription.feed_id)),
        )
        .order_by(col(Feed.next_poll_at), col(Feed.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Feed)
        .where(col(Feed.id).in_(due.scalar_subquery()))
        .values(next_poll_at=lease_until)
        .returning(
            col(Feed.id),
            col(Feed.url),
            col(Feed.final_url),
            col(Feed.etag),
            col(Feed.last_modified),
            col(Feed.failures),
            col(Feed.body_hash),
        )
    ).all()
    return sorted(
        (
            FeedSnapshot(
                id=row.id,
                url=row.url,
                fetch_url=row.final_url or row.url,
                etag=row.etag,
                last_modified=row.last_modified,
                failures=row.failures,
                body_hash=row.body_hash,
            )
            for row in rows
        ),
        key=lambda s: s.id,
    )


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A fetch that brought nothing new to read: a 304 (``not_modified``), or a 200 whose body is
    byte for byte the one read last time (``ok``). Validators are stored as received."""

    feed_id: int
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    next_poll_at: datetime
    status: str = "not_modified"


def record_unchanged(items: Sequence[Unchanged], *, session: Session) -> None:
    """Many unchanged feeds in one statement (executemany): most of a polling round."""
    if not items:
        return
    # Core, not ORM: a plain executemany, no per-row bookkeeping
    table: Table = Feed.__table__  # type: ignore[attr-defined]  # SQLModel's stubs lack the __table__ every table model has
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            etag=bindparam("b_etag"),
            last_modified=bindparam("b_last_modified"),
            next_poll_at=bindparam("b_next"),
            last_fetch_at=bindparam("b_at"),
            last_status=bindparam("b_status"),
            last_error=None,
            failures=0,
        ),
        [
            {
                "b_id": item.feed_id,
                "b_etag": _clip(item.etag, 500),
                "b_last_modified": _clip(item.last_modified, 100),
                "b_next": item.next_poll_at,
                "b_at": item.fetched_at,
                "b_status": item.status,
            }
            for item in items
        ],
    )


def ingest(
    feed_id: int,
    entries: Sequence[Entry],
    *,
    title: str | None,
    etag: str | None,
    last_modified: str | None,
    final_url: str | None,
    now: datetime,
    next_poll_at: datetime,
    max_announce: int = MAX_ANNOUNCE_PER_POLL,
    feed_link: str | None = None,
    body_hash: str | None = None,
    session: Session,
) -> IngestResult:
    """A successful fetch: remember unseen entries, queue them as albums for every subscriber
    (the newest ``max_announce`` albums in full, the older ones summarised), and store the
    validators and the next poll time. All in one transaction."""
    feed = session.get(Feed, feed_id)
    if feed is None:  # unwatched while it was being fetched
        return IngestResult(0, 0, 0)
    if title:
        feed.title = _clip(title, 500)
    new = _record_entries(feed_id, entries, now=now, session=session)
    queued = _queue_albums(
        feed,
        new,
        _subscriptions(feed_id, session=session),
        feed_link=feed_link,
        limit=max_announce,
        look_back=True,
        session=session,
    )
    feed.etag = _clip(etag, 500)
    feed.last_modified = _clip(last_modified, 100)
    if final_url is not None:
        feed.final_url = final_url if len(final_url) <= 2000 else None
    feed.last_fetch_at = now
    feed.last_status = "ok"
    feed.last_error = None
    feed.failures = 0
    feed.item_count = len(_unique_entries(entries))
    feed.next_poll_at = next_poll_at
    feed.body_hash = body_hash
    session.add(feed)
    return IngestResult(len(new), min(len(new), max_announce), queued)


def paused_record(code: str, failures: int) -> str:
    """What ``Feed.paused_reason`` holds: the failure's code and count, never a sentence (the reader's
    language is not known here; bot/render/feeds.py ``paused_reason`` says it)."""
    return json.dumps({"code": code, "failures": failures})


def record_failure(
    feed_id: int,
    *,
    code: str,
    status: int | None = None,
    retry_after: int | None = None,
    interval: float,
    now: datetime,
    session: Session,
) -> FailureResult | None:
    """A failed fetch or parse: back off exponentially; after repeated failures pause the feed and
    queue a notice for each subscribing channel saying why."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return None
    slug = failure_code(code, status)[:32]
    feed.failures += 1
    feed.last_fetch_at = now
    feed.last_status = slug
    feed.last_error = slug  # a code: bot/render/feeds.py explains it in the reader's language
    feed.next_poll_at = next_poll(now, interval, feed_id, retry_after=retry_after, failures=feed.failures)
    paused_now = False
    if should_pause(feed.failures) and not feed.paused:
        paused_now = True
        feed.paused = True
        feed.paused_reason = paused_record(slug, feed.failures)
        log.warning("feed %s (%s) paused after %s failures: %s", feed_id, feed.url, feed.failures, slug)
        payload = {
            "feed_id": feed_id,
            "feed_title": feed.title,
            "url": feed.url,
            "code": slug,
            "failures": feed.failures,
        }
        stamp = now.strftime("%Y%m%dT%H%M%S")
        for sub in _subscriptions(feed_id, session=session):
            delivery.enqueue(
                NOTICE,
                f"paused:{feed_id}:{sub.channel_id}:{stamp}",
                channel_id=sub.channel_id,
                guild_id=sub.guild_id,
                payload=payload,
                session=session,
            )
    session.add(feed)
    return FailureResult(feed.failures, paused_now, feed.next_poll_at)


def queued_deliveries(
    *,
    now: datetime,
    lease: timedelta,
    limit: int = 500,
    shard_count: int = 1,
    shard_ids: Sequence[int] | None = None,
    session: Session,
) -> list[QueuedDelivery]:
    """Feed posts waiting for a poster: queued, failed (to retry), or claimed by a process that
    stopped before posting (lease over), in the guilds of ``shard_ids`` (None: all). Oldest
    first, one entry's channels together."""
    # A pending claim whose process restarted or stopped beating (bot/cluster.py) is free at once.
    gone = exists().where(
        col(Delivery.claimed_by).like(Worker.name + "#%"),
        or_(
            col(Worker.claimer) != col(Delivery.claimed_by),
            col(Worker.heartbeat_at) < now - HEARTBEAT_TIMEOUT,
        ),
    )
    query = select(Delivery.kind, Delivery.key, Delivery.channel_id, Delivery.guild_id).where(
        col(Delivery.kind).in_(KINDS),
        or_(
            col(Delivery.status) == "failed",
            and_(col(Delivery.status) == "pending", or_(col(Delivery.claimed_at) < now - lease, gone)),
        ),
    )
    if shard_ids is not None and shard_count > 1:
        shard = col(Delivery.guild_id).op(">>")(literal_column("22")) % shard_count
        query = query.where(or_(col(Delivery.guild_id).is_(None), shard.in_(list(shard_ids))))
    rows = session.exec(query.order_by(col(Delivery.id)).limit(limit)).all()
    out = []
    for kind, key, channel_id, guild_id in rows:
        feed_part, _, rest = key.partition(":")
        entry_part = rest.partition(":")[2]
        group = f"{kind}:{feed_part}:{entry_part}" if kind == ALBUM else f"{kind}:{key}"
        out.append(QueuedDelivery(kind, key, channel_id, guild_id, group))
    # Group one entry's channels together, keeping the order in which groups first appear.
    order: dict[str, int] = {}
    for item in out:
        order.setdefault(item.group, len(order))
    return sorted(out, key=lambda d: order[d.group])


# --------------------------------------------------------------------------------------------- commands


def _feed_by_url(url: str, *, session: Session) -> Feed | None:
    return session.exec(select(Feed).where(Feed.url == url)).first()


def _get_or_create_feed(url: str, *, now: datetime, session: Session) -> tuple[Feed, bool]:
    feed = _feed_by_url(url, session=session)
    if feed is not None:
        return feed, False
    feed = Feed(url=url, created_at=now, next_poll_at=now)
    try:
        with session.begin_nested():
            session.add(feed)
    except IntegrityError:  # another server added it a moment ago
        feed = _feed_by_url(url, session=session)
        assert feed is not None
        return feed, False
    return feed, True


def watch(
    url: str,
    entries: Sequence[Entry],
    *,
    guild_id: int,
    channel_id: int,
    role_id: int | None,
    user_id: int | None,
    title: str,
    etag: str | None,
    last_modified: str | None,
    final_url: str | None,
    backfill: int,
    interval: float,
    now: datetime,
    feed_link: str | None = None,
    session: Session,
) -> WatchResult:
    """Subscribe a channel to a feed that was just fetched and parsed.

    Every entry of the document is marked seen; entries nobody had seen are queued for the feed's
    existing subscribers (they are news to them); the new channel gets only the latest ``backfill``.
    Watching a paused feed again resumes it.
    """
    backfill = max(0, min(backfill, MAX_BACKFILL))
    feed, _ = _get_or_create_feed(url, now=now, session=session)
    assert feed.id is not None
    existing = session.exec(
        select(Subscription).where(Subscription.feed_id == feed.id, Subscription.channel_id == channel_id)
    ).first()
    if existing is not None and not feed.paused:
        raise UserFacingError(
            key="feeds.watch.already",
            channel=f"<#{channel_id}>",
        )
    if existing is None:
        count = session.exec(
            select(func.count()).select_from(Subscription).where(Subscription.guild_id == guild_id)
        ).one()
        if count >= MAX_FEEDS_PER_GUILD:
            raise UserFacingError(
                key="feeds.watch.too_many",
                limit=MAX_FEEDS_PER_GUILD,
            )
    resumed = feed.paused
    feed.title = _clip(title, 500) or feed.title
    new = _record_entries(feed.id, entries, now=now, session=session)
    elsewhere = _queue_albums(
        feed, new, _subscriptions(feed.id, session=session), feed_link=feed_link, session=session
    )
    if existing is None:
        sub = Subscription(
            feed_id=feed.id,
            guild_id=guild_id,
            channel_id=channel_id,
            role_id=role_id,
            created_by=user_id,
            created_at=now,
        )
        session.add(sub)
        session.flush()
    else:
        sub = existing
        sub.role_id = role_id
        session.add(sub)
    queued = _queue_backfill(feed, _unique_entries(entries), sub, backfill, feed_link, session=session)
    feed.etag = _clip(etag, 500)
    feed.last_modified = _clip(last_modified, 100)
    if final_url is not None and len(final_url) <= 2000:
        feed.final_url = final_url
    feed.last_fetch_at = now
    feed.last_status = "ok"
    feed.last_error = None
    feed.failures = 0
    feed.paused = False
    feed.paused_reason = None
    feed.item_count = len(_unique_entries(entries))
    feed.next_poll_at = next_poll(now, interval, feed.id)
    session.add(feed)
    assert sub.id is not None
    return WatchResult(
        subscription_id=sub.id,
        feed_id=feed.id,
        title=feed.title or url,
        item_count=feed.item_count,
        backfill=queued,
        resumed=resumed,
        announced_elsewhere=elsewhere,
    )


def _queue_backfill(
    feed: Feed,
    entries: Sequence[Entry],
    sub: Subscription,
    count: int,
    feed_link: str | None,
    *,
    session: Session,
) -> int:
    """The latest ``count`` albums of the document for a new subscription (no summary)."""
    if count <= 0:
        return 0
    groups = groups_of(entries, feed_link=feed_link)[-count:]
    return _queue_albums(
        feed,
        [e for _, members in groups for e in members],
        [sub],
        feed_link=feed_link,
        limit=count,
        session=session,
    )


def _views(rows: Iterable[tuple[Subscription, Feed]]) -> list[SubscriptionView]:
    return [
        SubscriptionView(
            id=sub.id or 0,
            feed_id=feed.id or 0,
            guild_id=sub.guild_id,
            channel_id=sub.channel_id,
            role_id=sub.role_id,
            url=feed.url,
            title=feed.title,
            paused=feed.paused,
            paused_reason=feed.paused_reason,
            last_fetch_at=feed.last_fetch_at,
            last_status=feed.last_status,
            last_error=feed.last_error,
            next_poll_at=_now_aware(feed.next_poll_at),
            item_count=feed.item_count,
            failures=feed.failures,
            sub_paused=sub.paused,
            include=EntryFilter.stored(sub.include_terms, None).include,
            exclude=EntryFilter.stored(None, sub.exclude_terms).exclude,
            template=Template.load(sub.template),
        )
        for sub, feed in rows
    ]


def guild_subscriptions(guild_id: int, *, session: Session) -> list[SubscriptionView]:
    """This server's subscriptions, oldest first."""
    rows = session.exec(
        select(Subscription, Feed)
        .join(Feed, col(Feed.id) == col(Subscription.feed_id))
        .where(Subscription.guild_id == guild_id)
        .order_by(col(Subscription.id))
    ).all()
    return _views(rows)


def find_subscription(guild_id: int, ref: str, *, session: Session) -> SubscriptionView | None:
    """A subscription of this server by id (what autocomplete sends) or by feed address."""
    ref = ref.strip()
    query = select(Subscription, Feed).join(Feed, col(Feed.id) == col(Subscription.feed_id))
    query = query.where(Subscription.guild_id == guild_id)
    if ref.isdigit():
        row = session.exec(query.where(Subscription.id == int(ref))).first()
    else:
        row = session.exec(
            query.where(or_(col(Feed.url) == ref, col(Feed.final_url) == ref)).order_by(col(Subscription.id))
        ).first()
    return _views([row])[0] if row else None


def unwatch(guild_id: int, subscription_id: int, *, session: Session) -> SubscriptionView | None:
    """Remove a subscription of this server; a feed nobody watches any more is deleted with the
    entries it has seen (a later watch starts afresh, marking the current items seen again)."""
    view = find_subscription(guild_id, str(subscription_id), session=session)
    if view is None:
        return None
    session.execute(
        delete(Subscription).where(
            col(Subscription.id) == subscription_id, col(Subscription.guild_id) == guild_id
        )
    )
    _drop_orphan_feeds([view.feed_id], session=session)
    return view


def _drop_orphan_feeds(feed_ids: Iterable[int], *, session: Session) -> None:
    for feed_id in set(feed_ids):
        remaining = session.exec(
            select(func.count()).select_from(Subscription).where(Subscription.feed_id == feed_id)
        ).one()
        if not remaining:
            session.execute(delete(FeedEntry).where(col(FeedEntry.feed_id) == feed_id))
            session.execute(delete(Feed).where(col(Feed.id) == feed_id))


def forget_channel(channel_id: int, *, session: Session) -> int:
    """A channel Discord says is gone: drop its subscriptions (and feeds nobody watches any more)."""
    feed_ids = session.exec(select(Subscription.feed_id).where(Subscription.channel_id == channel_id)).all()
    session.execute(delete(Subscription).where(col(Subscription.channel_id) == channel_id))
    _drop_orphan_feeds(feed_ids, session=session)
    if feed_ids:
        log.info("channel %s is gone: dropped %s subscriptions", channel_id, len(feed_ids))
    return len(feed_ids)


def feed_state(feed_id: int, *, session: Session) -> Feed | None:
    return session.get(Feed, feed_id)


# --------------------------------------------------------------------------------------------- settings

KEEP = object()
"""An /feed edit option left empty: the setting keeps its value."""


def edit_subscription(
    guild_id: int,
    subscription_id: int,
    *,
    channel_id: int | None = None,
    role_id: int | object | None = KEEP,
    paused: bool | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    template: Template | None = None,
    now: datetime,
    session: Session,
) -> SubscriptionView | None:
    """Change one subscription of this server in place; its feed's seen entries are untouched, so
    nothing already seen is announced again (in the new channel either). None: not this server's."""
    sub = session.exec(
        select(Subscription).where(Subscription.id == subscription_id, Subscription.guild_id == guild_id)
    ).first()
    if sub is None:
        return None
    if channel_id is not None and channel_id != sub.channel_id:
        taken = session.exec(
            select(Subscription.id).where(
                Subscription.feed_id == sub.feed_id, Subscription.channel_id == channel_id
            )
        ).first()
        if taken is not None:
            raise UserFacingError(
                key="feeds.edit.channel_taken",
                channel=f"<#{channel_id}>",
            )
        sub.channel_id = channel_id
    if role_id is not KEEP:
        sub.role_id = role_id  # type: ignore[assignment]
    if paused is not None:
        sub.paused = paused
        feed = session.get(Feed, sub.feed_id)
        if paused is False and feed is not None and feed.paused:  # resuming also retries a failing feed
            feed.paused = False
            feed.paused_reason = None
            feed.failures = 0
            feed.next_poll_at = now
            session.add(feed)
    if include is not None:
        sub.include_terms = dump_terms(include)
    if exclude is not None:
        sub.exclude_terms = dump_terms(exclude)
    if template is not None:
        sub.template = template.dump()
    sub.updated_at = now
    session.add(sub)
    session.flush()
    return find_subscription(guild_id, str(subscription_id), session=session)
