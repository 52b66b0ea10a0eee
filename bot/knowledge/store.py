"""Articles in the database: import (idempotent; an edit replaces the old version), listing, removal,
and the facts and crew a server adds by hand.

This module owns the ``article``, ``passage``, ``fact`` and ``crew_member`` rows. An article's photos
go through the photo catalog (bot/photos/catalog.py), so one duplicate rule holds for every photo.
Each article row keeps its parse as JSON so the in-memory question index is rebuilt at start-up
without parsing again; passages, facts, crew and photos are stored as rows with their provenance.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot.errors import UserFacingError, clean_input
from bot.knowledge.ingest import ArticleError, ParsedArticle, parse_article
from bot.knowledge.lexicon import canonical_agency
from bot.models import Article, CrewMember, Fact, Passage
from bot.photos import catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    article_id: int
    title: str
    status: Literal["new", "updated", "unchanged"]
    language: str
    passages: int
    facts: int
    crew: int
    photos: int

    def summary(self) -> str:
        what = {
            "new": "imported",
            "updated": "updated (replaced the earlier version)",
            "unchanged": "unchanged",
        }
        return (
            f"{self.title!r}: {what[self.status]}: {self.passages} passages, {self.facts} facts, "
            f"{self.crew} crew, {self.photos} photos"
        )


def default_credit(parsed: ParsedArticle) -> str | None:
    """Credit for an image the article doesn't credit: an agency named in the title, else the source.

    "NASA releases new ISS photos" credits NASA; failing that the article's source or author.
    """
    for token in re.findall(r"[A-Za-z]{2,}|[\u4e00-\u9fff]{2,}", parsed.title):
        agency = canonical_agency(token)
        if agency:
            return agency
    return parsed.source or parsed.author


def _guild_filter(column: Any, guild_id: int | None) -> ColumnElement[bool]:
    return column.is_(None) if guild_id is None else column == guild_id


def import_parsed(
    parsed: ParsedArticle,
    *,
    session: Session,
    guild_id: int | None,
    filename: str | None = None,
    created_by: int | None = None,
) -> ImportResult:
    """Store one parsed article; the same content again changes nothing, an edit replaces it."""
    existing = session.exec(
        select(Article).where(_guild_filter(Article.guild_id, guild_id), Article.identity == parsed.identity)
    ).first()
    if existing is not None and existing.content_hash == parsed.content_hash:
        return _result(existing, parsed, "unchanged")
    status: Literal["new", "updated"] = "new" if existing is None else "updated"
    article = existing or Article(guild_id=guild_id, identity=parsed.identity, title="", content_hash="")
    article.title = parsed.title[:500]
    article.published = parsed.published
    article.author = (parsed.author or None) and parsed.author[:200]
    article.source = (parsed.source or parsed.url or None) and (parsed.source or parsed.url or "")[:500]
    article.language = parsed.language
    article.content_hash = parsed.content_hash
    article.filename = filename
    article.parsed = json.dumps(parsed.to_dict(), ensure_ascii=False)
    article.created_by = created_by
    session.add(article)
    session.flush()
    assert article.id is not None
    if existing is not None:
        delete_derived(article.id, session=session, guild_id=guild_id)
    for passage in parsed.passages:
        session.add(Passage(article_id=article.id, position=passage.index, text=passage.text))
    for fact in parsed.facts:
        session.add(
            Fact(
                guild_id=guild_id,
                article_id=article.id,
                passage_position=fact.passage_index,
                key=fact.key,
                text=fact.text,
                value=fact.value,
                unit=fact.unit,
                source=parsed.title[:500],
                created_by=created_by,
            )
        )
    for member in parsed.crew:
        session.add(
            CrewMember(
                guild_id=guild_id,
                article_id=article.id,
                name=member.name[:200],
                agency=member.agency,
                role=member.role,
                created_by=created_by,
            )
        )
    fallback_credit = default_credit(parsed)
    for image in parsed.images:
        # The catalog's duplicate rule: an image already visible here (from any article) is one photo.
        credit = image.credit or fallback_credit or image.photographer or "unknown"
        catalog.add_photo(
            session=session,
            guild_id=guild_id,
            article_id=article.id,
            url=image.url,
            caption=(image.caption or parsed.title)[: catalog.MAX_CAPTION],
            credit=credit[: catalog.MAX_CREDIT],
            photographer=image.photographer and image.photographer[: catalog.MAX_PHOTOGRAPHER],
            created_by=created_by,
        )
    session.flush()
    return _result(article, parsed, status)


def delete_derived(article_id: int, *, session: Session, guild_id: int | None) -> None:
    """Drop what was taken from an article (an edit re-derives it, a removal needs it gone): its
    photos leave through the catalog (every rotation, and any photo-of-the-day post still waiting)."""
    catalog.remove_article_photos(article_id, session=session, guild_id=guild_id)
    for model in (Passage, Fact, CrewMember):
        session.execute(delete(model).where(col(model.article_id) == article_id))


def remove_article(article_id: int, *, session: Session, guild_id: int) -> Article | None:
    """Remove one of a server's own articles with everything taken from it (photos included)."""
    article = session.exec(
        select(Article).where(Article.id == article_id, Article.guild_id == guild_id)
    ).first()
    if article is None:
        return None
    delete_derived(article_id, session=session, guild_id=guild_id)
    session.delete(article)
    return article


