"""What server admins change: facts, crew, articles (photos are in bot.photos.catalog), and the audit log.

Everything here acts on one guild's own rows only: global content belongs to the operator (CLI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, select

from bot.errors import UserFacingError, clean_input
from bot.knowledge.store import delete_derived
from bot.models import Article, AuditEntry, CrewMember, Fact, Photo, utcnow
from bot.photos import catalog

Kind = Literal["article", "photo", "fact", "crew"]
KINDS: tuple[Kind, ...] = ("article", "photo", "fact", "crew")
MAX_FACT = 1000
MAX_NAME = 100
MAX_AGENCY = 100
MAX_ROLE = 200
MAX_KEYWORDS = 300
MAX_SOURCE = 300


@dataclass(frozen=True)
class ContentItem:
    kind: Kind
    id: int
    label: str
    created_at: datetime | None
    created_by: int | None


@dataclass(frozen=True)
class AuditLine:
    user_id: int | None
    action: str
    target: str
    at: datetime


def _clean(value: str | None, limit: int, what: str, *, required: bool = False) -> str | None:
    return clean_input(value, limit, what, required=required, collapse=True)


def record(*, session: Session, guild_id: int, user_id: int | None, action: str, target: str) -> None:
    """One audit line: who changed what, when."""
    session.add(
        AuditEntry(guild_id=guild_id, user_id=user_id, action=action, target=target[:500], at=utcnow())
    )


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


# ---------------------------------------------------------------------------------------------- facts
def add_fact(
    *,
    session: Session,
    guild_id: int,
    text: str,
    keywords: str | None,
    source: str | None,
    user_id: int | None,
) -> tuple[Fact, bool]:
    """A server's own fact; the same text again returns the existing one (created=False)."""
    body = _clean(text, MAX_FACT, "fact", required=True) or ""
    keys = _clean(keywords, MAX_KEYWORDS, "keywords")
    src = _clean(source, MAX_SOURCE, "source")
    _check_answerable(body, src)
    mine = session.exec(
        select(Fact).where(Fact.guild_id == guild_id, Fact.article_id.is_(None))  # type: ignore[union-attr]
    ).all()
    for fact in mine:
        if _norm(fact.text) == _norm(body):
            return fact, False
    fact = Fact(guild_id=guild_id, key="admin", text=body, keywords=keys, source=src, created_by=user_id)
    session.add(fact)
    session.flush()
    record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="fact add",
        target=f"fact {fact.id}: {body}",
    )
    return fact, True


def _check_answerable(text: str, source: str | None) -> None:
    """Refuse a fact the question index cannot read, before it is stored (it would be skipped at
    every start-up otherwise)."""
    from bot.knowledge.ingest import ArticleError
    from bot.knowledge.service import admin_fact_article

    try:
        admin_fact_article(text, source, None)
    except ArticleError:
        raise UserFacingError(
            "I can't read a sentence in that fact, so /iss ask could never answer from it. Write it as "
            "a full sentence, for example: The cupola has seven windows.",
            key="admin.fact_unreadable",
        ) from None


def remove_fact(fact_id: int, *, session: Session, guild_id: int, user_id: int | None) -> Fact | None:
    fact = session.exec(
        select(Fact).where(Fact.id == fact_id, Fact.guild_id == guild_id, Fact.article_id.is_(None))  # type: ignore[union-attr]
    ).first()
    if fact is None:
        return None
    session.delete(fact)
    record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="fact remove",
        target=f"fact {fact_id}: {fact.text}",
    )
    return fact


