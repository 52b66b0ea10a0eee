"""What /photo and /potd do, start to finish: the services the cogs reach as ``bot.photos`` and ``bot.potd``.

Each change is one transaction with its audit line (bot/audit.py); a reply's facts (the next post
time) are read in that same transaction, so what the admin is told is what was committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot import audit
from bot.db import Database
from bot.photos import catalog, rotation, schedule

if TYPE_CHECKING:
    from bot.photos.poster import Outcome

PostNow = Callable[[int, int, int], Awaitable["Outcome | None"]]
"""Posts an extra photo of the day: (guild_id, channel_id, request_id) -> outcome, None: no photo."""


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """A server's photo-of-the-day schedule (None: off) and when its next post goes out."""

    schedule: schedule.Schedule | None
    posted_today: bool = False
    next_post: datetime | None = None


def _state(saved: schedule.Schedule | None, now: datetime, *, session: Session) -> ScheduleState:
    if saved is None:
        return ScheduleState(None)
    posted = schedule.posted_today(saved, now, session=session)
    return ScheduleState(saved, posted, saved.next_post(now, posted_today=posted))


def _set(
    guild_id: int,
    *,
    session: Session,
    channel_id: int,
    at: time,
    timezone: str,
    now: datetime,
    user_id: int | None,
) -> ScheduleState:
    saved = schedule.set_schedule(
        guild_id, channel_id=channel_id, at=at, timezone=timezone, now=now, user_id=user_id, session=session
    )
    audit.record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="potd.set",
        target=f"channel {channel_id} at {schedule.format_time(at)} {timezone}",
        at=now,
    )
    return _state(saved, now, session=session)


def _off(guild_id: int, *, session: Session, now: datetime, user_id: int | None) -> bool:
    was_on = schedule.disable(guild_id, now=now, user_id=user_id, session=session)
    if was_on:
        audit.record(
            session=session, guild_id=guild_id, user_id=user_id, action="potd.off", target="", at=now
        )
    return was_on


def _status(guild_id: int, *, session: Session, now: datetime) -> ScheduleState:
    return _state(schedule.get_schedule(guild_id, session=session), now, session=session)


class PotdService:
    """/potd set, off, status and now (the daily posting itself is bot/photos/poster.py's)."""

    def __init__(self, *, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def set(
        self, guild_id: int, *, user_id: int | None, channel_id: int, at: time, timezone: str
    ) -> ScheduleState:
        """Save the schedule and its audit line, and read when the next post goes out: one transaction."""
        return await self.db.run(
            partial(
                _set,
                guild_id,
                channel_id=channel_id,
                at=at,
                timezone=timezone,
                now=self.clock(),
                user_id=user_id,
            )
        )

    async def off(self, guild_id: int, *, user_id: int | None) -> bool:
        """Turn it off (with its audit line); False when it was not on."""
        return await self.db.run(partial(_off, guild_id, now=self.clock(), user_id=user_id))

    async def status(self, guild_id: int) -> ScheduleState:
        return await self.db.run(partial(_status, guild_id, now=self.clock()))

    async def post_now(
        self, saved: schedule.Schedule, request_id: int, post: PostNow
    ) -> tuple[Outcome, ScheduleState] | None:
        """An extra post now, through ``post`` (the poster); None when there is no photo to post.
        The state says when the next scheduled post goes out (an extra post does not count)."""
        outcome = await post(saved.guild_id, saved.channel_id, request_id)
        if outcome is None:
            return None
        return outcome, await self.db.run(partial(_state, saved, self.clock()))


class PhotoService:
    """/photo random, show and credits, and the Another button."""

    def __init__(self, *, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def next_in_channel(self, channel_id: int, *, guild_id: int | None) -> catalog.PhotoView | None:
        """The next photo of the channel's no-repeat rotation, recorded as shown; None: no photos."""
        return await self.db.run(
            partial(
                rotation.choose_photo, rotation.channel_scope(channel_id), guild_id=guild_id, now=self.clock()
            )
        )

    async def find(self, reference: str, *, guild_id: int | None) -> catalog.PhotoView | None:
        return await self.db.run(partial(catalog.find_photo, reference, guild_id=guild_id))

    async def search(self, text: str, *, guild_id: int | None) -> list[tuple[int, str]]:
        return await self.db.run(partial(catalog.search_photos, text, guild_id=guild_id))

    async def credits(self, *, guild_id: int | None) -> list[catalog.CreditGroup]:
        return await self.db.run(partial(catalog.list_credits, guild_id=guild_id))