def _result(
    article: Article, parsed: ParsedArticle, status: Literal["new", "updated", "unchanged"]
) -> ImportResult:
    assert article.id is not None
    return ImportResult(
        article.id,
        article.title,
        status,
        parsed.language,
        len(parsed.passages),
        len(parsed.facts),
        len(parsed.crew),
        len(parsed.images),
    )


def stored_articles(
    *, session: Session, after: int = 0, limit: int | None = None
) -> list[tuple[int, int | None, str, str]]:
    """(id, guild_id, content_hash, parsed JSON) of articles by id, for building the index in batches."""
    query = (
        select(Article.id, Article.guild_id, Article.content_hash, Article.parsed)
        .where(col(Article.id) > after)
        .order_by(col(Article.id))
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[0] is not None and r[3] is not None]


def article_versions(*, session: Session) -> dict[int, str]:
    """id -> content hash: cheap enough to poll, so other processes' imports reach this index."""
    return {
        r[0]: r[1] for r in session.exec(select(Article.id, Article.content_hash)).all() if r[0] is not None
    }


def parsed_of(article_id: int, *, session: Session) -> tuple[int | None, str] | None:
    row = session.exec(select(Article.guild_id, Article.parsed).where(Article.id == article_id)).first()
    return None if row is None or not row[1] else (row[0], row[1])


def has_global_articles(*, session: Session) -> bool:
    return (
        session.exec(select(col(Article.id)).where(col(Article.guild_id).is_(None)).limit(1)).first()
        is not None
    )