def admin_facts(*, session: Session) -> list[tuple[int, int, str, str | None, datetime]]:
    """(id, guild_id, text, source, created_at) of every fact a server added, for the question index."""
    rows = session.exec(
        select(Fact.id, Fact.guild_id, Fact.text, Fact.source, Fact.created_at).where(
            Fact.article_id.is_(None),
            Fact.guild_id.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


# ----------------------------------------------------------------------------------------------- crew
def add_crew(
    *, session: Session, guild_id: int, name: str, agency: str | None, role: str | None, user_id: int | None
) -> tuple[CrewMember, bool]:
    clean_name = _clean(name, MAX_NAME, "name", required=True) or ""
    mine = session.exec(
        select(CrewMember).where(CrewMember.guild_id == guild_id, CrewMember.article_id.is_(None))  # type: ignore[union-attr]
    ).all()
    for member in mine:
        if _norm(member.name) == _norm(clean_name):
            return member, False
    member = CrewMember(
        guild_id=guild_id,
        name=clean_name,
        agency=_clean(agency, MAX_AGENCY, "agency"),
        role=_clean(role, MAX_ROLE, "role"),
        created_by=user_id,
    )
    session.add(member)
    session.flush()
    record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="crew add",
        target=f"crew {member.id}: {clean_name}",
    )
    return member, True


def remove_crew(crew_id: int, *, session: Session, guild_id: int, user_id: int | None) -> CrewMember | None:
    member = session.exec(
        select(CrewMember).where(
            CrewMember.id == crew_id,
            CrewMember.guild_id == guild_id,
            CrewMember.article_id.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if member is None:
        return None
    session.delete(member)
    record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="crew remove",
        target=f"crew {crew_id}: {member.name}",
    )
    return member


def admin_crew(*, session: Session) -> list[tuple[int, int, str, str | None, str | None, datetime]]:
    """(id, guild_id, name, agency, role, created_at) of every crew member a server added."""
    rows = session.exec(
        select(
            CrewMember.id,
            CrewMember.guild_id,
            CrewMember.name,
            CrewMember.agency,
            CrewMember.role,
            CrewMember.created_at,
        ).where(
            CrewMember.article_id.is_(None),
            CrewMember.guild_id.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


# ------------------------------------------------------------------------------------------- articles
def remove_article(
    article_id: int, *, session: Session, guild_id: int, user_id: int | None
) -> Article | None:
    """Remove one of the server's own articles with everything taken from it (photos included)."""
    article = session.exec(
        select(Article).where(Article.id == article_id, Article.guild_id == guild_id)
    ).first()
    if article is None:
        return None
    delete_derived(article_id, session=session, guild_id=guild_id)
    session.delete(article)
    record(
        session=session,
        guild_id=guild_id,
        user_id=user_id,
        action="article remove",
        target=f"article {article_id}: {article.title}",
    )
    return article


# ------------------------------------------------------------------------------------- listing, audit
def list_content(
    *, session: Session, guild_id: int, kind: Kind | None, offset: int, limit: int
) -> tuple[list[ContentItem], int]:
    """The server's own content, newest first; (page, total)."""
    items: list[ContentItem] = []
    kinds = [kind] if kind else list(KINDS)
    for k in kinds:
        if k == "article":
            rows = session.exec(
                select(Article.id, Article.title, Article.imported_at, Article.created_by).where(
                    Article.guild_id == guild_id
                )
            ).all()
        elif k == "photo":
            rows = session.exec(
                select(Photo.id, Photo.caption, Photo.created_at, Photo.created_by).where(
                    Photo.guild_id == guild_id
                )
            ).all()
        elif k == "fact":
            rows = session.exec(
                select(Fact.id, Fact.text, Fact.created_at, Fact.created_by).where(
                    Fact.guild_id == guild_id, Fact.article_id.is_(None)
                )
            ).all()  # type: ignore[union-attr]
        else:
            rows = session.exec(
                select(CrewMember.id, CrewMember.name, CrewMember.created_at, CrewMember.created_by).where(
                    CrewMember.guild_id == guild_id, CrewMember.article_id.is_(None)
                )
            ).all()  # type: ignore[union-attr]
        items.extend(ContentItem(k, r[0], r[1], r[2], r[3]) for r in rows)
    items.sort(key=lambda i: (i.created_at.timestamp() if i.created_at else 0.0, i.id), reverse=True)
    return items[offset : offset + limit], len(items)


def audit_log(*, session: Session, guild_id: int, offset: int, limit: int) -> tuple[list[AuditLine], int]:
    total = session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.guild_id == guild_id)
    ).one()
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.guild_id == guild_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())  # type: ignore[attr-defined, union-attr]
        .offset(offset)
        .limit(limit)
    ).all()
    return [AuditLine(r.user_id, r.action, r.target, r.at) for r in rows], int(total)


# --------------------------------------------------------------------------------------------- photos
def add_photo(*, session: Session, guild_id: int, user_id: int, **fields: Any) -> tuple[Photo, bool]:
    """catalog.add_photo plus its audit line, in one transaction."""
    photo, created = catalog.add_photo(session=session, guild_id=guild_id, created_by=user_id, **fields)
    if created:
        record(
            session=session,
            guild_id=guild_id,
            user_id=user_id,
            action="photo add",
            target=f"photo {photo.id}: {photo.caption}",
        )
    return photo, created


def remove_photo(photo_id: int, *, session: Session, guild_id: int, user_id: int) -> catalog.PhotoView | None:
    removed = catalog.remove_photo(photo_id, session=session, guild_id=guild_id)
    if removed is not None:
        record(
            session=session,
            guild_id=guild_id,
            user_id=user_id,
            action="photo remove",
            target=f"photo {photo_id}: {removed.caption}",
        )
    return removed
