"""Queries over content that several features share."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, or_
from sqlmodel import Session, select

from bot.db import Database, DatabaseUnavailable
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


class CountsCache:
    """Content counts per guild for /about, kept for ``ttl`` seconds and dropped on our own writes.

    /about is asked far more often than content changes; a worker-thread hop per call cost more CPU
    than the rest of the command (see bench/). Other processes' writes show within ``ttl``.
    """

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[int | None, tuple[float, ContentCounts]] = OrderedDict()
        self._pending: dict[int | None, asyncio.Future[ContentCounts]] = {}

    async def get(self, guild_id: int | None) -> ContentCounts:
        hit = self._entries.get(guild_id)
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return hit[1]
        pending = self._pending.get(guild_id)
        if pending is not None:  # one query serves every caller that arrives meanwhile
            return await asyncio.shield(pending)
        future: asyncio.Future[ContentCounts] = asyncio.get_running_loop().create_future()
        self._pending[guild_id] = future
        try:
            counts = await self._db.run(count_content, guild_id=guild_id)
            future.set_result(counts)
        except DatabaseUnavailable as exc:
            if hit is None:
                future.set_exception(exc)
                future.exception()
                raise
            # /about keeps answering from what it last read while the database is away.
            future.set_result(hit[1])
            return hit[1]
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller re-raises it
            raise
        finally:
            del self._pending[guild_id]
        self._entries[guild_id] = (self._clock(), counts)
        self._entries.move_to_end(guild_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return counts

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget a guild's counts; global content (None) changes every guild's counts."""
        if guild_id is None:
            self._entries.clear()
        else:
            self._entries.pop(guild_id, None)