def seed_files() -> list[tuple[str, bytes]]:
    """The articles shipped with the package."""
    folder = resources.files("bot") / "content" / "seeds"
    return sorted(
        (entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.endswith(".txt")
    )


def parse_seeds() -> list[tuple[str, ParsedArticle]]:
    return [(name, parse_article(data, filename=name)) for name, data in seed_files()]


# ------------------------------------------------------------------------- facts and crew a server adds
MAX_FACT = 1000
MAX_NAME = 100
MAX_AGENCY = 100
MAX_ROLE = 200
MAX_KEYWORDS = 300
MAX_SOURCE = 300
ADMIN_TITLE = ("Added by this server's admins", "本服务器管理员添加")
"""The source shown for a server's own facts and crew (English, Chinese)."""


def admin_fact_article(text: str, source: str | None, created: dt.datetime | None) -> ParsedArticle:
    """A server's own fact as a one-passage article, so questions find it like any other sentence."""
    title = source or ADMIN_TITLE[0]
    parsed = parse_article(f"{title}\n\n{text}\n", filename="admin-fact.txt")
    return replace(parsed, title=title, published=created.date() if created else None)


def _clean(value: str | None, limit: int, what: str, *, required: bool = False) -> str | None:
    return clean_input(value, limit, what, required=required, collapse=True)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _check_answerable(text: str, source: str | None) -> None:
    """Refuse a fact the question index cannot read, before it is stored (it would be skipped at
    every start-up otherwise)."""
    try:
        admin_fact_article(text, source, None)
    except ArticleError:
        raise UserFacingError(
            "I can't read a sentence in that fact, so /iss ask could never answer from it. Write it as "
            "a full sentence, for example: The cupola has seven windows.",
            key="admin.fact_unreadable",
        ) from None


def add_server_fact(
    *,
    session: Session,
    guild_id: int,
    text: str,
    keywords: str | None,
    source: str | None,
    created_by: int | None,
) -> tuple[Fact, bool]:
    """A server's own fact; the same text again returns the existing one (created=False)."""
    body = _clean(text, MAX_FACT, "fact", required=True) or ""
    keys = _clean(keywords, MAX_KEYWORDS, "keywords")
    src = _clean(source, MAX_SOURCE, "source")
    _check_answerable(body, src)
    mine = session.exec(
        select(Fact).where(col(Fact.guild_id) == guild_id, col(Fact.article_id).is_(None))
    ).all()
    for fact in mine:
        if _norm(fact.text) == _norm(body):
            return fact, False
    fact = Fact(guild_id=guild_id, key="admin", text=body, keywords=keys, source=src, created_by=created_by)
    session.add(fact)
    session.flush()
    return fact, True


def remove_server_fact(fact_id: int, *, session: Session, guild_id: int) -> Fact | None:
    fact = session.exec(
        select(Fact).where(
            col(Fact.id) == fact_id, col(Fact.guild_id) == guild_id, col(Fact.article_id).is_(None)
        )
    ).first()
    if fact is not None:
        session.delete(fact)
    return fact


def server_facts(*, session: Session) -> list[tuple[int, int, str, str | None, dt.datetime]]:
    """(id, guild_id, text, source, created_at) of every fact a server added, for the question index."""
    rows = session.exec(
        select(Fact.id, Fact.guild_id, Fact.text, Fact.source, Fact.created_at).where(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
            col(Fact.article_id).is_(None),
            col(Fact.guild_id).is_not(None),
        )
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def add_server_crew(
    *,
    session: Session,
    guild_id: int,
    name: str,
    agency: str | None,
    role: str | None,
    created_by: int | None,
) -> tuple[CrewMember, bool]:
    """A crew member on a server's own roster; the same name again returns the existing one."""
    clean_name = _clean(name, MAX_NAME, "name", required=True) or ""
    mine = session.exec(
        select(CrewMember).where(col(CrewMember.guild_id) == guild_id, col(CrewMember.article_id).is_(None))
    ).all()
    for member in mine:
        if _norm(member.name) == _norm(clean_name):
            return member, False
    member = CrewMember(
        guild_id=guild_id,
        name=clean_name,
        agency=_clean(agency, MAX_AGENCY, "agency"),
        role=_clean(role, MAX_ROLE, "role"),
        created_by=created_by,
    )
    session.add(member)
    session.flush()
    return member, True


def remove_server_crew(crew_id: int, *, session: Session, guild_id: int) -> CrewMember | None:
    member = session.exec(
        select(CrewMember).where(
            CrewMember.id == crew_id,
            CrewMember.guild_id == guild_id,
            col(CrewMember.article_id).is_(None),
        )
    ).first()
    if member is not None:
        session.delete(member)
    return member


def server_crew(*, session: Session) -> list[tuple[int, int, str, str | None, str | None, dt.datetime]]:
    """(id, guild_id, name, agency, role, created_at) of every crew member a server added."""
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
            CrewMember.id,
            CrewMember.guild_id,
            CrewMember.name,
            CrewMember.agency,
            CrewMember.role,
            CrewMember.created_at,
        ).where(
            col(CrewMember.article_id).is_(None),
            col(CrewMember.guild_id).is_not(None),
        )
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
