"""No repeats until everything was shown: a rotation per scope ("channel:<id>", "potd:<guild>").

Shown photos are PhotoShown rows, so the rotation survives restarts and is shared by every process.
When a scope has seen every showable photo a new cycle starts, avoiding the photo shown last.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func
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


def _pick(scope: str, guild_id: int | None, *, session: Session, avoid: int | None = None) -> int | None:
    shown = select(PhotoShown.photo_id).where(PhotoShown.scope == scope)
    stmt = select(col(Photo.id)).where(showable_to(guild_id), col(Photo.id).not_in(shown))
    if avoid is not None:
        stmt = stmt.where(Photo.id != avoid)
    return session.exec(stmt.order_by(func.random()).limit(1)).first()


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


def choose_photo(scope: str, *, session: Session, guild_id: int | None, now: datetime) -> PhotoView | None:
    """A random showable photo not yet shown in ``scope`` this cycle, recorded as shown; None if none exist."""
    for _ in range(_ATTEMPTS):
        photo_id = _pick(scope, guild_id, session=session)
        if photo_id is None:
            last = start_new_cycle(scope, session=session)
            photo_id = _pick(scope, guild_id, session=session, avoid=last)
            if photo_id is None:
                photo_id = _pick(scope, guild_id, session=session)
            if photo_id is None:
                return None  # nothing showable at all
            log.debug("%s: every photo was shown, new cycle", scope)
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
