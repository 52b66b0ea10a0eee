"""Feed storage without Discord, on SQLite and PostgreSQL: seen entries, claims, backoff, queue."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import delivery
from bot.db import Database
from bot.errors import UserFacingError
from bot.feeds import store
from bot.feeds.parse import Entry, entry_fingerprint
from bot.feeds.policy import PAUSE_AFTER_FAILURES
from bot.models import Delivery, Feed, FeedEntry, Subscription
from bot.render.feeds import explain, paused_reason

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
INTERVAL = 600.0


def entry(n: int, *, day: int = 1, title: str | None = None, key: str | None = None) -> Entry:
    title = title or f"Album {n}"
    link = f"https://photos.example.org/album/{n}"
    return Entry(
        key=key or f"id:album-{n}",
        title=title,
        link=link,
        published=datetime(2025, 6, day, tzinfo=UTC) + timedelta(hours=n % 500),  # albums hours apart
        description_text=f"Photos of album {n}",
        credit="NASA",
        images=(f"https://img.example.org/{n}.jpg",),
        thumbnail=None,
        fingerprint=entry_fingerprint(
            title=title, link=link, description_text=f"Photos of album {n}", credit="NASA", images=()
        ),
    )


async def watch(
    db: Database,
    url: str,
    entries: list[Entry],
    *,
    guild_id: int = 1,
    channel_id: int = 10,
    backfill: int = 0,
    now: datetime = NOW,
) -> store.WatchResult:
    return await db.run(
        store.watch,
        url,
        entries,
        guild_id=guild_id,
        channel_id=channel_id,
        role_id=None,
        user_id=99,
        title="Albums",
        etag='"v1"',
        last_modified=None,
        final_url=None,
        backfill=backfill,
        interval=INTERVAL,
        now=now,
    )


def rows(model: type, session: Session) -> list:
    return list(session.exec(select(model)).all())


async def deliveries(db: Database) -> list[Delivery]:
    return await db.run(rows, Delivery)


async def make_due(db: Database, when: datetime = NOW) -> None:
    def due(*, session: Session) -> None:
        for feed in session.exec(select(Feed)).all():
            feed.next_poll_at = when
            session.add(feed)

    await db.run(due)


# --------------------------------------------------------------------------------------------- watch


async def test_watch_marks_everything_seen_and_backfills_the_latest(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1), entry(2), entry(3)], backfill=2)
    assert (result.item_count, result.backfill, result.resumed) == (3, 2, False)
    assert sorted(e.key for e in await db.run(rows, FeedEntry)) == ["id:album-1", "id:album-2", "id:album-3"]
    queued = await deliveries(db)
    # The two newest, queued oldest first so they are posted in order; nobody has claimed them.
    assert [json.loads(d.payload)["album"]["key"] for d in queued] == ["id:album-2", "id:album-3"]
    assert all(d.status == "pending" and d.claimed_by is None and d.attempts == 0 for d in queued)
    assert queued[0].key == f"{result.feed_id}:10:id:album-2"


async def test_watching_twice_refuses_and_limits_per_server(db: Database) -> None:
    await watch(db, "https://a.example/feed", [entry(1)])
    with pytest.raises(UserFacingError) as info:
        await watch(db, "https://a.example/feed", [entry(1)])
    assert info.value.key == "feeds.watch.already"
    for n in range(store.MAX_FEEDS_PER_GUILD - 1):
        await watch(db, f"https://a.example/feed{n}", [entry(1)])
    with pytest.raises(UserFacingError) as info:
        await watch(db, "https://a.example/one-too-many", [entry(1)])
    assert info.value.key == "feeds.watch.too_many"


async def test_a_second_server_gets_no_backlog_but_existing_subscribers_get_news(db: Database) -> None:
    first = await watch(db, "https://a.example/feed", [entry(1)], guild_id=1, channel_id=10)
    second = await watch(db, "https://a.example/feed", [entry(1), entry(2)], guild_id=2, channel_id=20)
    assert second.feed_id == first.feed_id
    assert second.announced_elsewhere == 1  # album 2 is news for the first server
    queued = await deliveries(db)
    assert [(d.channel_id, json.loads(d.payload)["album"]["key"]) for d in queued] == [(10, "id:album-2")]


# --------------------------------------------------------------------------------------------- ingest


async def test_ingest_announces_only_unseen_entries_and_ignores_new_dates(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1), entry(2)])
    redated = [entry(1, day=20), entry(2, day=21, title="Album 2, renamed"), entry(3)]
    ingested = await db.run(
        store.ingest,
        result.feed_id,
        redated,
        title="Albums",
        etag='"v2"',
        last_modified=None,
        final_url=None,
        now=NOW,
        next_poll_at=NOW + timedelta(hours=1),
    )
    assert (ingested.new, ingested.announced, ingested.deliveries) == (1, 1, 1)
    titles = {e.key: e.title for e in await db.run(rows, FeedEntry)}
    assert titles["id:album-2"] == "Album 2, renamed"  # kept current, never re-announced
    feed = await db.run(store.feed_state, result.feed_id)
    assert (feed.etag, feed.last_status, feed.failures, feed.item_count) == ('"v2"', "ok", 0, 3)


async def test_a_flood_of_new_entries_announces_the_newest_and_lists_the_rest(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [])
    flood = [entry(n) for n in range(1, 51)]
    ingested = await db.run(
        store.ingest,
        result.feed_id,
        flood,
        title=None,
        etag=None,
        last_modified=None,
        final_url=None,
        now=NOW,
        next_poll_at=NOW,
    )
    assert (ingested.new, ingested.announced) == (50, store.MAX_ANNOUNCE_PER_POLL)
    summary, *albums = [json.loads(d.payload) for d in await deliveries(db)]
    assert [a["album"]["key"] for a in albums] == [f"id:album-{n}" for n in range(41, 51)]
    # The 40 older ones are listed in one message, never silently dropped.
    assert (summary["total"], summary["shown"]) == (40, 10)
    assert [item["title"] for item in summary["summary"]] == [f"Album {n}" for n in range(1, 41)]


async def test_duplicate_keys_in_one_document_count_once(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1), entry(1)])
    assert result.item_count == 1


# --------------------------------------------------------------------------------------------- claims


async def test_due_feeds_are_claimed_once_and_pushed_back(db: Database) -> None:
    for n in range(3):
        await watch(db, f"https://a.example/{n}", [entry(1)])
    await make_due(db)
    lease = NOW + timedelta(minutes=10)
    claimed = await db.run(store.claim_due_feeds, now=NOW, lease_until=lease, limit=2)
    assert len(claimed) == 2 and claimed[0].etag == '"v1"'
    rest = await db.run(store.claim_due_feeds, now=NOW, lease_until=lease, limit=10)
    assert len(rest) == 1 and rest[0].id not in {c.id for c in claimed}
    assert await db.run(store.claim_due_feeds, now=NOW, lease_until=lease) == []


async def test_paused_and_unwatched_feeds_are_not_claimed(db: Database) -> None:
    paused = await watch(db, "https://a.example/paused", [entry(1)])
    gone = await watch(db, "https://a.example/gone", [entry(1)], channel_id=11)
    for _ in range(PAUSE_AFTER_FAILURES):
        await db.run(store.record_failure, paused.feed_id, code="timeout", interval=INTERVAL, now=NOW)
    await db.run(store.unwatch, 1, gone.subscription_id)
    await make_due(db)
    assert await db.run(store.claim_due_feeds, now=NOW, lease_until=NOW + timedelta(hours=1)) == []


async def test_concurrent_claimers_split_the_due_feeds(db: Database) -> None:
    for n in range(12):
        await watch(db, f"https://a.example/{n}", [entry(1)])
    await make_due(db)
    lease = NOW + timedelta(minutes=10)
    batches = await asyncio.gather(
        *(db.run(store.claim_due_feeds, now=NOW, lease_until=lease, limit=4) for _ in range(4))
    )
    ids = [f.id for batch in batches for f in batch]
    assert len(ids) == len(set(ids)) == 12


@pytest.mark.postgres
async def test_postgres_skip_locked_lets_a_second_process_take_other_feeds(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("row locks are a PostgreSQL feature; SQLite runs one process")
    for n in range(6):
        await watch(db, f"https://a.example/{n}", [entry(1)])
    await make_due(db)
    lease = NOW + timedelta(minutes=10)
    with db.session() as first:
        mine = store.claim_due_feeds(now=NOW, lease_until=lease, limit=3, session=first)  # not committed
        # Another process claims while the first transaction still holds its row locks.
        theirs = await asyncio.wait_for(
            db.run(store.claim_due_feeds, now=NOW, lease_until=lease, limit=10), timeout=5
        )
        first.commit()
    assert len(mine) == 3 and len(theirs) == 3
    assert not {f.id for f in mine} & {f.id for f in theirs}


# --------------------------------------------------------------------------------------------- failures


async def test_failures_back_off_then_pause_and_queue_a_notice_per_channel(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1)], channel_id=10)
    await watch(db, "https://a.example/feed", [entry(1)], guild_id=2, channel_id=20)
    delays = []
    outcome = None
    for _ in range(PAUSE_AFTER_FAILURES):
        outcome = await db.run(
            store.record_failure, result.feed_id, code="http_error", status=500, interval=INTERVAL, now=NOW
        )
        delays.append((outcome.next_poll_at - NOW).total_seconds())
    assert delays == [1200, 2400, 4800, 9600, 19200]
    assert outcome is not None and outcome.paused and outcome.failures == PAUSE_AFTER_FAILURES
    feed = await db.run(store.feed_state, result.feed_id)
    assert feed.paused and feed.last_status == "http_500"
    assert explain(feed.last_error, "en") == (
        "The feed server answered 500 Internal Server Error: "
        "the feed server has a problem; Cupola will try again later."
    )
    assert (paused_reason(feed.paused_reason, "en") or "").startswith(
        "Paused after 5 failed fetches in a row. The feed server answered 500"
    )
    notices = [d for d in await deliveries(db) if d.kind == store.NOTICE]
    assert sorted(d.channel_id for d in notices) == [10, 20]
    assert json.loads(notices[0].payload)["code"] == "http_500"
    # A sixth failure does not tell the channels again.
    await db.run(store.record_failure, result.feed_id, code="timeout", interval=INTERVAL, now=NOW)
    assert len([d for d in await deliveries(db) if d.kind == store.NOTICE]) == 2


async def test_retry_after_is_honoured_within_bounds(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1)])
    outcome = await db.run(
        store.record_failure,
        result.feed_id,
        code="http_error",
        status=429,
        retry_after=3000,
        interval=INTERVAL,
        now=NOW,
    )
    assert (outcome.next_poll_at - NOW).total_seconds() == 3000
    outcome = await db.run(
        store.record_failure,
        result.feed_id,
        code="http_error",
        status=503,
        retry_after=10**9,
        interval=INTERVAL,
        now=NOW,
    )
    assert (outcome.next_poll_at - NOW).total_seconds() == 6 * INTERVAL


async def test_watching_a_paused_feed_again_resumes_it(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1)])
    for _ in range(PAUSE_AFTER_FAILURES):
        await db.run(store.record_failure, result.feed_id, code="timeout", interval=INTERVAL, now=NOW)
    again = await watch(db, "https://a.example/feed", [entry(1), entry(2)])
    assert again.resumed and again.subscription_id == result.subscription_id
    feed = await db.run(store.feed_state, result.feed_id)
    assert (feed.paused, feed.failures, feed.paused_reason) == (False, 0, None)


async def test_resuming_with_feed_edit_also_retries_a_feed_paused_by_failures(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1)])
    for _ in range(PAUSE_AFTER_FAILURES):
        await db.run(store.record_failure, result.feed_id, code="timeout", interval=INTERVAL, now=NOW)
    later = NOW + timedelta(days=2)
    view = await db.run(store.edit_subscription, 1, result.subscription_id, paused=False, now=later)
    assert view is not None and not view.sub_paused
    feed = await db.run(store.feed_state, result.feed_id)
    assert (feed.paused, feed.failures, feed.paused_reason) == (False, 0, None)
    assert [s.id for s in await db.run(store.claim_due_feeds, now=later, lease_until=later)] == [
        result.feed_id
    ]
    # Another server's subscription is not this server's to edit.
    assert await db.run(store.edit_subscription, 2, result.subscription_id, paused=True, now=later) is None


# --------------------------------------------------------------------------------------------- queue


async def test_queued_posts_are_claimed_once_and_listed_per_shard(db: Database) -> None:
    guild_on_shard_1 = (1 << 22) | 5  # (id >> 22) % 2 == 1
    await watch(db, "https://a.example/feed", [entry(1)], guild_id=4 << 22, channel_id=10, backfill=1)
    await watch(
        db, "https://a.example/feed", [entry(1)], guild_id=guild_on_shard_1, channel_id=20, backfill=1
    )
    everything = await db.run(store.queued_deliveries, now=NOW, lease=delivery.LEASE)
    assert sorted(q.channel_id for q in everything) == [10, 20]
    assert everything[0].group == everything[1].group  # one entry: one preview for both channels
    shard_1 = await db.run(
        store.queued_deliveries, now=NOW, lease=delivery.LEASE, shard_count=2, shard_ids=[1]
    )
    assert [q.channel_id for q in shard_1] == [20]
    item = shard_1[0]
    claim = await db.run(delivery.claim, item.kind, item.key, channel_id=20, guild_id=item.guild_id, now=NOW)
    assert claim is not None and claim.attempts == 1 and claim.nonce == f"cupola-{claim.id}"
    assert claim.payload["album"]["title"] == "Album 1"
    # Claimed (lease running): not listed; another claim is refused.
    assert [q.channel_id for q in await db.run(store.queued_deliveries, now=NOW, lease=delivery.LEASE)] == [
        10
    ]
    assert await db.run(delivery.claim, item.kind, item.key, channel_id=20, guild_id=None, now=NOW) is None


async def test_unwatch_and_gone_channels_drop_orphan_feeds(db: Database) -> None:
    a = await watch(db, "https://a.example/feed", [entry(1)], channel_id=10)
    await watch(db, "https://a.example/feed", [entry(1)], channel_id=11)
    removed = await db.run(store.unwatch, 1, a.subscription_id)
    assert removed is not None and removed.channel_id == 10
    assert await db.run(store.unwatch, 2, a.subscription_id) is None  # another server's id: no
    assert len(await db.run(rows, Feed)) == 1
    assert await db.run(store.forget_channel, 11) == 1
    assert await db.run(rows, Feed) == [] and await db.run(rows, FeedEntry) == []
    assert await db.run(rows, Subscription) == []


async def test_find_subscription_by_id_or_address_only_in_its_server(db: Database) -> None:
    result = await watch(db, "https://a.example/feed", [entry(1)])
    by_id = await db.run(store.find_subscription, 1, str(result.subscription_id))
    by_url = await db.run(store.find_subscription, 1, "https://a.example/feed")
    assert by_id == by_url and by_id is not None and by_id.title == "Albums"
    assert await db.run(store.find_subscription, 2, str(result.subscription_id)) is None


# --------------------------------------------------------------------------------------------- schedule


def test_feeds_keep_their_own_slot_and_spread_over_the_interval() -> None:
    firsts = [store.next_poll(NOW, INTERVAL, feed_id) for feed_id in range(1, 201)]
    offsets = sorted((f - NOW).total_seconds() for f in firsts)
    assert INTERVAL / 2 <= offsets[0] and offsets[-1] < 1.5 * INTERVAL
    assert offsets[-1] - offsets[0] > 0.9 * INTERVAL  # spread, not bunched
    # Polled a little late each time, a feed still comes back on its slot, one interval apart.
    when = firsts[0]
    for _ in range(5):
        following = store.next_poll(when + timedelta(seconds=7), INTERVAL, 1)
        assert following - when == timedelta(seconds=INTERVAL)
        when = following


def test_cache_control_stretches_within_bounds() -> None:
    assert store.next_poll(NOW, INTERVAL, 1, cache_max_age=1800) == NOW + timedelta(seconds=1800)
    assert store.next_poll(NOW, INTERVAL, 1, cache_max_age=10**7) == NOW + timedelta(seconds=6 * INTERVAL)
