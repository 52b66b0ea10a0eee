"""Articles in the database: import (idempotent; an edit replaces the old version), listing, removal.

Each article row keeps its parse as JSON so the in-memory question index is rebuilt at start-up
without parsing again; passages, facts, crew and photos are stored as rows with their provenance.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.knowledge.ingest import ParsedArticle, parse_article
from bot.knowledge.lexicon import canonical_agency
from bot.models import Article, CrewMember, Fact, Passage, Photo, PhotoShown
from bot.photos.catalog import forget_in_pending_posts

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


def _guild_filter(column, guild_id: int | None):  # type: ignore[no-untyped-def]
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
    seen_urls: set[str] = set()
    for image in parsed.images:
        if image.url and image.url in seen_urls:
            continue
        if image.url:
            seen_urls.add(image.url)
            visible = select(Photo.id).where(Photo.url == image.url, _guild_filter(Photo.guild_id, guild_id))
            if session.exec(visible).first() is not None:
                continue  # one image is one photo, whichever article shows it first
        credit = image.credit or fallback_credit or image.photographer or "unknown"
        caption = image.caption or parsed.title
        session.add(
            Photo(
                guild_id=guild_id,
                article_id=article.id,
                url=image.url,
                caption=caption,
                credit=credit[:500],
                photographer=image.photographer,
                created_by=created_by,
            )
        )
    session.flush()
    return _result(article, parsed, status)


def delete_derived(article_id: int, *, session: Session, guild_id: int | None) -> None:
    """Drop what was taken from an article (an edit re-derives it, a removal needs it gone): its
    photos also leave every rotation and any photo-of-the-day post still waiting to go out."""
    photo_ids = session.exec(select(Photo.id).where(Photo.article_id == article_id)).all()
    for photo_id in photo_ids:
        forget_in_pending_posts(photo_id, session=session, guild_id=guild_id)
    if photo_ids:
        session.execute(delete(PhotoShown).where(PhotoShown.photo_id.in_(photo_ids)))  # type: ignore[attr-defined]
    for model in (Passage, Fact, CrewMember, Photo):
        session.execute(delete(model).where(model.article_id == article_id))  # type: ignore[attr-defined]


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
        .where(Article.id > after)  # type: ignore[operator]
        .order_by(Article.id)  # type: ignore[arg-type]
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[3] is not None]


def article_versions(*, session: Session) -> dict[int, str]:
    """id -> content hash: cheap enough to poll, so other processes' imports reach this index."""
    return {r[0]: r[1] for r in session.exec(select(Article.id, Article.content_hash)).all()}


def parsed_of(article_id: int, *, session: Session) -> tuple[int | None, str] | None:
    row = session.exec(select(Article.guild_id, Article.parsed).where(Article.id == article_id)).first()
    return None if row is None or not row[1] else (row[0], row[1])


def has_global_articles(*, session: Session) -> bool:
    return session.exec(select(Article.id).where(Article.guild_id.is_(None)).limit(1)).first() is not None  # type: ignore[union-attr]


def seed_files() -> list[tuple[str, bytes]]:
    """The articles shipped with the package."""
    folder = resources.files("bot") / "content" / "seeds"
    return sorted(
        (entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.endswith(".txt")
    )


def parse_seeds() -> list[tuple[str, ParsedArticle]]:
    return [(name, parse_article(data, filename=name)) for name, data in seed_files()]
