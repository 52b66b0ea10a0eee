"""Queries over content that several features share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.models import Article, CrewMember, Fact, Photo


@dataclass(frozen=True)
class ContentCounts:
    articles: int
    facts: int
    crew: int
    photos: int


def visible_to(column, guild_id: int | None):  # type: ignore[no-untyped-def]
    """Global content plus the guild's own (a guild never sees another guild's rows)."""
    if guild_id is None:
        return column.is_(None)
    return or_(column.is_(None), column == guild_id)


def count_content(*, session: Session, guild_id: int | None) -> ContentCounts:
    def count(model: type) -> int:
        stmt = select(func.count()).select_from(model).where(visible_to(model.guild_id, guild_id))
        return int(session.exec(stmt).one())

    return ContentCounts(count(Article), count(Fact), count(CrewMember), count(Photo))
