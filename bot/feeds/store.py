"""Watched feeds in the database: subscriptions, seen entries, the polling schedule, queued posts.

Plain synchronous functions taking ``session=`` keyword-only; call them through ``Database.run``.
Announcements are queued as Delivery rows in the same transaction that records the entries as seen,
so a crash between "seen" and "posted" loses nothing: the queued rows are posted on a later round,
by whichever process owns the channel's guild.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, false, func, literal_column, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import delivery
from bot.cluster import HEARTBEAT_TIMEOUT
from bot.errors import UserFacingError
from bot.feeds.parse import Entry
from bot.feeds.policy import describe_error, next_poll_time, should_pause, slot_time, stagger_offset
from bot.i18n import t
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

    @property
    def label(self) -> str:
        return self.title or self.url


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
                FeedEntry.feed_id == feed_id, FeedEntry.key.in_(chunk)
            )
        ).all()
        known.update({key: fingerprint for key, fingerprint in rows})
    return known


def _record_entries(
    feed_id: int, entries: Sequence[Entry], *, now: datetime, session: Session
) -> list[Entry]:
    """Store unseen entries; returns them (document order). Entries seen before are left alone,
    except their fingerprint, kept current so an edit is not mistaken for news later."""
    entries = _unique_entries(entries)
    for attempt in range(2):
        known = _known_entries(feed_id, [e.key for e in entries], session=session)
        new = [e for e in entries if e.key not in known]
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
                        )
                    )
        except IntegrityError:
            if attempt:
                raise
            log.info("feed %s: entries recorded concurrently, reading them again", feed_id)
            continue
        changed = [e for e in entries if e.key in known and known[e.key] != (e.fingerprint or None)]
        if changed:  # an edit: remember it (one executemany), never announce it again
            table = FeedEntry.__table__
            session.execute(
                update(table)
                .where(table.c.feed_id == feed_id, table.c.key == bindparam("b_key"))
                .values(fingerprint=bindparam("b_fingerprint"), title=bindparam("b_title")),
                [
                    {"b_key": e.key, "b_fingerprint": e.fingerprint or None, "b_title": _clip(e.title, 500)}
                    for e in changed
                ],
            )
        return new
    return []


def _subscriptions(feed_id: int, *, session: Session) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(Subscription.feed_id == feed_id)).all())


def _queue_albums(
    feed: Feed, entries: Sequence[Entry], subs: Sequence[Subscription], *, session: Session
) -> int:
    queued = 0
    for entry in entries:
        data = entry_payload(entry)
        for sub in subs:
            payload = {"feed_id": feed.id, "feed_title": feed.title, "role_id": sub.role_id, "entry": data}
            assert feed.id is not None
            queued += delivery.enqueue(
                ALBUM,
                delivery_key(feed.id, sub.channel_id, entry.key),
                channel_id=sub.channel_id,
                guild_id=sub.guild_id,
                payload=payload,
                session=session,
            )
    return queued


def _to_announce(new: Sequence[Entry], limit: int) -> list[Entry]:
    """The newest ``limit`` of the new entries, oldest first (the order they are posted in)."""
    return list(reversed(newest_first(new)[:limit]))


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
            Feed.id.in_(select(Subscription.feed_id)),
        )
        .order_by(Feed.next_poll_at, Feed.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Feed)
        .where(Feed.id.in_(due.scalar_subquery()))
        .values(next_poll_at=lease_until)
        .returning(
            Feed.id, Feed.url, Feed.final_url, Feed.etag, Feed.last_modified, Feed.failures, Feed.body_hash
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
    table = Feed.__table__  # Core, not ORM: a plain executemany, no per-row bookkeeping
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
    body_hash: str | None = None,
    session: Session,
) -> IngestResult:
    """A successful fetch: remember unseen entries, queue the newest of them for every subscriber,
    and store the validators and the next poll time. All in one transaction."""
    feed = session.get(Feed, feed_id)
    if feed is None:  # unwatched while it was being fetched
        return IngestResult(0, 0, 0)
    if title:
        feed.title = _clip(title, 500)
    new = _record_entries(feed_id, entries, now=now, session=session)
    announce = _to_announce(new, max_announce)
    if len(new) > len(announce):
        log.info("feed %s: %s new entries, announcing the newest %s", feed_id, len(new), len(announce))
    queued = _queue_albums(feed, announce, _subscriptions(feed_id, session=session), session=session)
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
    return IngestResult(len(new), len(announce), queued)


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
    slug = f"http_{status}" if code == "http_error" and status else code
    reason = describe_error(slug)
    feed.failures += 1
    feed.last_fetch_at = now
    feed.last_status = slug[:32]
    feed.last_error = reason[:1000]
    feed.next_poll_at = next_poll(now, interval, feed_id, retry_after=retry_after, failures=feed.failures)
    paused_now = False
    if should_pause(feed.failures) and not feed.paused:
        paused_now = True
        feed.paused = True
        feed.paused_reason = t("feeds.paused_reason", "en", failures=feed.failures, reason=reason)[:1000]
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
        Delivery.claimed_by.like(Worker.name + "#%"),
        or_(Worker.claimer != Delivery.claimed_by, Worker.heartbeat_at < now - HEARTBEAT_TIMEOUT),
    )
    query = select(Delivery.kind, Delivery.key, Delivery.channel_id, Delivery.guild_id).where(
        Delivery.kind.in_(KINDS),
        or_(
            Delivery.status == "failed",
            and_(Delivery.status == "pending", or_(Delivery.claimed_at < now - lease, gone)),
        ),
    )
    if shard_ids is not None and shard_count > 1:
        shard = Delivery.guild_id.op(">>")(literal_column("22")) % shard_count
        query = query.where(or_(Delivery.guild_id.is_(None), shard.in_(list(shard_ids))))
    rows = session.exec(query.order_by(Delivery.id).limit(limit)).all()
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
            t("feeds.watch.already", "en", channel=f"<#{channel_id}>"),
            key="feeds.watch.already",
            channel=f"<#{channel_id}>",
        )
    if existing is None:
        count = session.exec(
            select(func.count()).select_from(Subscription).where(Subscription.guild_id == guild_id)
        ).one()
        if count >= MAX_FEEDS_PER_GUILD:
            raise UserFacingError(
                t("feeds.watch.too_many", "en", limit=MAX_FEEDS_PER_GUILD),
                key="feeds.watch.too_many",
                limit=MAX_FEEDS_PER_GUILD,
            )
    resumed = feed.paused
    feed.title = _clip(title, 500) or feed.title
    new = _record_entries(feed.id, entries, now=now, session=session)
    elsewhere = _queue_albums(
        feed,
        _to_announce(new, MAX_ANNOUNCE_PER_POLL),
        _subscriptions(feed.id, session=session),
        session=session,
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
    queued = _queue_albums(
        feed, list(reversed(newest_first(_unique_entries(entries))[:backfill])), [sub], session=session
    )
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
        )
        for sub, feed in rows
    ]


def guild_subscriptions(guild_id: int, *, session: Session) -> list[SubscriptionView]:
    """This server's subscriptions, oldest first."""
    rows = session.exec(
        select(Subscription, Feed)
        .join(Feed, Feed.id == Subscription.feed_id)
        .where(Subscription.guild_id == guild_id)
        .order_by(Subscription.id)
    ).all()
    return _views(rows)


