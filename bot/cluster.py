"""Several processes of one bot: who holds a claim, whether it is still alive, one shared rate limit.

- Every process has a stable *name* (host and shards, or ``[discord] process_name``) and a *claimer*
  that changes with each start (``name#incarnation``). Claims carry the claimer; the ``worker`` table
  holds each name's current claimer and heartbeat. A claim is abandoned when its claimer's name now
  has another claimer (the process restarted: it takes its own unfinished claims back at once) or
  when that name's heartbeat is older than ``HEARTBEAT_TIMEOUT`` (peers take it over).
- Discord's global limit (50 requests/s per bot) is shared by all processes through one row in
  PostgreSQL: each process reserves its next few send slots with one statement, and the slots of
  all processes are spaced ``1/rate`` apart on the database's clock (GCRA-style virtual schedule).
  On SQLite (one process) the same spacing is kept in memory. Every REST request except interaction
  responses goes through it (see :func:`install_http_pacing`). Rationale in docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy import text
from sqlmodel import Session

from bot.models import Worker
from bot.pacing import Pacer

if TYPE_CHECKING:
    from bot.core import Cupola
    from bot.db import Database

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0
HEARTBEAT_TIMEOUT = timedelta(seconds=20)
"""A process silent this long is dead to its peers (four missed heartbeats)."""
RATE_SHARE = 0.97
"""Of Discord's limit, what the bot allows itself: 48.5 of 50 requests/s. Any second then holds at
most 49 slots, and 51 requests reach one second only if they arrive over 30 ms closer together
than their slots (10 ms of that may be a late wake-up, see ``LATE``)."""
RESERVE_MAX = 8
LATE = 0.010
"""A slot woken up later than this is given up and another one taken: lateness is what lets a
one-second window catch one request more than the spacing allows."""
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")
"""Interaction responses and follow-ups are not counted against the global limit by Discord."""


# --------------------------------------------------------------------------------------- identity


def process_name(shard_ids: list[int] | None, shard_count: int | None, configured: str | None = None) -> str:
    """Stable across restarts of the same deployment slot: the host and the shards it runs."""
    if configured:
        return configured[:40]
    shards = "all" if shard_ids is None else ",".join(map(str, shard_ids))
    return f"{socket.gethostname()[:24]}/{shards}of{shard_count or 1}"[:40]


def new_claimer(name: str) -> str:
    return f"{name}#{os.getpid()}.{secrets.token_hex(3)}"[:64]


def name_of(claimer: str | None) -> str | None:
    if not claimer or "#" not in claimer:
        return None
    return claimer.rpartition("#")[0]


def heartbeat(
    name: str, claimer: str, shard_ids: list[int] | None, *, now: datetime, session: Session
) -> None:
    """Record that ``claimer`` is alive (and, on its first beat, that it replaced its predecessor)."""
    row = session.get(Worker, name)
    if row is None:
        row = Worker(name=name, claimer=claimer, started_at=now)
    elif row.claimer != claimer:
        log.info("process %s restarted: claims of %s are taken back", name, row.claimer)
        row.claimer = claimer
        row.started_at = now
    row.shard_ids = None if shard_ids is None else ",".join(map(str, shard_ids))
    row.heartbeat_at = now
    session.add(row)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def claimer_gone(claimed_by: str | None, *, me: str, now: datetime, session: Session) -> bool:
    """Whether the process that holds a claim is known to be gone (restarted, or silent too long).

    A claimer with no worker row (an older version, a test) is not known to be gone: its claim
    runs out with the delivery lease instead.
    """
    name = name_of(claimed_by)
    if name is None or claimed_by == me:
        return False
    if name == name_of(me):
        return True  # our own predecessor: it cannot still be posting
    row = session.get(Worker, name)
    if row is None:
        return False
    return row.claimer != claimed_by or _aware(row.heartbeat_at) < now - HEARTBEAT_TIMEOUT


# --------------------------------------------------------------------------------------- pacing


def reserve_slots(name: str, count: int, step: float, *, session: Session) -> tuple[list[float], float]:
    """Take the next ``count`` send slots of the shared schedule; (their epoch times, database now)."""
    row = session.execute(
        text(
            "INSERT INTO rate_schedule (name, next_at) "
            "VALUES (:name, EXTRACT(EPOCH FROM clock_timestamp()) + :span) "
            "ON CONFLICT (name) DO UPDATE SET next_at = "
            "GREATEST(rate_schedule.next_at, EXTRACT(EPOCH FROM clock_timestamp())) + :span "
            "RETURNING next_at, EXTRACT(EPOCH FROM clock_timestamp())"
        ),
        {"name": name, "span": count * step},
    ).one()
    end, db_now = float(row[0]), float(row[1])
    start = end - count * step
    return [start + i * step for i in range(count)], db_now


class SharedPacer:
    """Every process's REST requests spaced ``1/rate`` apart on one schedule in PostgreSQL (in
    memory on SQLite, where one process runs).

    A reservation takes as many slots as there are requests waiting (up to ``RESERVE_MAX``): a
    fan-out costs about rate/8 statements a second. A slot missed by more than one step (the loop
    was busy) is dropped rather than used late, so a stall never turns into a burst. If the
    database cannot be reached, the process falls back to its share of the shards, paced locally.
    """

    def __init__(
        self,
        db: Database,
        rate: float,
        *,
        local_rate: float | None = None,
        name: str = "discord",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.rate = rate
        self.step = 1.0 / rate
        self.name = name
        self.local = Pacer(rate=local_rate or rate, burst=1, sleep=sleep)
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._waiting = 0
        self.reservations = 0
        self.late = 0
        self._offset = 0.0
        self._best_rtt = float("inf")
        self._local_next = 0.0

    @property
    def shared(self) -> bool:
        return self.db.is_open and not self.db.is_sqlite

    async def wait(self) -> None:
        if not self.shared:
            await self._wait_local()
            return
        self._waiting += 1
        try:
            while True:
                async with self._lock:
                    at = await self._next_slot()
                if at is None:
                    break
                delay = at - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                if self._clock() - at <= LATE:
                    return
                # Woken too late (the loop was busy): sent now, this request could share a second
                # with the slots after it and the window could hold one request too many.
                self.late += 1
            await self.local.wait()
        finally:
            self._waiting -= 1

    async def _wait_local(self) -> None:
        """One process (SQLite): the same schedule in memory, one slot at a time.

        A wake-up up to ``LATE`` behind its slot keeps the schedule (the next slot stays one step
        after this one); only lateness beyond that moves the schedule on. A token bucket loses every
        wake-up's lateness instead (a few ms of each 21 ms step: 41 posts/s where 47.5 were meant).
        """
        async with self._lock:
            at = max(self._local_next, self._clock())
            delay = at - self._clock()
            if delay > 0:
                await self._sleep(delay)
            late = self._clock() - at
            if late > LATE:
                self.late += 1
            self._local_next = at + self.step + max(0.0, late - LATE)

    async def _next_slot(self) -> float | None:
        while True:
            now = self._clock()
            while self._slots and self._slots[0] < now - LATE:
                self._slots.popleft()  # missed: using it now could put two requests in one step
            if self._slots:
                return self._slots.popleft()
            count = max(1, min(RESERVE_MAX, self._waiting))
            before = self._clock()
            try:
                slots, db_now = await self.db.run(reserve_slots, self.name, count, self.step)
            except Exception:
                log.warning("shared rate limit unavailable; pacing locally for now", exc_info=True)
                return None
            after = self._clock()
            self.reservations += 1
            # The database's clock against ours, NTP-style: from the quickest round trip seen, so
            # that a slow answer does not shift this process's slots against its peers'.
            if after - before <= self._best_rtt:
                self._best_rtt = after - before
                self._offset = db_now - (before + after) / 2
            self._slots.extend(slot - self._offset for slot in slots)


def make_pacer(bot: Cupola) -> SharedPacer:
    settings = bot.settings.discord
    rate = settings.global_rate_limit * RATE_SHARE
    share = 1.0
    if settings.shard_ids is not None and settings.shard_count:
        share = len(settings.shard_ids) / settings.shard_count
    return SharedPacer(bot.db, rate, local_rate=rate * share)


_PACE_AT_WRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("cupola_pace_at_write", default=False)
"""Set by the request wrapper for a request with a body: its slot is awaited at its first byte."""


def install_http_pacing(bot: Cupola) -> None:
    """Route every REST request (not interaction answers) through ``bot.pacer``, and make discord.py's
    sweep of expired rate-limit buckets amortised instead of once per new bucket past 256.

    A request with a body waits for its slot right where its first bytes are written (an aiohttp
    trace hook, awaited just before the headers and the first chunk go to the socket). Waiting in
    front of discord.py instead left a loop turn or more between the slot and the socket (on Python
    3.11 aiohttp writes the body in a task of its own): with the loop busy, requests reached the
    server up to hundreds of milliseconds after their slots, bunched with punctual ones, and a
    one-second window could catch 51. Requests without a body are paced in front, as before; every
    attempt is paced, retries included.

    A fan-out to N channels creates N buckets; discord.py scans all of them on each new one, which
    made the CPU per post grow with the number of servers.
    """
    http = bot.http
    original_request = http.request
    if getattr(original_request, "_cupola_paced", False):
        return

    async def request(route: Any, **kwargs: Any) -> Any:
        if route.path.startswith(EXEMPT_PREFIXES):
            return await original_request(route, **kwargs)
        if not any(key in kwargs for key in ("json", "data", "form", "files")):
            await bot.pacer.wait()
            return await original_request(route, **kwargs)
        token = _PACE_AT_WRITE.set(True)
        try:
            return await original_request(route, **kwargs)
        finally:
            _PACE_AT_WRITE.reset(token)

    async def on_first_chunk(_session: Any, context: Any, _params: Any) -> None:
        if not _PACE_AT_WRITE.get() or getattr(context, "cupola_paced", False):
            return
        context.cupola_paced = True  # the first chunk of this attempt: the later ones follow it
        await bot.pacer.wait()

    request._cupola_paced = True  # type: ignore[attr-defined]
    http.request = request  # type: ignore[method-assign]
    trace = http.http_trace or aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(on_first_chunk)
    http.http_trace = trace

    original_sweep = http._try_clear_expired_ratelimits
    threshold = [256]

    def sweep() -> None:
        buckets = http._buckets
        if len(buckets) < threshold[0]:
            return
        original_sweep()
        threshold[0] = max(256, 2 * len(buckets))

    http._try_clear_expired_ratelimits = sweep  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------- lifecycle


class Cluster:
    """This process's place among its peers: its name, claimer and heartbeat."""

    def __init__(self, bot: Cupola) -> None:
        self.bot = bot
        settings = bot.settings.discord
        self.name = process_name(settings.shard_ids, settings.shard_count, settings.process_name)
        self.claimer = new_claimer(self.name)
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        await self.bot.db.run(
            heartbeat, self.name, self.claimer, self.bot.settings.discord.shard_ids, now=self.bot.clock()
        )

    async def start(self) -> None:
        """The first heartbeat is written before any claim, so a predecessor's claims are free at once."""
        try:
            await self.beat()
        except Exception:
            log.warning("could not write this process's first heartbeat", exc_info=True)
        self._task = asyncio.create_task(self._loop(), name="cupola-heartbeat")

    async def _loop(self) -> None:
        if self.bot.db.is_sqlite:
            return  # one process: no peers to tell, and SQLite's single writer is better left alone
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            try:
                await self.beat()
            except Exception:  # the database may be away for a moment; peers allow four misses
                log.warning("heartbeat failed", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
