"""Every scheduled or announced post goes through here: claimed once per (kind, key), paced under
Discord's global rate limit, and resumable after a crash (a stale claim is taken over with its payload).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models import Delivery

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
"""How long a claim by a process that left no heartbeat (see bot/cluster.py) is held for it."""
OWNER = f"{socket.gethostname()}:{os.getpid()}"
HISTORY_LOOKBACK = 50


@dataclass(frozen=True)
class Claim:
    id: int
    kind: str
    key: str
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]
    attempts: int

    @property
    def nonce(self) -> str:
        """The same for every attempt at one delivery: Discord returns the earlier message instead of
        posting a second one with this nonce (enforce_nonce), for as long as it remembers it."""
        return f"cupola-{self.id}"

    @property
    def is_retry(self) -> bool:
        """An earlier attempt existed and may have reached Discord: look for it before posting."""
        return self.attempts > 1


# A queued post looks like a claim that expired long ago, so the first claim() takes it over.
QUEUED_AT = datetime(2000, 1, 1, tzinfo=UTC)


def enqueue(
    kind: str,
    key: str,
    *,
    channel_id: int,
    guild_id: int | None,
    payload: dict[str, Any],
    session: Session,
) -> bool:
    """Queue a post for whichever process owns its guild; False when (kind, key) exists (never twice)."""
    row = Delivery(
        kind=kind,
        key=key,
        channel_id=channel_id,
        guild_id=guild_id,
        payload=json.dumps(payload),
        claimed_at=QUEUED_AT,
        claimed_by=None,
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class Queued:
    """One post to queue (see :func:`enqueue_many`)."""

    kind: str
    key: str
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]


ENQUEUE_CHUNK = 500
"""Rows per INSERT: 500 × 8 values stays far under SQLite's 32,766 bound parameters."""


def enqueue_many(items: Sequence[Queued], *, session: Session) -> int:
    """Queue several posts in a few statements; a (kind, key) that exists is left alone (never twice).

    Returns how many were queued. One savepoint and one INSERT per post kept the write lock for
    seconds when an album was queued for thousands of channels.
    """
    if not items:
        return 0
    table: Table = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel's types lack __table__
    dialect = session.get_bind().dialect.name
    insert: Any = sqlite_insert if dialect == "sqlite" else postgres_insert
    queued = 0
    for start in range(0, len(items), ENQUEUE_CHUNK):
        rows = [
            {
                "kind": item.kind,
                "key": item.key,
                "channel_id": item.channel_id,
                "guild_id": item.guild_id,
                "status": "pending",
                "payload": json.dumps(item.payload),
                "claimed_at": QUEUED_AT,
                "claimed_by": None,
                "attempts": 0,
            }
            for item in items[start : start + ENQUEUE_CHUNK]
        ]
        statement = (
            insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["kind", "key"])
            .returning(table.c.id)  # the rows inserted (psycopg reports no rowcount here)
        )
        queued += len(session.execute(statement).all())
    return queued


def _as_claim(row: Delivery) -> Claim:
    assert row.id is not None
    return Claim(
        row.id, row.kind, row.key, row.channel_id, row.guild_id, json.loads(row.payload), row.attempts
    )


def claim(
    kind: str,
    key: str,
    *,
    channel_id: int,
    guild_id: int | None,
    now: datetime,
    payload: dict[str, Any] | None = None,
    owner: str = OWNER,
    commit: bool = True,
    session: Session,
) -> Claim | None:
    """Take the right to post (kind, key); None when it was posted already or someone else holds it.

    A pending claim is free once its lease ran out, or at once when its process is known to be gone
    (it restarted, or its heartbeat stopped: bot/cluster.py). ``commit=False`` lets a caller claim
    a batch in one transaction (the unique key still settles races between processes).
    """
    from bot.cluster import claimer_gone

    existing = session.exec(select(Delivery).where(Delivery.kind == kind, Delivery.key == key)).first()
    if existing is None:
        row = Delivery(
            kind=kind,
            key=key,
            channel_id=channel_id,
            guild_id=guild_id,
            payload=json.dumps(payload or {}),
            claimed_at=now,
            claimed_by=owner,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return None  # another process claimed it a moment ago
        if commit:
            session.commit()
        return _as_claim(row)
    if existing.status in ("sent", "dropped"):
        return None
    if (
        existing.status == "pending"
        and _aware(existing.claimed_at) > now - LEASE
        and not claimer_gone(existing.claimed_by, me=owner, now=now, session=session)
    ):
        return None  # someone is posting it right now
    # A stale claim (the poster crashed) or a failed attempt: take it over, keeping its payload.
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.id) == existing.id, col(Delivery.attempts) == existing.attempts)
        .values(status="pending", claimed_at=now, claimed_by=owner, attempts=existing.attempts + 1)
    )
    if commit:
        session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(existing)
    return _as_claim(existing)


@dataclass(frozen=True)
class NewClaim:
    """A first claim to take (see :func:`claim_new_many`)."""

    key: str
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]


