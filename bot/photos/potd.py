"""Photo of the day in the database: claim the day's delivery, then choose (or recall) its photo.

The chosen photo id is written into the claim's payload in the same transaction that marks it
shown, so a bot that stops between choosing and posting posts the *same* photo when the claim is
taken over (after a crash, once the lease has run out; after a clean stop, at once).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import false, update
from sqlmodel import Session

from bot import delivery
from bot.delivery import Claim
from bot.models import Delivery
from bot.photos.catalog import POTD_KIND, PhotoView, count_showable, count_showable_many, get_photo
from bot.photos.rotation import choose_photo, potd_scope
from bot.photos.schedule import DuePost

log = logging.getLogger(__name__)

EXTRA_KIND = "potd_now"
MAX_ATTEMPTS = 6
"""A post attempted this many times (failures and interrupted attempts) is given up for the day."""


@dataclass(frozen=True, slots=True)
class Prepared:
    claim: Claim
    photo: PhotoView
    guild_id: int
    channel_id: int
    day: date | None
    """The local day of a scheduled post; None for an extra post (/potd now)."""
    maybe_posted: bool = False
    """An earlier attempt got as far as posting: look for its message before posting again."""


def _photo_for(claim: Claim, guild_id: int, *, now: datetime, session: Session) -> PhotoView | None:
    """The photo named in the claim's payload if it is still there, else a newly chosen one."""
    photo_id = claim.payload.get("photo_id")
    if isinstance(photo_id, int):
        photo = get_photo(photo_id, session=session, guild_id=guild_id, showable_only=True)
        if photo is not None:
            return photo
        log.info("%s %s: photo %s was removed; choosing another", claim.kind, claim.key, photo_id)
    return choose_photo(potd_scope(guild_id), session=session, guild_id=guild_id, now=now)


def _prepare(
    kind: str,
    key: str,
    *,
    guild_id: int,
    channel_id: int,
    day: date | None,
    now: datetime,
    owner: str,
    commit: bool = True,
    session: Session,
) -> Prepared | None:
    payload = {"day": day.isoformat()} if day else {}
    claim = delivery.claim(
        kind,
        key,
        channel_id=channel_id,
        guild_id=guild_id,
        now=now,
        payload=payload,
        owner=owner,
        commit=commit,
        session=session,
    )
    if claim is None:
        return None  # posted already, or another process is posting it right now
    if claim.attempts > MAX_ATTEMPTS:
        log.warning("%s %s: giving up after %d attempts", kind, key, claim.attempts - 1)
        delivery.mark_failed(
            claim.id, f"gave up after {claim.attempts - 1} attempts", permanent=True, session=session
        )
        return None
    photo = _photo_for(claim, guild_id, now=now, session=session)
    if photo is None:
        delivery.mark_failed(claim.id, "no photo with a picture to post", session=session)
        return None
    maybe_posted = "started_at" in claim.payload
    # One write for both: the photo (a restart posts the same one) and that an attempt has started.
    new_payload = {**claim.payload, "photo_id": photo.id, "started_at": now.isoformat()}
    delivery.update_payload(claim.id, new_payload, session=session)
    claim = replace(claim, payload=new_payload)
    return Prepared(claim, photo, guild_id, channel_id, day, maybe_posted)


def prepare_post(
    due: DuePost,
    *,
    now: datetime,
    owner: str = delivery.OWNER,
    commit: bool = True,
    showable: int | None = None,
    session: Session,
) -> Prepared | None:
    """Claim a server's post for its local day and fix its photo; None when there is nothing to do.

    ``showable``: the server's count of showable photos when the caller counted a batch at once.
    """
    if showable is None:
        showable = count_showable(session=session, guild_id=due.guild_id)
    if showable == 0:
        log.debug("guild %s: no photo with a picture, nothing to post", due.guild_id)
        return None
    return _prepare(
        POTD_KIND,
        due.key,
        guild_id=due.guild_id,
        channel_id=due.channel_id,
        day=due.day,
        now=now,
        owner=owner,
        commit=commit,
        session=session,
    )


def prepare_posts(
    dues: Sequence[DuePost], *, now: datetime, owner: str = delivery.OWNER, session: Session
) -> list[Prepared | None]:
    """Claim a batch of servers' posts in one transaction (the caller commits once for all).

    Each server in its own savepoint: one that fails is logged and skipped, the others go on.
    """
    if session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock first (waiting for it under the busy timeout): a transaction that
        # starts by reading and then writes fails at once if another connection wrote in between.
        session.execute(update(Delivery).where(false()).values(attempts=Delivery.attempts))
    out: list[Prepared | None] = []
    counts = count_showable_many((d.guild_id for d in dues), session=session)
    for due in dues:
        try:
            with session.begin_nested():
                out.append(
                    prepare_post(
                        due,
                        now=now,
                        owner=owner,
                        commit=False,
                        showable=counts.get(due.guild_id),
                        session=session,
                    )
                )
        except Exception:
            log.exception("guild %s: could not prepare the photo of the day", due.guild_id)
            out.append(None)
    return out


def prepare_extra(
    guild_id: int,
    channel_id: int,
    request_id: int,
    *,
    now: datetime,
    owner: str = delivery.OWNER,
    session: Session,
) -> Prepared | None:
    """/potd now: an extra post from the same rotation, once per request (a replayed interaction is a no-op)."""
    return _prepare(
        EXTRA_KIND,
        f"{guild_id}:{request_id}",
        guild_id=guild_id,
        channel_id=channel_id,
        day=None,
        now=now,
        owner=owner,
        session=session,
    )


def release(delivery_id: int, reason: str, *, session: Session) -> None:
    """Give a claim back before anything was sent (a clean shutdown): the next tick retries it at once."""
    delivery.mark_failed(delivery_id, reason, session=session)
