"""When to poll a feed next, when to give up, and how to explain failures to admins.

Everything here except :class:`HostLimiter` is a pure function: the clock is passed in, and
jitter only happens when a random source is passed in.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

PAUSE_AFTER_FAILURES = 5
"""Consecutive failures after which a feed is paused and its admins told."""
MAX_CACHE_FACTOR = 6
"""Cache-Control / Retry-After may stretch the interval to at most this many times..."""
MAX_DELAY = 24 * 60 * 60
"""...and never beyond a day; failure backoff is capped at a day too."""
MIN_INTERVAL = 1
"""The configured interval is honoured down to a second ([feeds] poll_interval_seconds, for testing);
the default (600 s) is what a polite deployment uses."""


def _ceiling(interval: float) -> float:
    return max(interval, min(interval * MAX_CACHE_FACTOR, MAX_DELAY))


def backoff_delay(
    interval: float,
    failures: int,
    *,
    cap: float = MAX_DELAY,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """``interval × 2^failures``, capped (never below ``interval``); deterministic unless both
    ``jitter`` (a fraction, e.g. 0.1) and ``rng`` are given. Jitter only lengthens the delay."""
    interval = max(float(interval), MIN_INTERVAL)
    failures = max(0, failures)
    delay = interval * (2 ** min(failures, 32))
    delay = max(interval, min(delay, cap))
    if jitter > 0 and rng is not None:
        delay += delay * jitter * rng.random()
    return delay


def poll_delay(
    interval: float,
    *,
    cache_max_age: int | None = None,
    retry_after: int | None = None,
    failures: int = 0,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll.

    - success: ``interval``, or the server's Cache-Control/Expires lifetime clamped to
      ``[interval, min(6 × interval, 24 h)]`` (never sooner than the interval, never much later);
    - failure: exponential backoff, ``interval × 2^failures`` capped at 24 h;
    - Retry-After (429/503) is honoured up to ``min(6 × interval, 24 h)``; it can only lengthen.
    """
    interval = max(float(interval), MIN_INTERVAL)
    ceiling = _ceiling(interval)
    if failures > 0:
        delay = backoff_delay(interval, failures, jitter=jitter, rng=rng)
    else:
        delay = interval
        if cache_max_age is not None:
            delay = min(max(float(cache_max_age), interval), ceiling)
        if jitter > 0 and rng is not None:
            delay += interval * jitter * rng.random()
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), ceiling))
    return delay


def next_poll_time(
    now: datetime,
    interval: float,
    *,
    cache_max_age: int | None = None,
    retry_after: int | None = None,
    failures: int = 0,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> datetime:
    """``now`` plus :func:`poll_delay`."""
    delay = poll_delay(
        interval,
        cache_max_age=cache_max_age,
        retry_after=retry_after,
        failures=failures,
        jitter=jitter,
        rng=rng,
    )
    return now + timedelta(seconds=delay)


def should_pause(consecutive_failures: int, *, threshold: int = PAUSE_AFTER_FAILURES) -> bool:
    """True once a feed has failed ``threshold`` times in a row (5 by default)."""
    return consecutive_failures >= threshold


def stagger_offset(key: str, interval: float) -> float:
    """A stable offset in ``[0, interval)`` for a feed id or URL, so feeds with the same interval
    do not all poll at once. sha256 rather than ``hash()``: the same after a restart."""
    if interval <= 0:
        return 0.0
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return fraction * interval


def slot_time(target: datetime, offset: float, interval: float, *, tolerance: float = 0.5) -> datetime:
    """The feed's own slot nearest ``target``: the one time in ``[target − tolerance × interval,
    target + (1 − tolerance) × interval)`` that is ``offset`` seconds past a multiple of
    ``interval`` (Unix time). Polled on its slot every interval, a feed stays there; feeds with
    different offsets (:func:`stagger_offset`) stay spread even after all fell due at once."""
    if interval <= 0:
        return target
    start = target.timestamp() - tolerance * interval
    slot = math.ceil((start - offset) / interval) * interval + offset
    return datetime.fromtimestamp(slot, UTC)


# --------------------------------------------------------------------------------------------- errors

FAILURE_CODES = (
    "private_address", "bad_scheme", "invalid_url", "too_large", "timeout", "too_many_redirects",
    "connection_failed", "http_error", "entities", "not_a_feed", "malformed", "image", "json", "pdf",
)  # fmt: skip
"""Why a fetch or parse failed, as stored (``Feed.last_status``, ``last_error``) and explained to admins
in their language by ``bot/render/feeds.py`` (``feeds.why.<code>`` in ``bot/locale/feeds.toml``)."""


def failure_code(code: str, status: int | None = None) -> str:
    """The stored code of a failure: ``http_<status>`` for an HTTP error with its status, else ``code``."""
    if code == "http_error" and status:
        return f"http_{status}"
    return code


# --------------------------------------------------------------------------------------------- politeness


@dataclass(slots=True)
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0
    holding: int = 0
    last_start: float = float("-inf")


class HostLimiter:
    """At most ``per_host`` requests at once to one host, optionally starting ``min_gap`` seconds
    apart. Slots are created on demand and dropped once idle, so the registry stays small."""

    def __init__(self, per_host: int = 2, *, min_gap: float = 0.0) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self.min_gap = min_gap
        self._slots: dict[str, _HostSlot] = {}

    @staticmethod
    def host_of(url_or_host: str) -> str:
        if "://" in url_or_host:
            return (urlsplit(url_or_host).hostname or "").lower()
        return url_or_host.strip().lower()

    def active(self, url_or_host: str) -> int:
        """Requests currently holding a slot for this host."""
        slot = self._slots.get(self.host_of(url_or_host))
        return 0 if slot is None else slot.holding

    def _idle(self, slot: _HostSlot, now: float) -> bool:
        return slot.users == 0 and now - slot.last_start >= self.min_gap

    @asynccontextmanager
    async def limit(self, url_or_host: str) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        host = self.host_of(url_or_host)
        slot = self._slots.get(host)
        if slot is None:
            now = loop.time()
            for name in [name for name, other in self._slots.items() if self._idle(other, now)]:
                del self._slots[name]
            slot = self._slots[host] = _HostSlot(asyncio.Semaphore(self.per_host))
        slot.users += 1
        try:
            async with slot.semaphore:
                if self.min_gap > 0:
                    now = loop.time()
                    start = max(now, slot.last_start + self.min_gap)
                    slot.last_start = start
                    if start > now:
                        await asyncio.sleep(start - now)
                        # a late wake-up (busy loop) counts from when it really started
                        slot.last_start = max(slot.last_start, loop.time())
                else:
                    slot.last_start = loop.time()
                slot.holding += 1
                try:
                    yield
                finally:
                    slot.holding -= 1
        finally:
            slot.users -= 1
            if self._idle(slot, loop.time()) and self._slots.get(host) is slot:
                del self._slots[host]

    def __len__(self) -> int:
        return len(self._slots)
