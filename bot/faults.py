"""Back-off for background loops: exponential on repeated failure, one log line per state change.

A loop ticks as usual and asks :meth:`Backoff.due` before doing its work; after a failure the next
attempt waits ``base``, then twice that, up to ``maximum``. The first failure is logged with its
traceback, the recovery once; the attempts in between only at DEBUG (the database being away for a
minute used to write hundreds of tracebacks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

RECORD_BUDGET_S = 90.0
"""How long a post that reached Discord keeps trying to be recorded: under the 2-minute delivery
lease (bot/delivery.py), so no other round or process takes the claim over meanwhile."""


async def record_posted(
    work: Callable[[], Awaitable[T]],
    *,
    what: str,
    budget: float = RECORD_BUDGET_S,
    first_delay: float = 0.5,
    logger: logging.Logger | None = None,
) -> T:
    """Record something already posted, retrying while the database is unavailable.

    Giving up after one failure would leave the claim pending, and a later round would post it a
    second time once the database is back; so the write is retried (0.5 s, 1 s, 2 s … capped at
    15 s) for up to ``budget`` seconds. One line when it starts failing, one when it succeeds.
    """
    from bot.db import DatabaseUnavailable

    logger = logger or logging.getLogger(__name__)
    deadline = time.monotonic() + budget
    delay, failures = first_delay, 0
    while True:
        try:
            result = await work()
        except DatabaseUnavailable as error:
            failures += 1
            if time.monotonic() + delay > deadline:
                logger.error("%s was posted but could not be recorded: %s", what, error)
                raise
            if failures == 1:
                logger.warning("%s was posted; the database is unavailable, retrying: %s", what, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)
            continue
        if failures:
            logger.warning("%s recorded after %d retries", what, failures)
        return result


class Backoff:
    def __init__(
        self,
        name: str,
        *,
        base: float,
        maximum: float = 300.0,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.base = base
        self.maximum = maximum
        self.failures = 0
        self.next_attempt = 0.0
        self._log = logger or logging.getLogger(__name__)
        self._clock = clock

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def due(self) -> bool:
        """Whether the loop should try now (always, unless backing off after a failure)."""
        return self._clock() >= self.next_attempt

    @property
    def delay(self) -> float:
        """The wait after the current run of failures (0 when healthy)."""
        if not self.failures:
            return 0.0
        return min(self.maximum, self.base * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        if self.failures:
            self._log.warning("%s recovered after %d failed attempts", self.name, self.failures)
        self.failures = 0
        self.next_attempt = 0.0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        self.next_attempt = self._clock() + self.delay
        if self.failures == 1:
            self._log.error(
                "%s failed; backing off (next try in %.0f s, doubling up to %.0f s): %s",
                self.name,
                self.delay,
                self.maximum,
                error,
                exc_info=error,
            )
        else:
            self._log.debug("%s failed again (%d); next try in %.0f s", self.name, self.failures, self.delay)

    async def run(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``work`` if due; record the outcome. Never raises an ``Exception`` (cancellation passes)."""
        if not self.due():
            return None
        try:
            result = await work()
        except Exception as error:
            self.failed(error)
            return None
        self.succeeded()
        return result
