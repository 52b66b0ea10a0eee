"""SQLModel tables. Content rows carry guild_id: NULL is shipped/global content, else that server's own."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint, false
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
    # The parse as JSON (ParsedArticle.to_dict): the question index is rebuilt from it at start-up.
    parsed: str | None = Field(default=None, sa_type=Text)
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


class GuildSettings(SQLModel, table=True):
    __tablename__ = "guild_settings"

    guild_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    potd_channel_id: int | None = Field(default=None, sa_type=BigInteger)
    potd_time: str | None = Field(default=None, max_length=5)  # "HH:MM", local to potd_timezone
    potd_timezone: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, sa_type=BigInteger)


class Delivery(SQLModel, table=True):
    """One scheduled or announced post. (kind, key) is unique, so nothing is posted twice."""

    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_delivery_kind_key"),
        Index("ix_delivery_status_kind", "status", "kind"),  # each poll round looks for queued posts
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    key: str = Field(max_length=300)
    guild_id: int | None = Field(default=None, sa_type=BigInteger)
    channel_id: int = Field(sa_type=BigInteger)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed | dropped
    payload: str = Field(default="{}", sa_type=Text)
    claimed_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = 1
    sent_at: datetime | None = None
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=500)


class PhotoShown(SQLModel, table=True):
    """Photos already shown in a rotation scope ("channel:<id>", "potd:<guild>") this cycle."""

    __tablename__ = "photo_shown"
    __table_args__ = (UniqueConstraint("scope", "photo_id", name="uq_photo_shown"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64, index=True)
    photo_id: int = Field(sa_column=Column(ForeignKey("photo.id", ondelete="CASCADE"), nullable=False))
    shown_at: datetime = Field(default_factory=utcnow)


class Feed(SQLModel, table=True):
    """A watched RSS/Atom feed, fetched once per round however many channels subscribe."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    final_url: str | None = Field(default=None, max_length=2000)
    title: str | None = Field(default=None, max_length=500)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    last_fetch_at: datetime | None = None
    last_status: str | None = Field(default=None, max_length=32)  # ok | not_modified | error code
    last_error: str | None = Field(default=None, max_length=1000)  # the failure code, never a sentence
    item_count: int = 0
    failures: int = 0
    paused: bool = False
    paused_reason: str | None = Field(default=None, max_length=1000)  # {"code", "failures"} as JSON
    next_poll_at: datetime = Field(default_factory=utcnow, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # sha256 (hex) of the last body read and recorded: a 200 with the same bytes is not parsed again,
    # even by a process that has just started.
    body_hash: str | None = Field(default=None, max_length=64)


class Subscription(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("feed_id", "channel_id", name="uq_subscription_feed_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(ForeignKey("feed.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    guild_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    channel_id: int = Field(sa_type=BigInteger)
    role_id: int | None = Field(default=None, sa_type=BigInteger)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)
    # Per-subscription settings (issue 14): an admin's pause, filters and message template.
    paused: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    include_terms: str | None = Field(default=None, sa_type=Text)  # JSON list of words/phrases
    exclude_terms: str | None = Field(default=None, sa_type=Text)  # JSON list of words/phrases
    template: str | None = Field(default=None, sa_type=Text)  # JSON object, see bot.feeds.template
    updated_at: datetime | None = None


class FeedEntry(SQLModel, table=True):
    """An entry already seen in a feed: its dedup key survives restarts so it is never re-announced."""

    __tablename__ = "feed_entry"
    __table_args__ = (
        UniqueConstraint("feed_id", "key", name="uq_feed_entry_key"),
        Index("ix_feed_entry_content", "feed_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(ForeignKey("feed.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    key: str = Field(max_length=300)
    fingerprint: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=500)
    link: str | None = Field(default=None, max_length=2000)
    published: datetime | None = None
    first_seen_at: datetime = Field(default_factory=utcnow)
    content_hash: str | None = Field(default=None, max_length=64)
    """bot.feeds.parse.entry_content_hash: the same item under a new guid and link is not news."""


class Worker(SQLModel, table=True):
    """A running bot process: its claims are its own while its heartbeat is fresh.

    ``name`` is stable across restarts (host and shards), ``claimer`` changes with every start, so a
    restarted process knows the claims its predecessor left unfinished, and peers see a dead one.
    """

    name: str = Field(primary_key=True, max_length=64)
    claimer: str = Field(max_length=64)
    shard_ids: str | None = Field(default=None, max_length=300)
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class RateSchedule(SQLModel, table=True):
    """The next free slot of a rate limit shared by every process (epoch seconds, database clock)."""

    __tablename__ = "rate_schedule"

    name: str = Field(primary_key=True, max_length=32)
    next_at: float = 0.0
