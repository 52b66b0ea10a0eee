"""One lifecycle for background work: every loop and task starts, fails and stops the same way.

Modelled on python-discord bot-core's ``utils/scheduling.py``: :func:`create_task` always attaches an
exception logger (a task nobody awaits never fails silently), and a :class:`Supervisor` (their
``Scheduler``) owns the background work of one owner, a cog or the bot, so it is stopped in one call.

The policy, the same for every loop: the first tick waits for ``ready`` (the gateway, or whatever the
loop needs); each tick runs its work under a :class:`~bot.faults.Backoff`, so a failing tick is logged
once with its traceback, retried later with a growing delay and never ends the loop; ``stop`` cancels
every loop and task and waits for them (bounded), so nothing runs on after its owner is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from discord.ext import tasks

from bot.faults import Backoff

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db import Database
    from bot.media import ImageStore
    from bot.net import SafeHttp

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_TIMEOUT_S = 5.0

_running: set[asyncio.Task[Any]] = set()
"""Strong references: the event loop keeps only weak ones, and a task may be collected mid-way."""


def create_task(
    coro: Coroutine[Any, Any, T],
    *,
    name: str,
    logger: logging.Logger | None = None,
    suppressed: tuple[type[BaseException], ...] = (),
) -> asyncio.Task[T]:
    """Start ``coro`` as a task whose exception (other than ``suppressed``) is always logged."""
    task = asyncio.create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(partial(_log_failure, logger=logger or log, suppressed=suppressed))
    return task


def _log_failure(
    task: asyncio.Task[Any], *, logger: logging.Logger, suppressed: tuple[type[BaseException], ...]
) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not isinstance(error, suppressed):
        logger.error("background task %s failed", task.get_name(), exc_info=error)


class Supervisor:
    """The loops and tasks of one owner, started, logged and stopped alike."""

    def __init__(
        self,
        name: str,
        *,
        logger: logging.Logger | None = None,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.name = name
        self._log = logger or log
        self._ready = ready
        self._loops: list[tasks.Loop[Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def loop(
        self,
        work: Callable[[], Awaitable[object]],
        *,
        seconds: float,
        backoff: Backoff,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> tasks.Loop[Any]:
        """A loop running ``work`` every ``seconds`` under ``backoff``; started by :meth:`start`.

        A ``discord.ext.tasks.Loop`` (so reconnects, interval changes and restarts behave as
        discord.py documents); ``ready`` (else the supervisor's) is awaited before the first tick.
        """
        gate = ready or self._ready

        async def tick() -> None:
            await backoff.run(work)

        async def before() -> None:
            if gate is not None:
                await gate()

        async def on_error(error: BaseException) -> None:  # Backoff.run catches Exception: rare
            self._log.error("%s: the %s loop stopped", self.name, backoff.name, exc_info=error)

        looped: tasks.Loop[Any] = tasks.loop(seconds=seconds, name=f"{self.name}: {backoff.name}")(tick)
        looped.before_loop(before)
        looped.error(on_error)  # type: ignore[type-var]  # discord.py types the handler as a method
        self._loops.append(looped)
        return looped

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """A one-off task of this owner: its failure is logged, :meth:`stop` cancels it."""
        task = create_task(coro, name=f"{self.name}: {name}", logger=self._log)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self) -> None:
        """Start every loop that is not running yet."""
        for looped in self._loops:
            if not looped.is_running():
                looped.start()

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Cancel every loop and task, and wait (at most ``timeout``) until they have ended."""
        waiting: list[asyncio.Task[Any]] = []
        for looped in self._loops:
            task = looped.get_task()
            looped.cancel()
            if task is not None and not task.done():
                waiting.append(task)
        for task in list(self._tasks):
            task.cancel()
            waiting.append(task)
        current = asyncio.current_task()
        waiting = [task for task in waiting if task is not current]
        if not waiting:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), timeout)


class WorkerHost(Protocol):
    """What a background worker (the feed poller, the photo-of-the-day poster) may use of the process
    it runs in; the bot provides it. Posting goes through the worker's sender, not through this."""

    settings: Settings
    db: Database
    net: SafeHttp
    images: ImageStore
    claimer: str
    shard_ids: list[int] | None
    clock: Callable[[], datetime]

    @property
    def shard_count(self) -> int | None: ...  # read-only here: the bot's is an int once connected

    def owns_guild(self, guild_id: int) -> bool: ...
