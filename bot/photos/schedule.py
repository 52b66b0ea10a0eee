"""When the photo of the day is due: wall-clock times in IANA zones, once per local day.

Rule: a server's post for local day D is due from the first instant at which the local clock
reads its HH:MM on D, until D ends. So a time inside a spring-forward gap (02:30 when clocks jump
from 02:00 to 03:00) posts at 03:00; a time in a fall-back repeated hour posts at its first
occurrence (the second finds the day's delivery sent). A schedule set after today's time has
passed starts tomorrow. The delivery key is "<guild>:<local date>", so restarts, a second
process or a clock jump can never post twice for one day.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session, col, select

from bot.errors import UserFacingError
from bot.models import Delivery, GuildSettings
from bot.photos.catalog import POTD_KIND

log = logging.getLogger(__name__)

_TIME = re.compile(r"^([01]?\d|2[0-3])[:：.h]([0-5]\d)$")
_KEY_CHUNK = 500


# ------------------------------------------------------------------------------------------ parsing


def parse_time(text: str) -> time:
    """'08:30' or '8:30' (24-hour) → time(8, 30); anything else is refused with the allowed form."""
    match = _TIME.match(text.strip())
    if not match:
        raise UserFacingError(
            f"time must look like 08:30 (24-hour, 00:00 to 23:59), not {text.strip()[:20]!r}.",
            key="potd.bad_time",
            value=text.strip()[:20],
        )
    return time(int(match.group(1)), int(match.group(2)))


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """IANA zone names, sorted; legacy aliases such as "US/Eastern" are kept (people type them)."""
    names = {n for n in available_timezones() if not n.startswith(("posix/", "right/")) and n != "localtime"}
    names.add("UTC")
    return tuple(sorted(names))


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in timezone_names()}


def parse_timezone(text: str) -> str:
    """The canonical IANA name for ``text`` (case and spaces forgiven), or a refusal with examples."""
    wanted = text.strip().replace(" ", "_").casefold()
    name = _by_folded_name().get(wanted)
    if name is None:
        raise UserFacingError(
            f"timezone must be an IANA zone name such as Europe/Paris, America/New_York or Asia/Shanghai, "
            f"not {text.strip()[:40]!r}. Start typing and pick one from the list.",
            key="potd.bad_timezone",
            value=text.strip()[:40],
        )
    return name


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in the settings; using UTC", name)
        return ZoneInfo("UTC")


def suggest_timezones(current: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete: prefix matches on any part first, then substring matches."""
    needle = current.strip().replace(" ", "_").casefold()
    names = timezone_names()
    if not needle:
        popular = ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles"]
        popular += ["Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney"]
        return popular[:limit]
    first: list[str] = []
    second: list[str] = []
    for name in names:
        folded = name.casefold()
        if folded.startswith(needle) or any(part.startswith(needle) for part in folded.split("/")):
            first.append(name)
        elif needle in folded:
            second.append(name)
        if len(first) >= limit:
            break
    return (first + second)[:limit]


# ------------------------------------------------------------------------------------------ time maths