def find_subscription(guild_id: int, ref: str, *, session: Session) -> SubscriptionView | None:
    """A subscription of this server by id (what autocomplete sends) or by feed address."""
    ref = ref.strip()
    query = select(Subscription, Feed).join(Feed, Feed.id == Subscription.feed_id)
    query = query.where(Subscription.guild_id == guild_id)
    if ref.isdigit():
        row = session.exec(query.where(Subscription.id == int(ref))).first()
    else:
        row = session.exec(
            query.where(or_(Feed.url == ref, Feed.final_url == ref)).order_by(Subscription.id)
        ).first()
    return _views([row])[0] if row else None


def unwatch(guild_id: int, subscription_id: int, *, session: Session) -> SubscriptionView | None:
    """Remove a subscription of this server; a feed nobody watches any more is deleted with the
    entries it has seen (a later watch starts afresh, marking the current items seen again)."""
    view = find_subscription(guild_id, str(subscription_id), session=session)
    if view is None:
        return None
    session.execute(
        delete(Subscription).where(Subscription.id == subscription_id, Subscription.guild_id == guild_id)
    )
    _drop_orphan_feeds([view.feed_id], session=session)
    return view


def _drop_orphan_feeds(feed_ids: Iterable[int], *, session: Session) -> None:
    for feed_id in set(feed_ids):
        remaining = session.exec(
            select(func.count()).select_from(Subscription).where(Subscription.feed_id == feed_id)
        ).one()
        if not remaining:
            session.execute(delete(FeedEntry).where(FeedEntry.feed_id == feed_id))
            session.execute(delete(Feed).where(Feed.id == feed_id))


def forget_channel(channel_id: int, *, session: Session) -> int:
    """A channel Discord says is gone: drop its subscriptions (and feeds nobody watches any more)."""
    feed_ids = session.exec(select(Subscription.feed_id).where(Subscription.channel_id == channel_id)).all()
    session.execute(delete(Subscription).where(Subscription.channel_id == channel_id))
    _drop_orphan_feeds(feed_ids, session=session)
    if feed_ids:
        log.info("channel %s is gone: dropped %s subscriptions", channel_id, len(feed_ids))
    return len(feed_ids)


def feed_state(feed_id: int, *, session: Session) -> Feed | None:
    return session.get(Feed, feed_id)
