"""SQLModel tables. Content rows carry guild_id: NULL is shipped/global content, else that server's own."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _guild_column() -> Column:
    return Column(BigInteger, nullable=True, index=True)


class Article(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_column=_guild_column())
    identity: str = Field(index=True, max_length=300)
    title: str = Field(max_length=500)
    published: date | None = None
    author: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=500)
    language: str = Field(default="en", max_length=8)
    content_hash: str = Field(max_length=64)
    filename: str | None = Field(default=None, max_length=300)
    imported_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, sa_type=BigInteger)


class Passage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(sa_column=Column(ForeignKey("article.id", ondelete="CASCADE"), index=True))
    position: int
    text: str = Field(sa_type=Text)


class Fact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_column=_guild_column())
    article_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("article.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    passage_position: int | None = None
    key: str = Field(max_length=64)
    text: str = Field(sa_type=Text)
    value: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    keywords: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class CrewMember(SQLModel, table=True):
    __tablename__ = "crew_member"

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_column=_guild_column())
    article_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("article.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    name: str = Field(max_length=200)
    agency: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=200)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class Photo(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_column=_guild_column())
    article_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("article.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    url: str | None = Field(default=None, max_length=2000)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    phash: str | None = Field(default=None, max_length=32)
    path: str | None = Field(default=None, max_length=500)
    caption: str = Field(sa_type=Text)
    credit: str = Field(max_length=500)
    photographer: str | None = Field(default=None, max_length=200)
    width: int | None = None
    height: int | None = None
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_guild_at", "guild_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_type=BigInteger)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(max_length=64)
    target: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow)
