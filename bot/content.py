"""Queries over content that several features share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, or_
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import Session, col, select

from bot.db import Database, DatabaseUnavailable
from bot.models import Article, CrewMember, Fact, Photo


@dataclass(frozen=True)
class ContentCounts:
    articles: int
    facts: int
    crew: int
    photos: int


def visible_to(column: Any, guild_id: int | BindParameter[int] | None) -> ColumnElement[bool]:
    """Global content plus the guild's own (a guild never sees another guild's rows)."""
    if guild_id is None:
        return column.is_(None)
    return or_(column.is_(None), column == guild_id)


def _count_statement() -> Any:
    guild = bindparam("guild_id", type_=BigInteger)

    def count(model: Any) -> Any:
        visible = or_(model.guild_id.is_(None), model.guild_id == guild)
        return select(func.count()).select_from(model).where(visible).scalar_subquery()

    return select(count(Article), count(Fact), count(CrewMember), count(Photo))


# Built once: /about runs this on every call, and building the statement costs more than running it.
_COUNTS = _count_statement()


def count_content(*, session: Session, guild_id: int | None) -> ContentCounts:
    """All four counts in one round trip (guild_id None: global content only)."""
    row = session.execute(_COUNTS, {"guild_id": guild_id}).one()
    return ContentCounts(*(int(v) for v in row))


@dataclass(frozen=True)
class CountsSnapshot:
    """Global counts and every guild's own, read together: one query answers every server."""

    shared: ContentCounts
    own: dict[int, ContentCounts]

    def for_guild(self, guild_id: int | None) -> ContentCounts:
        mine = self.own.get(guild_id) if guild_id is not None else None
        if mine is None:
            return self.shared
        return ContentCounts(*(a + b for a, b in zip(astuple(self.shared), astuple(mine), strict=True)))


_MODELS = (Article, Fact, CrewMember, Photo)
_GROUPED = tuple(select(m.guild_id, func.count()).group_by(col(m.guild_id)) for m in _MODELS)


def count_all(*, session: Session) -> CountsSnapshot:
    """Counts per guild (NULL: global) of the four content tables, four GROUP BYs in one hop."""
    shared = [0, 0, 0, 0]
    own: dict[int, list[int]] = {}
    for i, statement in enumerate(_GROUPED):
        for guild_id, count in session.execute(statement).all():
            if guild_id is None:
                shared[i] = int(count)
            else:
                own.setdefault(int(guild_id), [0, 0, 0, 0])[i] = int(count)
    return CountsSnapshot(ContentCounts(*shared), {g: ContentCounts(*c) for g, c in own.items()})


class CountsCache:
    """Content counts for /about: one snapshot of every guild's counts, kept ``ttl`` seconds and
    dropped on our own writes.

    Issue 11: a cache per guild missed for each of 10,000 servers asking once (a database hop
    each). Only guilds that added content of their own have a row, so the snapshot stays small.
    Other processes' writes show within ``ttl``.
    """

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl = ttl
        self._clock = clock
        self._snapshot: tuple[float, CountsSnapshot] | None = None
        self._pending: asyncio.Future[CountsSnapshot] | None = None
        self._last: CountsSnapshot | None = None  # kept through invalidation, for a database outage
        self._generation = 0

    async def get(self, guild_id: int | None) -> ContentCounts:
        hit = self._snapshot
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return hit[1].for_guild(guild_id)
        return (await self._refresh()).for_guild(guild_id)

    async def _refresh(self) -> CountsSnapshot:
        if self._pending is not None:  # one query serves every caller that arrives meanwhile
            return await asyncio.shield(self._pending)
        future: asyncio.Future[CountsSnapshot] = asyncio.get_running_loop().create_future()
        self._pending = future
        generation = self._generation
        try:
            snapshot = await self._db.run(count_all)
            future.set_result(snapshot)
        except DatabaseUnavailable as exc:
            if self._last is None:
                future.set_exception(exc)
                future.exception()
                raise
            # /about keeps answering from what it last read while the database is away.
            future.set_result(self._last)
            return self._last
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller re-raises it
            raise
        finally:
            self._pending = None
        self._last = snapshot
        if generation == self._generation:  # not invalidated while it was being read
            self._snapshot = (self._clock(), snapshot)
        return snapshot

    def invalidate(self, guild_id: int | None = None) -> None:
        """Our own write changed some counts: read them again on the next call."""
        self._generation += 1
        self._snapshot = None