def aware(value: datetime) -> datetime:
    """Databases may hand back naive UTC datetimes."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_date(now: datetime, tz: ZoneInfo) -> date:
    return aware(now).astimezone(tz).date()


def scheduled_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first UTC instant at which the local clock in ``tz`` reads ``at`` (or later) on ``day``."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (for a repeated time, fold=0 is its first occurrence)
    # ``at`` falls in a gap: find the transition, where the local clock jumps past it.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)  # before the jump (local < at)
    hi = first  # after the jump (local > at)
    if lo > hi:
        lo, hi = hi, lo
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Schedule:
    guild_id: int
    channel_id: int
    at: time
    timezone: str
    updated_at: datetime

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def due_day(self, now: datetime) -> date | None:
        """The local day whose post is due at ``now``, or None (not yet time, or set after it)."""
        day = local_date(now, self.tz)
        instant = scheduled_instant(day, self.at, self.tz)
        if aware(now) >= instant and instant >= aware(self.updated_at):
            return day
        return None

    def next_post(self, now: datetime, *, posted_today: bool) -> datetime:
        """When the next scheduled post goes out (``now`` itself when today's is overdue)."""
        now = aware(now)
        day = local_date(now, self.tz)
        instant = scheduled_instant(day, self.at, self.tz)
        if not posted_today and instant >= aware(self.updated_at):
            return max(instant, now)
        return scheduled_instant(day + timedelta(days=1), self.at, self.tz)

    def key(self, day: date) -> str:
        return potd_key(self.guild_id, day)


def potd_key(guild_id: int, day: date) -> str:
    return f"{guild_id}:{day.isoformat()}"


def _schedule_of(row: GuildSettings) -> Schedule | None:
    if row.potd_channel_id is None or not row.potd_time:
        return None
    try:
        at = parse_time(row.potd_time)
    except UserFacingError:
        log.warning("guild %s has an unreadable photo-of-the-day time %r", row.guild_id, row.potd_time)
        return None
    return Schedule(row.guild_id, row.potd_channel_id, at, row.potd_timezone or "UTC", aware(row.updated_at))


# ------------------------------------------------------------------------------------------ settings


def get_schedule(guild_id: int, *, session: Session) -> Schedule | None:
    row = session.get(GuildSettings, guild_id)
    return _schedule_of(row) if row is not None else None


def set_schedule(
    guild_id: int,
    *,
    channel_id: int,
    at: time,
    timezone: str,
    now: datetime,
    user_id: int | None,
    session: Session,
) -> Schedule:
    """Post in ``channel_id`` at ``at`` local time each day (the audit line is the caller's:
    bot/photos/service.py writes it in the same transaction)."""
    row = session.get(GuildSettings, guild_id) or GuildSettings(guild_id=guild_id)
    row.potd_channel_id = channel_id
    row.potd_time = format_time(at)
    row.potd_timezone = timezone
    row.updated_at = now
    row.updated_by = user_id
    session.add(row)
    session.flush()
    schedule = _schedule_of(row)
    assert schedule is not None
    return schedule


def disable(guild_id: int, *, now: datetime, user_id: int | None, session: Session) -> bool:
    """Turn the photo of the day off; False when it was not on."""
    row = session.get(GuildSettings, guild_id)
    if row is None or row.potd_channel_id is None:
        return False
    row.potd_channel_id = None
    row.updated_at = now
    row.updated_by = user_id
    session.add(row)
    return True


# ------------------------------------------------------------------------------------------ due posts


@dataclass(frozen=True, slots=True)
class DuePost:
    guild_id: int
    channel_id: int
    day: date
    key: str


def finished_keys(keys: Iterable[str], *, session: Session) -> set[str]:
    """Keys whose photo-of-the-day delivery is sent (or dropped for good)."""
    keys = list(keys)
    done: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        stmt = select(Delivery.key).where(
            Delivery.kind == POTD_KIND,
            col(Delivery.key).in_(chunk),
            col(Delivery.status).in_(("sent", "dropped")),
        )
        done.update(session.exec(stmt).all())
    return done


def due_posts(*, now: datetime, session: Session) -> list[DuePost]:
    """Every server whose post for its current local day is due and not yet sent."""
    rows = session.exec(select(GuildSettings).where(col(GuildSettings.potd_channel_id).is_not(None))).all()
    due: list[DuePost] = []
    for row in rows:
        schedule = _schedule_of(row)
        if schedule is None:
            continue
        day = schedule.due_day(now)
        if day is not None:
            due.append(DuePost(schedule.guild_id, schedule.channel_id, day, schedule.key(day)))
    done = finished_keys((d.key for d in due), session=session)
    return [d for d in due if d.key not in done]


def posted_today(schedule: Schedule, now: datetime, *, session: Session) -> bool:
    return schedule.key(local_date(now, schedule.tz)) in finished_keys(
        [schedule.key(local_date(now, schedule.tz))], session=session
    )
