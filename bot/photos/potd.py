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
from sqlmodel import Session, col, select

from bot import delivery
from bot.delivery import Claim
from bot.models import Delivery
from bot.photos.catalog import (
    POTD_KIND,
    PhotoView,
    count_showable,
    count_showable_many,
    get_photo,
    get_photos,
)
from bot.photos.rotation import choose_photo, mark_shown_many, next_photo, potd_scope
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

    Days nobody has claimed yet (a fan-out's every server) are claimed together in a few statements
    (:func:`_prepare_new`); the rest (take-overs, retries, a race lost) each in a savepoint of its
    own, as :func:`prepare_post` does: one that fails is logged and skipped, the others go on.
    """
    if session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock first (waiting for it under the busy timeout): a transaction that
        # starts by reading and then writes fails at once if another connection wrote in between.
        session.execute(update(Delivery).where(false()).values(attempts=Delivery.attempts))
    counts = count_showable_many((d.guild_id for d in dues), session=session)
    try:
        with session.begin_nested():
            fresh = _prepare_new(
                [d for d in dues if counts.get(d.guild_id)], now=now, owner=owner, session=session
            )
    except Exception:
        log.exception("could not prepare %d photo(s) of the day together; one at a time", len(dues))
        fresh = {}
    out: list[Prepared | None] = []
    for due in dues:
        if due.key in fresh:
            out.append(fresh[due.key])
            continue
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


def _prepare_new(
    dues: Sequence[DuePost], *, now: datetime, owner: str, session: Session
) -> dict[str, Prepared | None]:
    """First claims for the days in ``dues`` that have no delivery yet, with their photos, by key.

    The same rows as :func:`prepare_post` writes (the claim's payload names its photo and that an
    attempt started; the photo is recorded as shown), in one statement per table for the batch
    instead of several per server. Left out, for the one-by-one way: days claimed before, a claim
    lost to another process a moment ago, a server with nothing to pick. None: claimed, but
    no photo could be had after all (recorded as failed, as :func:`prepare_post` does).

    The photos are picked before the claims are inserted, so a claim lost to a peer (PostgreSQL; on
    SQLite the write lock is ours) may have started its server's new rotation cycle, which the
    winner, finding every photo shown, starts as well.
    """
    if not dues:
        return {}
    if len({d.guild_id for d in dues}) != len(dues):
        return {}  # one scope twice in a batch: the picks would not see each other
    keys = [d.key for d in dues]
    taken = set(
        session.exec(
            select(Delivery.key).where(Delivery.kind == POTD_KIND, col(Delivery.key).in_(keys))
        ).all()
    )
    picks: dict[str, tuple[DuePost, int]] = {}
    for due in dues:
        if due.key in taken:
            continue
        photo_id = next_photo(potd_scope(due.guild_id), due.guild_id, session=session)
        if photo_id is not None:
            picks[due.key] = (due, photo_id)
    started = now.isoformat()
    claims = delivery.claim_new_many(
        POTD_KIND,
        [
            delivery.NewClaim(
                due.key,
                due.channel_id,
                due.guild_id,
                {"day": due.day.isoformat(), "photo_id": photo_id, "started_at": started},
            )
            for due, photo_id in picks.values()
        ],
        now=now,
        owner=owner,
        session=session,
    )
    won = [picks[key] for key in claims]
    shown = mark_shown_many(
        [(potd_scope(due.guild_id), photo_id) for due, photo_id in won], session=session, now=now
    )
    views = get_photos((photo_id for _, photo_id in won), session=session)
    out: dict[str, Prepared | None] = {}
    for due, photo_id in won:
        claim = claims[due.key]
        photo = views.get(photo_id)
        if photo is None or (potd_scope(due.guild_id), photo_id) not in shown:
            # Shown in this scope a moment ago by someone else (a /potd now), or gone: pick again.
            photo = choose_photo(potd_scope(due.guild_id), session=session, guild_id=due.guild_id, now=now)
            if photo is None:
                delivery.mark_failed(claim.id, "no photo with a picture to post", session=session)
                out[due.key] = None
                continue
            payload = {**claim.payload, "photo_id": photo.id}
            delivery.update_payload(claim.id, payload, session=session)
            claim = replace(claim, payload=payload)
        out[due.key] = Prepared(claim, photo, due.guild_id, due.channel_id, due.day)
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