def claim_new_many(
    kind: str, items: Sequence[NewClaim], *, now: datetime, owner: str = OWNER, session: Session
) -> dict[str, Claim]:
    """First claims for several keys in one statement, by key; a key that exists already (claimed or
    posted, by anyone) is left out, and the caller goes the way of :func:`claim` for it.

    A fan-out claimed each server with a look-up, a savepoint and an ORM insert of its own. For a
    batch (the poster's 16): more than ENQUEUE_CHUNK items would pass SQLite's parameter bound.
    """
    if not items:
        return {}
    table: Table = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel's types lack __table__
    insert: Any = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    by_key = {item.key: item for item in items}
    rows = [
        {
            "kind": kind,
            "key": item.key,
            "channel_id": item.channel_id,
            "guild_id": item.guild_id,
            "status": "pending",
            "payload": json.dumps(item.payload),
            "claimed_at": now,
            "claimed_by": owner,
            "attempts": 1,
        }
        for item in by_key.values()
    ]
    statement = (
        insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        .returning(table.c.id, table.c.key)
    )
    claims: dict[str, Claim] = {}
    for row_id, key in session.execute(statement).all():
        item = by_key[key]
        claims[key] = Claim(int(row_id), kind, key, item.channel_id, item.guild_id, dict(item.payload), 1)
    return claims


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def find_earlier(
    channel: Any, claim: Claim, *, me: int | None, marker: Callable[[Any], bool] | None = None
) -> Any | None:
    """Our message for ``claim`` if an earlier attempt made it after all: same nonce (where Discord
    reports it), or ``marker`` (a footer or link the post carries; the nonce is not kept forever)."""
    import discord

    try:
        async for message in channel.history(limit=HISTORY_LOOKBACK):
            if me is not None and message.author.id != me:
                continue
            if str(message.nonce or "") == claim.nonce or (marker is not None and marker(message)):
                return message
    except discord.Forbidden:
        log.warning("cannot read channel %s to check for an earlier post", claim.channel_id)
    return None


def update_payload(delivery_id: int, payload: dict[str, Any], *, session: Session) -> None:
    session.execute(
        update(Delivery).where(col(Delivery.id) == delivery_id).values(payload=json.dumps(payload))
    )


def mark_sent(delivery_id: int, message_id: int | None, *, now: datetime, session: Session) -> None:
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status="sent", sent_at=now, message_id=message_id, error=None)
    )


def mark_sent_many(items: list[tuple[int, int | None, datetime]], *, session: Session) -> None:
    """Several posts recorded as sent in one statement (executemany)."""
    if not items:
        return
    # Core: a plain executemany. SQLModel's stubs lack the __table__ every table model has.
    table: Table = Delivery.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(status="sent", sent_at=bindparam("b_at"), message_id=bindparam("b_message"), error=None),
        [{"b_id": i, "b_message": m, "b_at": at} for i, m, at in items],
    )


class SentBatcher:
    """Records sent posts a few at a time: one write transaction per ``delay`` instead of one per post.

    A fan-out posts ~48 times a second; one SQLite write each kept the worker threads waiting for
    the write lock. A post not yet recorded when the process dies is found again by its retry
    (same nonce, or the look in the channel), so the window costs nothing but a look-up.
    """

    def __init__(self, db: Any, *, delay: float = 0.25, max_items: int = 64) -> None:
        self.db = db
        self.delay = delay
        self.max_items = max_items
        self._items: list[tuple[int, int | None, datetime, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def mark(self, delivery_id: int, message_id: int | None, *, now: datetime) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._items.append((delivery_id, message_id, now, future))
        if len(self._items) >= self.max_items:
            self._start_flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start_flush)
        await asyncio.shield(future)

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        items, self._items = self._items, []
        if items:
            task = asyncio.create_task(self._flush(items))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, items: list[tuple[int, int | None, datetime, asyncio.Future[None]]]) -> None:
        try:
            await self.db.run(mark_sent_many, [(i, m, at) for i, m, at, _ in items])
        except BaseException as exc:  # cancelled too: no waiter may be left hanging
            for *_, future in items:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved here; the poster logs it
            if not isinstance(exc, Exception):
                raise
            return
        for *_, future in items:
            if not future.done():
                future.set_result(None)

    async def aclose(self) -> None:
        """Write what is pending (a clean stop)."""
        self._start_flush()
        await asyncio.gather(*list(self._flushes), return_exceptions=True)


def mark_failed(delivery_id: int, error: str, *, permanent: bool = False, session: Session) -> None:
    """A failed post is retried on a later round, unless ``permanent`` (the channel is gone)."""
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status="dropped" if permanent else "failed", error=error[:500])
    )


def was_delivered(kind: str, key: str, *, session: Session) -> bool:
    row = session.exec(select(Delivery.status).where(Delivery.kind == kind, Delivery.key == key)).first()
    return row == "sent"
