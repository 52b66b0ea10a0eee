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
