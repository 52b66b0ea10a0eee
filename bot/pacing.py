"""The local REST pacer: a token bucket for one process (bot/cluster.py shares one schedule between many)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """A token bucket shared by every fan-out in this process, kept under Discord's 50 requests/s.

    45/s with a burst of 2 measured 0 429s over a 2,000-server fan-out; a burst of 5 let one
    second reach 51 requests (see bench/photos_bench.py).
    """

    def __init__(
        self,
        rate: float = 45.0,
        burst: int = 2,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # tolerate float rounding after an exact sleep
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                await self._sleep((1 - self._tokens) / self.rate)
