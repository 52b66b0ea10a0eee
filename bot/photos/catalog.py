"""The photo catalog: look-ups, autocomplete search, credits, and adding/removing photos.

A photo is *showable* when it has a picture somewhere (a URL or a stored file); caption-only photos
(plain-text articles describe a picture they don't link) are listed in the credits but never shown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, and_, delete, func, or_
from sqlmodel import Session, col, select

from bot import delivery
from bot.content import visible_to
from bot.errors import clean_input
from bot.media import ProcessedImage, same_picture
from bot.models import Article, Delivery, Photo

log = logging.getLogger(__name__)

POTD_KIND = "potd"
MAX_CAPTION = 4000
MAX_CREDIT = 500
MAX_PHOTOGRAPHER = 200
MAX_URL = 2000
AUTOCOMPLETE_LIMIT = 25


@dataclass(frozen=True, slots=True)
class PhotoView:
    """A photo with its source article, detached from the session (safe to pass between threads)."""

    id: int
    guild_id: int | None
    caption: str
    credit: str
    photographer: str | None
    url: str | None
    path: str | None
    sha256: str | None
    width: int | None
    height: int | None
    article_id: int | None
    article_title: str | None
    article_source: str | None

    @property
    def showable(self) -> bool:
        return bool(self.path) or (self.url or "").startswith(("https://", "http://"))


def _has_picture() -> Any:
    """A web address Discord can show (articles may hold relative ones), or a stored file."""
    return or_(
        col(Photo.url).startswith("https://"),
        col(Photo.url).startswith("http://"),
        col(Photo.path).is_not(None),
    )


def showable_to(guild_id: int | BindParameter[int] | None) -> Any:
    """Visible to ``guild_id`` (global rows + its own) and with a picture to show; ``guild_id`` may be a
    bound parameter, for a statement built once (None given for it then matches global rows only)."""
    return and_(visible_to(Photo.guild_id, guild_id), _has_picture())


def _view_statement() -> Any:
    return select(Photo, col(Article.title), col(Article.source)).outerjoin(
        Article, col(Article.id) == col(Photo.article_id)
    )


def _as_view(photo: Photo, title: str | None, source: str | None) -> PhotoView:
    assert photo.id is not None
    return PhotoView(
        id=photo.id,
        guild_id=photo.guild_id,
        caption=photo.caption,
        credit=photo.credit,
        photographer=photo.photographer,
        url=photo.url,
        path=photo.path,
        sha256=photo.sha256,
        width=photo.width,
        height=photo.height,
        article_id=photo.article_id,
        article_title=title,
        article_source=source,
    )


def get_photo(
    photo_id: int, *, session: Session, guild_id: int | None, showable_only: bool = False
) -> PhotoView | None:
    """The photo if ``guild_id`` may see it (and, with ``showable_only``, if it has a picture)."""
    condition = showable_to(guild_id) if showable_only else visible_to(Photo.guild_id, guild_id)
    row = session.execute(_view_statement().where(Photo.id == photo_id, condition)).first()
    return _as_view(*row) if row is not None else None


def get_photos(photo_ids: Iterable[int], *, session: Session) -> dict[int, PhotoView]:
    """Several photos by id, unchecked: for ids just picked under :func:`showable_to` in this transaction."""
    ids = sorted(set(photo_ids))
    if not ids:
        return {}
    rows = session.execute(_view_statement().where(col(Photo.id).in_(ids))).all()
    return {view.id: view for view in (_as_view(*row) for row in rows)}


def count_showable(*, session: Session, guild_id: int | None) -> int:
    return int(
        session.execute(select(func.count()).select_from(Photo).where(showable_to(guild_id))).scalar_one()
    )


def count_showable_many(guild_ids: Iterable[int], *, session: Session) -> dict[int, int]:
    """``count_showable`` for several guilds in one query (a fan-out prepares 16 servers at a time)."""
    ids = sorted(set(guild_ids))
    if not ids:
        return {}
    owner = col(Photo.guild_id)
    rows = session.execute(
        select(owner, func.count())
        .where(_has_picture(), or_(owner.is_(None), owner.in_(ids)))
        .group_by(owner)
    ).all()
    shared = sum(int(n) for g, n in rows if g is None)
    own = {int(g): int(n) for g, n in rows if g is not None}
    return {g: shared + own.get(g, 0) for g in ids}


def search_photos(
    query: str, *, session: Session, guild_id: int | None, limit: int = AUTOCOMPLETE_LIMIT
) -> list[tuple[int, str]]:
    """(id, caption) of showable photos whose caption contains ``query`` (or whose id it is), for autocomplete."""
    text = query.strip()
    stmt = select(Photo.id, Photo.caption).where(showable_to(guild_id))
    number = text.lstrip("#")
    if number.isdigit():
        stmt = stmt.where(or_(col(Photo.id) == int(number), func.lower(col(Photo.caption)).contains(number)))
    elif text:
        stmt = stmt.where(func.lower(Photo.caption).contains(text.lower(), autoescape=True))
    rows = session.execute(stmt.order_by(col(Photo.id)).limit(max(1, min(limit, AUTOCOMPLETE_LIMIT)))).all()
    return [(int(pid), caption) for pid, caption in rows]


def find_photo(reference: str, *, session: Session, guild_id: int | None) -> PhotoView | None:
    """A photo by "12" / "#12", or by caption text that matches exactly one showable photo."""
    text = reference.strip()
    number = text.lstrip("#").strip()
    if number.isdigit():
        return get_photo(int(number), session=session, guild_id=guild_id)
    matches = search_photos(text, session=session, guild_id=guild_id, limit=2) if text else []
    if len(matches) == 1:
        return get_photo(matches[0][0], session=session, guild_id=guild_id)
    return None


# ------------------------------------------------------------------------------------------ credits


@dataclass(frozen=True, slots=True)
class CreditGroup:
    """Photos that share photographer, credit and source article."""

    photographer: str | None
    credit: str
    article_title: str | None
    article_source: str | None
    photo_ids: tuple[int, ...]
    with_picture: int


def list_credits(*, session: Session, guild_id: int | None) -> list[CreditGroup]:
    """Who took what, from which article: every visible photo, grouped, in catalog order."""
    stmt = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
            Photo.id,
            Photo.photographer,
            Photo.credit,
            Photo.article_id,
            Article.title,
            Article.source,
            _has_picture(),
        )
        .outerjoin(Article, col(Article.id) == Photo.article_id)
        .where(visible_to(Photo.guild_id, guild_id))
        .order_by(Photo.id)
    )
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for pid, photographer, credit, article_id, title, source, has_picture in session.execute(stmt).all():
        key = (photographer, credit, article_id)
        entry = groups.setdefault(key, [photographer, credit, title, source, [], 0])
        entry[4].append(int(pid))
        entry[5] += 1 if has_picture else 0
    return [CreditGroup(p, c, t, s, tuple(ids), n) for p, c, t, s, ids, n in groups.values()]


# ------------------------------------------------------------------------------------------ add / remove


def _clean(value: str | None, limit: int, what: str, *, required: bool = False) -> str | None:
    return clean_input(value, limit, what, required=required, empty_key=f"photos.need_{what}")


def find_duplicate(
    *,
    session: Session,
    guild_id: int | None,
    url: str | None = None,
    sha256: str | None = None,
    phash: str | None = None,
) -> Photo | None:
    """A visible photo that is the same picture: same URL, same bytes, or a near-identical pHash."""
    visible = visible_to(Photo.guild_id, guild_id)
    if url:
        found = session.exec(
            select(Photo).where(visible, col(Photo.url) == url).order_by(col(Photo.id))
        ).first()
        if found is not None:
            return found
    if sha256:
        found = session.exec(
            select(Photo).where(visible, col(Photo.sha256) == sha256).order_by(col(Photo.id))
        ).first()
        if found is not None:
            return found
    if phash:
        candidates = session.execute(
            select(Photo.id, col(Photo.phash))
            .where(visible, col(Photo.phash).is_not(None))
            .order_by(col(Photo.id))
        ).all()
        for pid, other in candidates:
            try:
                if same_picture(phash, other):
                    return session.get(Photo, pid)
            except ValueError:
                log.warning("photo %s has an unreadable pHash %r", pid, other)
    return None


def add_photo(
    *,
    session: Session,
    guild_id: int | None,
    caption: str,
    credit: str,
    photographer: str | None = None,
    url: str | None = None,
    processed: ProcessedImage | None = None,
    stored_path: str | None = None,
    article_id: int | None = None,
    created_by: int | None = None,
) -> tuple[Photo, bool]:
    """Add a photo unless the same picture is already visible here: returns (photo, created).

    The same URL, the same bytes (sha256) or a perceptual hash within ``SAME_PICTURE_DISTANCE``
    bits of a visible photo's is the same picture, and the existing photo comes back.
    """
    caption_text = _clean(caption, MAX_CAPTION, "caption", required=True)
    credit_text = _clean(credit, MAX_CREDIT, "credit", required=True)
    photographer_text = _clean(photographer, MAX_PHOTOGRAPHER, "photographer")
    url_text = _clean(url, MAX_URL, "url")
    existing = find_duplicate(
        session=session,
        guild_id=guild_id,
        url=url_text,
        sha256=processed.sha256 if processed else None,
        phash=processed.phash if processed else None,
    )
    if existing is not None:
        log.info("photo not added: same picture as photo %s", existing.id)
        return existing, False
    photo = Photo(
        guild_id=guild_id,
        article_id=article_id,
        url=url_text,
        sha256=processed.sha256 if processed else None,
        phash=processed.phash if processed else None,
        path=stored_path,
        caption=caption_text or "",
        credit=credit_text or "",
        photographer=photographer_text,
        width=processed.width if processed else None,
        height=processed.height if processed else None,
        created_by=created_by,
    )
    session.add(photo)
    session.flush()
    return photo, True


def remove_photo(photo_id: int, *, session: Session, guild_id: int | None) -> PhotoView | None:
    """Remove one of ``guild_id``'s own photos (None: a global one); None if there is no such photo.

    It leaves every rotation (its ``photo_shown`` rows go with it: ON DELETE CASCADE, so the rotation
    stays their only writer), and a photo-of-the-day post that chose it but has not gone out yet
    forgets it, so it chooses another.
    """
    owner = col(Photo.guild_id).is_(None) if guild_id is None else col(Photo.guild_id) == guild_id
    row = session.execute(_view_statement().where(Photo.id == photo_id, owner)).first()
    if row is None:
        return None
    removed = _as_view(*row)
    session.execute(delete(Photo).where(col(Photo.id) == photo_id))
    forget_in_pending_posts(photo_id, session=session, guild_id=guild_id)
    return removed


def remove_article_photos(article_id: int, *, session: Session, guild_id: int | None) -> int:
    """Remove the photos taken from an article (its removal, or an edit that re-derives them), as
    :func:`remove_photo` removes one; returns how many."""
    found = session.exec(select(Photo.id).where(Photo.article_id == article_id)).all()
    photo_ids = [photo_id for photo_id in found if photo_id is not None]
    for photo_id in photo_ids:
        forget_in_pending_posts(photo_id, session=session, guild_id=guild_id)
    if photo_ids:
        session.execute(delete(Photo).where(col(Photo.article_id) == article_id))
    return len(photo_ids)


def forget_in_pending_posts(photo_id: int, *, session: Session, guild_id: int | None) -> int:
    """Drop ``photo_id`` from unsent photo-of-the-day payloads (every guild's when it was global)."""
    stmt = select(Delivery.id, Delivery.payload).where(
        Delivery.kind == POTD_KIND,
        col(Delivery.status).in_(("pending", "failed")),
    )
    if guild_id is not None:
        stmt = stmt.where(Delivery.guild_id == guild_id)
    changed = 0
    for delivery_id, raw in session.execute(stmt).all():
        try:
            payload = json.loads(raw or "{}")
        except ValueError:
            continue
        if payload.get("photo_id") == photo_id:
            payload.pop("photo_id", None)
            delivery.update_payload(delivery_id, payload, session=session)
            changed += 1
    return changed


def remember_image(photo_id: int, processed: ProcessedImage, stored_path: str, *, session: Session) -> None:
    """Record the bytes learned from fetching a photo's URL, so later posts need not fetch again."""
    photo = session.get(Photo, photo_id)
    if photo is None:
        return
    photo.sha256 = processed.sha256
    photo.phash = processed.phash
    photo.path = stored_path
    photo.width = processed.width
    photo.height = processed.height
    session.add(photo)
