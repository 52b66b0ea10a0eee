"""The photo of the day through the sandbox, with the clock in the test's hands: exactly one post per
server and local day through daylight-saving changes, restarts, a second process and clock jumps."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from bot import delivery
from bot.core import Cupola
from bot.db import Database
from bot.models import Delivery
from bot.photos import potd, schedule
from bot.photos.poster import PhotoOfTheDay
from bot.sandbox import Channel, Sandbox
from tests.support.helpers import (
    ImageServer,
    controlled,
    field_values,
    footer,
    make_settings,
    potd_service,
    running_bot,
    seed_url_photos,
    set_schedule,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def potd_posts(sandbox: Sandbox, channel: Channel) -> list[dict[str, Any]]:
    return [
        m
        for m in sandbox.channel_messages(channel)
        if "Photo of the day" in footer(m) or "每日一图" in footer(m)
    ]


def posted_photo(message: dict[str, Any]) -> int:
    return int(footer(message).rsplit("#", 1)[1])


def assert_full_post(message: dict[str, Any], *, card: bool = True) -> None:
    """Caption, credit, photographer and source in every post; the credit card attached when it can be."""
    embed = message["embeds"][0]
    assert embed["title"] == "Photo of the day"
    assert embed["description"].startswith("Flyaround view number")
    fields = field_values(message)
    assert fields["Credit"] == "NASA"
    assert fields["Photographer"] == "Thomas Pesquet"
    assert "Astronauts took a fly-around" in fields["Source article"]
    if card:
        [attachment] = message["attachments"]
        assert attachment["filename"].startswith("potd-") and attachment["filename"].endswith(".jpg")
        assert embed["image"]["url"] == f"attachment://{attachment['filename']}"
        assert "Picture" not in fields


async def step(
    bot: Cupola, service: PhotoOfTheDay, start: datetime, end: datetime, every: timedelta
) -> list[Any]:
    """Tick at every ``every`` from ``start`` to ``end`` (inclusive); returns (time, outcome) of each post."""
    clock = controlled(bot, start)
    posts = []
    now = start
    while now <= end:
        clock.set(now)
        for outcome in await service.tick():
            if outcome.status == "sent":
                posts.append((now, outcome))
        now += every
    return posts


def card_size(sandbox: Sandbox, message: dict[str, Any]) -> tuple[int, int]:
    stored = sandbox.files[int(message["attachments"][0]["id"])]
    return Image.open(io.BytesIO(stored.data)).size


# ------------------------------------------------------------------------------------------ once a day


async def test_once_per_day_through_repeated_ticks_and_a_second_process(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    ids = await seed_url_photos(db, image_server, 5)
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", utc(2026, 6, 1, 7))
    posts = await step(bot, service, utc(2026, 6, 1, 8), utc(2026, 6, 1, 23, 59), timedelta(minutes=29))
    assert [when for when, _ in posts] == [utc(2026, 6, 1, 8, 58)]  # the first tick at or after 08:30
    [message] = potd_posts(sandbox, channel)
    assert_full_post(message)
    assert footer(message) == f"Photo of the day · 2026-06-01 · #{posts[0][1].photo_id}"
    assert message["nonce"].startswith("cupola-")
    assert card_size(sandbox, message)[1] > 240  # the photo plus its caption/credit strip
    # Day two: two processes tick at the same moment; one posts.
    other = PhotoOfTheDay(bot, sender=service.sender, owner="another-process")
    controlled(bot, utc(2026, 6, 2, 8, 30))
    outcomes = [o for batch in await asyncio.gather(service.tick(), other.tick()) for o in batch]
    assert sorted(o.status for o in outcomes) in (["sent"], ["sent", "skipped"])
    await other.aclose()
    messages = potd_posts(sandbox, channel)
    assert len(messages) == 2
    assert posted_photo(messages[1]) != posted_photo(messages[0])  # the no-repeat rule per server
    assert {posted_photo(m) for m in messages} <= set(ids)
    # A clock jump back into day one changes nothing.
    controlled(bot, utc(2026, 6, 1, 12))
    assert await service.tick() == []
    assert len(potd_posts(sandbox, channel)) == 2


async def test_no_repeat_until_every_photo_was_posted(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    ids = await seed_url_photos(db, image_server, 3)
    await set_schedule(db, guild.id, channel.id, "06:00", "UTC", utc(2026, 6, 1))
    # (Four posts: Discord allows five messages per five seconds in one channel.)
    await step(bot, service, utc(2026, 6, 1, 6), utc(2026, 6, 4, 6), timedelta(days=1))
    posted = [posted_photo(m) for m in potd_posts(sandbox, channel)]
    assert len(posted) == 4
    assert sorted(posted[:3]) == sorted(ids)
    assert posted[3] != posted[2]


async def test_spring_forward_gap(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    """New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens that day."""
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 3)
    await set_schedule(db, guild.id, channel.id, "02:30", "America/New_York", utc(2026, 3, 1))
    posts = await step(bot, service, utc(2026, 3, 8, 5), utc(2026, 3, 9, 8), timedelta(minutes=10))
    assert [when for when, _ in posts] == [
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT, the first moment past 02:30
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT the next day
    ]
    assert [footer(m).split(" · ")[1] for m in potd_posts(sandbox, channel)] == ["2026-03-08", "2026-03-09"]


async def test_fall_back_repeated_hour(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    """New York, 2026-11-01: 01:00–02:00 happens twice; 01:30 posts at its first occurrence only."""
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 3)
    await set_schedule(db, guild.id, channel.id, "01:30", "America/New_York", utc(2026, 10, 30))
    posts = await step(bot, service, utc(2026, 11, 1, 4), utc(2026, 11, 1, 8), timedelta(minutes=10))
    assert [when for when, _ in posts] == [utc(2026, 11, 1, 5, 30)]  # 01:30 EDT; 01:30 EST (06:30) is skipped
    assert len(potd_posts(sandbox, channel)) == 1


async def test_down_at_the_hour_posts_on_return_the_same_day_only(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 3)
    await set_schedule(db, guild.id, channel.id, "08:30", "Europe/Paris", utc(2026, 6, 1))
    # Back at 22:50 Paris time on June 1st: that day's post goes out.
    posts = await step(bot, service, utc(2026, 6, 1, 20, 50), utc(2026, 6, 1, 21), timedelta(minutes=5))
    assert len(posts) == 1
    # Down all of June 2nd; back on June 3rd before 08:30: June 2nd is gone, June 3rd waits for its hour.
    assert await step(bot, service, utc(2026, 6, 3, 5), utc(2026, 6, 3, 6), timedelta(minutes=30)) == []
    posts = await step(bot, service, utc(2026, 6, 3, 6, 30), utc(2026, 6, 3, 6, 30), timedelta(minutes=1))
    assert len(posts) == 1
    assert [footer(m).split(" · ")[1] for m in potd_posts(sandbox, channel)] == ["2026-06-01", "2026-06-03"]


async def test_two_servers_in_different_zones(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path, image_server: ImageServer
) -> None:
    tokyo = sandbox.add_guild("Tokyo", locale="zh-CN")
    paris_guild = next(iter(sandbox.guilds.values()))
    await seed_url_photos(db, image_server, 4)
    async with running_bot(make_settings(sandbox, tmp_path, db_url), db, sandbox) as bot:
        service = potd_service(bot)
        paris, tokyo_channel = sandbox.default_channel(paris_guild), sandbox.default_channel(tokyo)
        # Both set on May 31st, after that day's 08:00 in both zones: June 1st is the first post.
        await set_schedule(db, paris_guild.id, paris.id, "08:00", "Europe/Paris", utc(2026, 5, 31, 19))
        await set_schedule(db, tokyo.id, tokyo_channel.id, "08:00", "Asia/Tokyo", utc(2026, 5, 31, 19))
        posts = await step(bot, service, utc(2026, 5, 31, 20), utc(2026, 6, 1, 20), timedelta(minutes=30))
    assert sorted((when, o.guild_id) for when, o in posts) == [
        (utc(2026, 5, 31, 23), tokyo.id),  # 08:00 JST on June 1st
        (utc(2026, 6, 1, 6), paris_guild.id),  # 08:00 CEST
    ]
    [tokyo_post] = potd_posts(sandbox, tokyo_channel)
    assert tokyo_post["embeds"][0]["title"] == "每日一图"  # the server's language
    assert field_values(tokyo_post)["署名"] == "NASA"
    assert footer(tokyo_post).startswith("每日一图 · 2026-06-01 · #")
    assert_full_post(potd_posts(sandbox, paris)[0])


# ------------------------------------------------------------------------------------------ restarts


def payload_of(*, session: Any, key: str) -> tuple[str, dict[str, Any], int]:
    row = session.exec(select(Delivery).where(Delivery.kind == "potd", Delivery.key == key)).one()
    return row.status, json.loads(row.payload), row.attempts


async def test_crash_between_choosing_and_posting_posts_the_same_photo_once(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path, image_server: ImageServer
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 6)
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", utc(2026, 6, 1))
    settings = make_settings(sandbox, tmp_path, db_url)
    at = utc(2026, 6, 1, 8, 30)
    async with running_bot(settings, db, sandbox) as first:
        potd_service(first)
        [due] = await db.run(schedule.due_posts, now=at)
        # The first process claims the day and chooses its photo, then dies before posting.
        prepared = await db.run(potd.prepare_post, due, now=at, owner="crashed-process")
        assert prepared is not None
    chosen = prepared.photo.id
    assert potd_posts(sandbox, channel) == []
    async with running_bot(settings, db, sandbox, sync=False) as second:  # (stopping closed the database)
        service = potd_service(second)
        status, payload, attempts = await db.run(payload_of, key=due.key)
        assert (status, payload["photo_id"], attempts) == ("pending", chosen, 1)
        # While the dead process's lease runs, nobody posts (it might still be posting).
        controlled(second, at + timedelta(minutes=1))
        assert [o.status for o in await service.tick()] == ["skipped"]
        controlled(second, at + delivery.LEASE + timedelta(seconds=30))
        [outcome] = await service.tick()
        assert outcome.status == "sent" and outcome.photo_id == chosen
        controlled(second, at + timedelta(hours=3))
        assert await service.tick() == []
        status, _, attempts = await db.run(payload_of, key=due.key)
        assert (status, attempts) == ("sent", 2)
    [message] = potd_posts(sandbox, channel)
    assert posted_photo(message) == chosen
    assert_full_post(message)


async def test_clean_stop_while_fetching_hands_the_post_to_the_next_start(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path, image_server: ImageServer
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 4)
    for path in list(image_server.files):
        image_server.gates[path] = asyncio.Event()  # every picture download hangs
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", utc(2026, 6, 1))
    settings = make_settings(sandbox, tmp_path, db_url)
    at = utc(2026, 6, 1, 9)
    async with running_bot(settings, db, sandbox) as first:
        service = potd_service(first)
        controlled(first, at)
        ticking = asyncio.create_task(service.tick())
        await asyncio.wait_for(image_server.requested.wait(), 10)
        # The bot is stopped while it fetches the chosen photo.
    with contextlib.suppress(asyncio.CancelledError):
        await ticking
    for gate in image_server.gates.values():
        gate.set()
    async with running_bot(settings, db, sandbox, sync=False) as second:
        service = potd_service(second)
        status, payload, _ = await db.run(payload_of, key=f"{guild.id}:2026-06-01")
        assert status == "failed"  # handed back at once: the next start need not wait for a lease
        chosen = payload["photo_id"]
        controlled(second, at + timedelta(seconds=30))  # no lease to wait for
        [outcome] = await service.tick()
        assert outcome.status == "sent" and outcome.photo_id == chosen
    [message] = potd_posts(sandbox, channel)
    assert posted_photo(message) == chosen
    assert_full_post(message)


async def test_an_attempt_that_may_have_posted_is_not_repeated(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    """Crash after the message went out but before it was recorded: the take-over finds the post."""
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 3)
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", utc(2026, 6, 1))
    at = utc(2026, 6, 1, 9)
    controlled(bot, at)
    real_mark_sent = delivery.mark_sent

    async def crash_before_recording(*args: Any, **kwargs: Any) -> None:
        raise asyncio.CancelledError  # the process "dies" right after posting

    original_run = bot.db.run

    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn in (real_mark_sent, delivery.mark_sent_many):
            await crash_before_recording()
        return await original_run(fn, *args, **kwargs)

    bot.db.run = run  # type: ignore[method-assign]
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await service.tick()
    finally:
        bot.db.run = original_run  # type: ignore[method-assign]
    assert len(potd_posts(sandbox, channel)) == 1
    controlled(bot, at + delivery.LEASE + timedelta(seconds=1))
    [outcome] = await service.tick()
    assert outcome.status == "recovered"
    assert len(potd_posts(sandbox, channel)) == 1
    assert await db.run(schedule.finished_keys, [f"{guild.id}:2026-06-01"]) == {f"{guild.id}:2026-06-01"}


async def test_the_loop_posts_on_its_own(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    cog = bot.get_cog("PhotoOfTheDay")
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    await seed_url_photos(db, image_server, 2)
    await set_schedule(db, guild.id, channel.id, "08:30", "UTC", utc(2026, 6, 1))
    controlled(bot, utc(2026, 6, 1, 9))
    cog.scheduler.change_interval(seconds=0.05)  # type: ignore[attr-defined]
    cog.scheduler.restart()  # type: ignore[attr-defined]
    await sandbox.wait_until(lambda: potd_posts(sandbox, channel), timeout=10)
    await asyncio.sleep(0.3)  # several more rounds
    assert len(potd_posts(sandbox, channel)) == 1


async def test_only_owned_guilds_are_posted(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = potd_service(bot)
    guild = next(iter(sandbox.guilds.values()))
    await seed_url_photos(db, image_server, 2)
    await set_schedule(db, guild.id, sandbox.default_channel(guild).id, "08:30", "UTC", utc(2026, 6, 1))
    monkeypatch.setattr(bot, "owns_guild", lambda gid: gid != guild.id)
    controlled(bot, utc(2026, 6, 1, 9))
    assert await service.tick() == []
    assert potd_posts(sandbox, sandbox.default_channel(guild)) == []
