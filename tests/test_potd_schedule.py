"""Scheduling maths and the photo-of-the-day database functions, without Discord."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import delivery
from bot.db import Database
from bot.errors import UserFacingError
from bot.photos import potd, schedule
from bot.photos.catalog import remove_photo
from bot.photos.schedule import (
    DuePost,
    Schedule,
    parse_time,
    parse_timezone,
    scheduled_instant,
    suggest_timezones,
)
from tests.support.helpers import insert_photos, url_specs

NY = ZoneInfo("America/New_York")
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(("text", "expected"), [("08:30", time(8, 30)), ("8:05", time(8, 5)), ("23:59", time(23, 59)),
                                                ("00:00", time(0, 0)), (" 7：45 ", time(7, 45))])  # fmt: skip
def test_parse_time_accepts_24_hour(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8am", "08:60", "0830", "", "noon", "8:5"])
def test_parse_time_refuses_with_the_allowed_form(text: str) -> None:
    with pytest.raises(UserFacingError) as info:
        parse_time(text)
    assert info.value.key == "potd.bad_time"
    assert info.value.message.startswith("time must look like 08:30 (24-hour")


def test_parse_timezone() -> None:
    assert parse_timezone("Europe/Paris") == "Europe/Paris"
    assert parse_timezone("america/new york") == "America/New_York"
    assert parse_timezone("utc") == "UTC"
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "", "CET+1"):
        with pytest.raises(UserFacingError) as info:
            parse_timezone(bad)
        assert info.value.key == "potd.bad_timezone"
        assert "IANA zone name such as Europe/Paris" in info.value.message


def test_timezone_suggestions() -> None:
    assert suggest_timezones("")[0] == "UTC"
    paris = suggest_timezones("par")
    assert "Europe/Paris" in paris and len(paris) <= 25
    assert suggest_timezones("europe/pa")[0] == "Europe/Paris"
    assert "America/New_York" in suggest_timezones("new y")
    assert len(suggest_timezones("a")) == 25
    assert suggest_timezones("zzzz") == []


# ------------------------------------------------------------------------------------------ instants


def test_scheduled_instant_normal_day() -> None:
    assert scheduled_instant(date(2026, 6, 1), time(8, 30), NY) == utc(2026, 6, 1, 12, 30)


def test_spring_forward_gap_posts_when_the_clock_jumps_past() -> None:
    # 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT; 02:30 never happens.
    assert scheduled_instant(date(2026, 3, 8), time(2, 30), NY) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert scheduled_instant(date(2026, 3, 8), time(3, 30), NY) == utc(2026, 3, 8, 7, 30)
    # Lord Howe moves by 30 minutes: 02:15 does not exist, 02:30 is the first moment after it.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    instant = scheduled_instant(date(2026, 10, 4), time(2, 15), lord_howe)
    assert instant.astimezone(lord_howe).strftime("%H:%M") == "02:30"


def test_fall_back_repeated_hour_posts_at_the_first() -> None:
    # 2026-11-01 in New York: 01:00–02:00 happens twice (EDT, then EST).
    assert scheduled_instant(date(2026, 11, 1), time(1, 30), NY) == utc(2026, 11, 1, 5, 30)
    assert scheduled_instant(date(2026, 11, 1), time(8, 30), NY) == utc(2026, 11, 1, 13, 30)


def test_due_day_and_next_post() -> None:
    s = Schedule(1, 2, time(8, 30), "America/New_York", LONG_AGO)
    assert s.due_day(utc(2026, 6, 1, 12, 29)) is None
    assert s.due_day(utc(2026, 6, 1, 12, 30)) == date(2026, 6, 1)
    assert s.due_day(utc(2026, 6, 2, 3, 59)) == date(2026, 6, 1)  # 23:59 local: still that day
    assert s.due_day(utc(2026, 6, 2, 4, 0)) is None  # local midnight: the next day, not yet time
    assert s.next_post(utc(2026, 6, 1, 10, 0), posted_today=False) == utc(2026, 6, 1, 12, 30)
    assert s.next_post(utc(2026, 6, 1, 15, 0), posted_today=False) == utc(2026, 6, 1, 15, 0)  # overdue
    assert s.next_post(utc(2026, 6, 1, 15, 0), posted_today=True) == utc(2026, 6, 2, 12, 30)


def test_a_schedule_set_after_todays_time_starts_tomorrow() -> None:
    s = Schedule(1, 2, time(8, 30), "UTC", updated_at=utc(2026, 6, 1, 10, 0))
    assert s.due_day(utc(2026, 6, 1, 11, 0)) is None
    assert s.next_post(utc(2026, 6, 1, 11, 0), posted_today=False) == utc(2026, 6, 2, 8, 30)
    assert s.due_day(utc(2026, 6, 2, 8, 30)) == date(2026, 6, 2)


# ------------------------------------------------------------------------------------------ database


async def test_due_posts_skips_sent_days(db: Database) -> None:
    for gid, zone_name in ((1, "UTC"), (2, "Asia/Shanghai"), (3, "America/Los_Angeles")):
        await db.run(
            schedule.set_schedule,
            gid,
            channel_id=gid * 10,
            at=time(8, 0),
            timezone=zone_name,
            now=LONG_AGO,
            user_id=9,
        )
    now = utc(2026, 6, 1, 9, 0)  # 09:00 UTC, 17:00 Shanghai, 02:00 Los Angeles
    due = await db.run(schedule.due_posts, now=now)
    assert sorted((d.guild_id, d.day, d.key) for d in due) == [
        (1, date(2026, 6, 1), "1:2026-06-01"),
        (2, date(2026, 6, 1), "2:2026-06-01"),
    ]
    claim = await db.run(delivery.claim, "potd", "1:2026-06-01", channel_id=10, guild_id=1, now=now)
    await db.run(delivery.mark_sent, claim.id, 77, now=now)
    assert [d.guild_id for d in await db.run(schedule.due_posts, now=now)] == [2]
    assert await db.run(schedule.disable, 2, now=now, user_id=9)
    assert not await db.run(schedule.disable, 2, now=now, user_id=9)
    assert await db.run(schedule.due_posts, now=now) == []


async def test_prepare_post_claims_once_and_keeps_its_photo(db: Database) -> None:
    await db.run(insert_photos, url_specs(5), guild_id=7)
    due = DuePost(7, 70, date(2026, 6, 1), "7:2026-06-01")
    now = utc(2026, 6, 1, 9, 0)
    first = await db.run(potd.prepare_post, due, now=now, owner="process-a")
    assert first is not None and not first.maybe_posted
    assert first.claim.payload == {
        "day": "2026-06-01",
        "photo_id": first.photo.id,
        "started_at": now.isoformat(),
    }
    # Another process, while the claim is fresh: nothing to do.
    assert await db.run(potd.prepare_post, due, now=now, owner="process-b") is None
    # After process-a died (lease over), process-b takes over with the same photo.
    later = now + delivery.LEASE + timedelta(seconds=1)
    second = await db.run(potd.prepare_post, due, now=later, owner="process-b")
    assert second is not None
    assert second.photo.id == first.photo.id and second.claim.id == first.claim.id
    assert second.claim.attempts == 2 and second.maybe_posted


async def test_prepare_post_chooses_again_when_its_photo_was_removed(db: Database) -> None:
    await db.run(insert_photos, url_specs(3), guild_id=7)
    due = DuePost(7, 70, date(2026, 6, 1), "7:2026-06-01")
    now = utc(2026, 6, 1, 9, 0)
    first = await db.run(potd.prepare_post, due, now=now)
    assert first is not None
    await db.run(potd.release, first.claim.id, "stopped")
    await db.run(remove_photo, first.photo.id, guild_id=7)
    again = await db.run(potd.prepare_post, due, now=now)
    assert again is not None and again.photo.id != first.photo.id
    assert again.claim.payload["photo_id"] == again.photo.id


async def test_prepare_post_without_photos_does_not_claim(db: Database) -> None:
    await db.run(insert_photos, [{"url": None, "caption": "text only", "credit": "NASA"}], guild_id=7)
    due = DuePost(7, 70, date(2026, 6, 1), "7:2026-06-01")
    assert await db.run(potd.prepare_post, due, now=utc(2026, 6, 1, 9)) is None

    def deliveries(*, session: Any) -> int:
        from sqlmodel import func, select

        from bot.models import Delivery

        return session.exec(select(func.count()).select_from(Delivery)).one()

    assert await db.run(deliveries) == 0


async def test_prepare_post_gives_up_after_max_attempts(db: Database) -> None:
    await db.run(insert_photos, url_specs(1), guild_id=7)
    due = DuePost(7, 70, date(2026, 6, 1), "7:2026-06-01")
    now = utc(2026, 6, 1, 9)
    for _ in range(potd.MAX_ATTEMPTS):
        prepared = await db.run(potd.prepare_post, due, now=now)
        assert prepared is not None
        await db.run(delivery.mark_failed, prepared.claim.id, "503")
    assert await db.run(potd.prepare_post, due, now=now) is None
    assert await db.run(schedule.finished_keys, ["7:2026-06-01"]) == {"7:2026-06-01"}


# ------------------------------------------------------------------------------------------ batches


def _dues(guilds: range, day: date) -> list[DuePost]:
    return [DuePost(g, g * 10, day, schedule.potd_key(g, day)) for g in guilds]


def _shown(*, session: Any) -> list[tuple[str, int]]:
    from sqlmodel import select

    from bot.models import PhotoShown

    return sorted((r.scope, r.photo_id) for r in session.exec(select(PhotoShown)).all())


async def test_a_batch_claims_every_new_day_as_one_post_at_a_time_would(db: Database) -> None:
    await db.run(insert_photos, url_specs(4))
    day, now = date(2026, 6, 1), utc(2026, 6, 1, 9)
    prepared = await db.run(potd.prepare_posts, _dues(range(1, 17), day), now=now, owner="process-a")
    assert all(p is not None for p in prepared)
    for g, p in zip(range(1, 17), prepared, strict=True):
        assert p is not None and p.guild_id == g and p.channel_id == g * 10 and p.day == day
        assert not p.maybe_posted and p.claim.attempts == 1 and p.claim.key == f"{g}:2026-06-01"
        assert p.claim.payload == {"day": "2026-06-01", "photo_id": p.photo.id, "started_at": now.isoformat()}
    assert len({p.claim.id for p in prepared if p}) == 16
    assert await db.run(_shown) == sorted((f"potd:{p.guild_id}", p.photo.id) for p in prepared if p)
    # Held by process-a: nothing for process-b; after the lease, process-b takes over the same photos.
    assert (
        await db.run(potd.prepare_posts, _dues(range(1, 17), day), now=now, owner="process-b") == [None] * 16
    )
    later = now + delivery.LEASE + timedelta(seconds=1)
    again = await db.run(potd.prepare_posts, _dues(range(1, 17), day), now=later, owner="process-b")
    assert [(a.claim.id, a.photo.id, a.claim.attempts, a.maybe_posted) for a in again if a] == [
        (p.claim.id, p.photo.id, 2, True) for p in prepared if p
    ]


async def test_a_batch_mixes_new_days_with_retries_and_servers_without_photos(db: Database) -> None:
    await db.run(insert_photos, url_specs(3))
    await db.run(insert_photos, [{"url": None, "caption": "text only", "credit": "NASA"}], guild_id=5)
    day, now = date(2026, 6, 1), utc(2026, 6, 1, 9)
    first = await db.run(potd.prepare_post, DuePost(2, 20, day, "2:2026-06-01"), now=now)
    assert first is not None
    await db.run(delivery.mark_failed, first.claim.id, "503")
    await db.run(schedule.finished_keys, ["3:2026-06-01"])
    sent = await db.run(potd.prepare_post, DuePost(3, 30, day, "3:2026-06-01"), now=now)
    assert sent is not None
    await db.run(delivery.mark_sent, sent.claim.id, 99, now=now)
    prepared = await db.run(potd.prepare_posts, _dues(range(1, 5), day), now=now)
    by_guild = {g: p for g, p in zip(range(1, 5), prepared, strict=True)}
    assert by_guild[1] is not None and by_guild[1].claim.attempts == 1
    retry = by_guild[2]
    assert retry is not None and retry.claim.id == first.claim.id and retry.claim.attempts == 2
    assert retry.photo.id == first.photo.id and retry.maybe_posted
    assert by_guild[3] is None  # posted already
    assert by_guild[4] is not None


async def test_batches_keep_the_rotation_no_repeats_until_every_photo_was_shown(db: Database) -> None:
    ids = await db.run(insert_photos, url_specs(3))
    seen: list[int] = []
    for d in range(1, 7):
        now = utc(2026, 6, d, 9)
        [p] = await db.run(potd.prepare_posts, _dues(range(1, 2), date(2026, 6, d)), now=now)
        assert p is not None
        await db.run(delivery.mark_sent, p.claim.id, 100 + d, now=now)
        seen.append(p.photo.id)
    assert sorted(seen[:3]) == sorted(ids) and sorted(seen[3:]) == sorted(ids)
    assert seen[3] != seen[2]  # a new cycle does not start with the photo shown last


async def test_a_pick_taken_in_the_same_scope_meanwhile_is_chosen_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A /potd now in the same server records its photo between our pick and our record of it."""
    from bot.photos import rotation

    await db.run(insert_photos, url_specs(2))
    original = rotation.next_photo
    taken: list[int] = []

    def next_photo_then_taken(scope: str, guild_id: int | None, *, session: Any) -> int | None:
        photo_id = original(scope, guild_id, session=session)
        if photo_id is not None and not taken:
            assert rotation.mark_shown(scope, photo_id, session=session, now=utc(2026, 6, 1, 9))
            taken.append(photo_id)
        return photo_id

    monkeypatch.setattr(potd, "next_photo", next_photo_then_taken)
    [p] = await db.run(potd.prepare_posts, _dues(range(1, 2), date(2026, 6, 1)), now=utc(2026, 6, 1, 9))
    assert p is not None and p.photo.id != taken[0]
    assert p.claim.payload["photo_id"] == p.photo.id
    assert await db.run(_shown) == sorted([("potd:1", taken[0]), ("potd:1", p.photo.id)])


async def test_a_batch_of_new_days_takes_a_few_statements_not_several_per_server(db: Database) -> None:
    from sqlalchemy import event

    await db.run(insert_photos, url_specs(4))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        prepared = await db.run(
            potd.prepare_posts, _dues(range(1, 17), date(2026, 6, 1)), now=utc(2026, 6, 1, 9)
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert all(p is not None for p in prepared)
    # One pick per server (the rotation's random choice); everything else once for the batch.
    picks = [s for s in statements if s.startswith("SELECT photo.id ") and "random()" in s]
    assert len(picks) == 16
    assert len(statements) - len(picks) <= 10, statements
