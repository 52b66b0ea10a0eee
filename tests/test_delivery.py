"""At most once per (kind, key): claims, stale take-over keeping the payload, and pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot import cluster, delivery
from bot.db import Database
from bot.models import Delivery
from bot.pacing import Pacer

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


async def test_claim_once_then_refuse(db: Database) -> None:
    first = await db.run(
        delivery.claim, "potd", "g1:2026-03-08", channel_id=5, guild_id=1, now=NOW, payload={"photo_id": 7}
    )
    assert first is not None and first.payload == {"photo_id": 7}
    # While the first poster holds the lease, nobody else may post it.
    assert await db.run(delivery.claim, "potd", "g1:2026-03-08", channel_id=5, guild_id=1, now=NOW) is None
    await db.run(delivery.mark_sent, first.id, 123, now=NOW)
    later = NOW + timedelta(hours=5)
    assert await db.run(delivery.claim, "potd", "g1:2026-03-08", channel_id=5, guild_id=1, now=later) is None
    assert await db.run(delivery.was_delivered, "potd", "g1:2026-03-08")


async def test_stale_claim_is_taken_over_with_its_payload(db: Database) -> None:
    first = await db.run(
        delivery.claim,
        "potd",
        "k",
        channel_id=5,
        guild_id=1,
        now=NOW,
        payload={"photo_id": 3},
        owner="crashed",
    )
    assert first is not None
    after_lease = NOW + delivery.LEASE + timedelta(seconds=1)
    again = await db.run(
        delivery.claim, "potd", "k", channel_id=5, guild_id=1, now=after_lease, payload={"photo_id": 99}
    )
    assert again is not None
    assert again.id == first.id and again.payload == {"photo_id": 3} and again.attempts == 2
    # Issue 11: the retry carried "cupola-<id>-2", which Discord could not recognise as the same post.
    assert again.nonce == first.nonce == f"cupola-{first.id}" and again.is_retry and not first.is_retry


async def test_a_restarted_process_takes_back_its_own_claims_at_once(db: Database) -> None:
    """Issue 11: a killed process's claims waited out the 2-minute lease, even for its own successor."""
    old = cluster.new_claimer("host/0of2")
    await db.run(cluster.heartbeat, "host/0of2", old, [0], now=NOW)
    first = await db.run(delivery.claim, "potd", "k", channel_id=5, guild_id=1, now=NOW, owner=old)
    assert first is not None
    # A peer that is alive holds its claim: nobody else takes it within the lease.
    peer = cluster.new_claimer("host/1of2")
    assert await db.run(delivery.claim, "potd", "k", channel_id=5, guild_id=1, now=NOW, owner=peer) is None
    new = cluster.new_claimer("host/0of2")
    assert new != old
    soon = NOW + timedelta(seconds=3)
    await db.run(cluster.heartbeat, "host/0of2", new, [0], now=soon)
    again = await db.run(delivery.claim, "potd", "k", channel_id=5, guild_id=1, now=soon, owner=new)
    assert again is not None and again.attempts == 2 and again.nonce == first.nonce


async def test_peers_take_over_the_claims_of_a_silent_process(db: Database) -> None:
    dead = cluster.new_claimer("host/0of2")
    await db.run(cluster.heartbeat, "host/0of2", dead, [0], now=NOW)
    first = await db.run(delivery.claim, "album", "a", channel_id=5, guild_id=1, now=NOW, owner=dead)
    assert first is not None
    peer = cluster.new_claimer("host/1of2")
    quiet = NOW + cluster.HEARTBEAT_TIMEOUT - timedelta(seconds=1)
    assert await db.run(delivery.claim, "album", "a", channel_id=5, guild_id=1, now=quiet, owner=peer) is None
    silent = NOW + cluster.HEARTBEAT_TIMEOUT + timedelta(seconds=1)
    assert silent < NOW + delivery.LEASE
    taken = await db.run(delivery.claim, "album", "a", channel_id=5, guild_id=1, now=silent, owner=peer)
    assert taken is not None and taken.attempts == 2


async def test_failed_is_retried_but_dropped_is_not(db: Database) -> None:
    a = await db.run(delivery.claim, "album", "a", channel_id=5, guild_id=1, now=NOW)
    b = await db.run(delivery.claim, "album", "b", channel_id=5, guild_id=1, now=NOW)
    assert a and b
    await db.run(delivery.mark_failed, a.id, "503 from Discord")
    await db.run(delivery.mark_failed, b.id, "channel deleted", permanent=True)
    assert await db.run(delivery.claim, "album", "a", channel_id=5, guild_id=1, now=NOW) is not None
    assert await db.run(delivery.claim, "album", "b", channel_id=5, guild_id=1, now=NOW) is None


async def test_concurrent_claims_have_one_winner(db: Database) -> None:
    results = await asyncio.gather(
        *(
            db.run(delivery.claim, "potd", "race", channel_id=1, guild_id=1, now=NOW, owner=f"p{i}")
            for i in range(6)
        )
    )
    assert sum(r is not None for r in results) == 1


async def test_pacer_spaces_requests_past_the_burst() -> None:
    clock = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = Pacer(rate=50.0, burst=5, clock=lambda: clock[0], sleep=fake_sleep)
    for _ in range(105):
        await pacer.wait()
    # 5 go at once, the other 100 at 50 per second: two seconds of (simulated) waiting.
    assert round(clock[0], 6) == 2.0
    assert all(s <= 1 / 50 + 1e-9 for s in slept)


async def test_enqueue_many_queues_each_post_once_and_leaves_existing_ones_alone(db: Database) -> None:
    def first(*, session: Session) -> bool:
        return delivery.enqueue(
            "album", "a:1", channel_id=1, guild_id=None, payload={"n": 0}, session=session
        )

    assert await db.run(first)
    items = [delivery.Queued("album", f"a:{n}", n, None, {"n": n}) for n in range(1, 1201)]  # > one chunk
    assert await db.run(delivery.enqueue_many, items) == 1199  # a:1 was there already
    assert await db.run(delivery.enqueue_many, items) == 0

    def rows(*, session: Session) -> list[tuple[str, str, int]]:
        found = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
        return [(d.key, d.payload, d.attempts) for d in found]

    found = await db.run(rows)
    assert len(found) == 1200
    assert found[0] == ("a:1", '{"n": 0}', 0)  # untouched
    assert found[1] == ("a:2", '{"n": 2}', 0) and found[-1][0] == "a:1200"  # queued in order
