"""No repeats until everything was shown: a rotation per scope ("channel:<id>", "potd:<guild>").

Shown photos are PhotoShown rows, so the rotation survives restarts and is shared by every process.
When a scope has seen every showable photo a new cycle starts, avoiding the photo shown last.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, delete, func
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models import Photo, PhotoShown
from bot.photos.catalog import PhotoView, get_photo, showable_to

log = logging.getLogger(__name__)

_ATTEMPTS = 4


def channel_scope(channel_id: int) -> str:
    return f"channel:{channel_id}"


def potd_scope(guild_id: int) -> str:
    return f"potd:{guild_id}"


def _pick_statement(*, avoiding: bool) -> Any:
    shown = select(PhotoShown.photo_id).where(PhotoShown.scope == bindparam("scope", type_=String))
    stmt = select(col(Photo.id)).where(
        showable_to(bindparam("guild_id", type_=BigInteger)), col(Photo.id).not_in(shown)
    )
    if avoiding:
        stmt = stmt.where(col(Photo.id) != bindparam("avoid", type_=Integer))
    return stmt.order_by(func.random()).limit(1)


# Built once: a fan-out picks once per server, and building the statement cost more than running it.
# (A guild_id of None matches global photos only, as showable_to(None) does.)
_PICK = _pick_statement(avoiding=False)
_PICK_AVOIDING = _pick_statement(avoiding=True)


def _pick(scope: str, guild_id: int | None, *, session: Session, avoid: int | None = None) -> int | None:
    params = {"scope": scope, "guild_id": guild_id}
    if avoid is None:
        return session.execute(_PICK, params).scalar()
    return session.execute(_PICK_AVOIDING, {**params, "avoid": avoid}).scalar()


def last_shown(scope: str, *, session: Session) -> int | None:
    stmt = (
        select(PhotoShown.photo_id)
        .where(PhotoShown.scope == scope)
        .order_by(PhotoShown.shown_at.desc(), PhotoShown.id.desc())  # type: ignore[union-attr, attr-defined]
        .limit(1)
    )
    return session.exec(stmt).first()


def start_new_cycle(scope: str, *, session: Session) -> int | None:
    """Forget what ``scope`` has seen; returns the photo shown last (to avoid showing it twice in a row)."""
    last = last_shown(scope, session=session)
    session.execute(delete(PhotoShown).where(col(PhotoShown.scope) == scope))
    return last


def mark_shown(scope: str, photo_id: int, *, session: Session, now: datetime) -> bool:
    """Record ``photo_id`` as shown in ``scope``; False when it already was (a concurrent pick)."""
    try:
        with session.begin_nested():
            session.add(PhotoShown(scope=scope, photo_id=photo_id, shown_at=now))
    except IntegrityError:
        return False
    return True


def next_photo(scope: str, guild_id: int | None, *, session: Session) -> int | None:
    """The photo to show next in ``scope`` (random, not yet shown this cycle), not recorded yet;
    when every photo was shown a new cycle starts. None when nothing is showable at all."""
    photo_id = _pick(scope, guild_id, session=session)
    if photo_id is None:
        last = start_new_cycle(scope, session=session)
        photo_id = _pick(scope, guild_id, session=session, avoid=last)
        if photo_id is None:
            photo_id = _pick(scope, guild_id, session=session)
        if photo_id is not None:
            log.debug("%s: every photo was shown, new cycle", scope)
    return photo_id


def mark_shown_many(
    picks: Sequence[tuple[str, int]], *, session: Session, now: datetime
) -> set[tuple[str, int]]:
    """Record several (scope, photo) picks in one statement; returns those recorded (a pair already
    there, from a concurrent pick in the same scope, is left out)."""
    if not picks:
        return set()
    table: Table = PhotoShown.__table__  # type: ignore[attr-defined]  # SQLModel's types lack __table__
    insert: Any = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = (
        insert(table)
        .values([{"scope": scope, "photo_id": photo_id, "shown_at": now} for scope, photo_id in picks])
        .on_conflict_do_nothing(index_elements=["scope", "photo_id"])
        .returning(table.c.scope, table.c.photo_id)
    )
    return {(str(scope), int(photo_id)) for scope, photo_id in session.execute(statement).all()}


def choose_photo(scope: str, *, session: Session, guild_id: int | None, now: datetime) -> PhotoView | None:
    """A random showable photo not yet shown in ``scope`` this cycle, recorded as shown; None if none exist."""
    for _ in range(_ATTEMPTS):
        photo_id = next_photo(scope, guild_id, session=session)
        if photo_id is None:
            return None  # nothing showable at all
        if not mark_shown(scope, photo_id, session=session, now=now):
            continue  # someone else showed it in this scope a moment ago: pick again
        return get_photo(photo_id, session=session, guild_id=guild_id)
    log.warning("%s: could not pick a photo after %d attempts (heavy contention)", scope, _ATTEMPTS)
    return None


def shown_count(scope: str, *, session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(PhotoShown).where(PhotoShown.scope == scope)
        ).scalar_one()
    )
