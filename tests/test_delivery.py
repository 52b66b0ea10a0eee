"""At most once per (kind, key): claims, stale take-over keeping the payload, and pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot import delivery
from bot.db import Database

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
    assert again.nonce != first.nonce


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

    pacer = delivery.Pacer(rate=50.0, burst=5, clock=lambda: clock[0], sleep=fake_sleep)
    for _ in range(105):
        await pacer.wait()
    # 5 go at once, the other 100 at 50 per second: two seconds of (simulated) waiting.
    assert round(clock[0], 6) == 2.0
    assert all(s <= 1 / 50 + 1e-9 for s in slept)
