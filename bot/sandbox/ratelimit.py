"""Discord-style rate limits: per-route buckets plus one global bucket, with real headers."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float


@dataclass
class RateLimitConfig:
    """Limits the sandbox enforces; tests may tighten them to provoke 429s."""

    global_limit: Limit = field(default_factory=lambda: Limit(50, 1.0))
    # Keys are route templates such as "POST /channels/{channel_id}/messages".
    routes: dict[str, Limit] = field(
        default_factory=lambda: {
            "POST /channels/{channel_id}/messages": Limit(5, 5.0),
        }
    )
    default_route: Limit = field(default_factory=lambda: Limit(50, 1.0))


@dataclass
class _Window:
    limit: Limit
    remaining: int
    reset_at: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


class RateLimiter:
    def __init__(self, config: RateLimitConfig | None = None, clock: Callable[[], float] = time.monotonic):
        self.config = config or RateLimitConfig()
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._global: _Window | None = None

    def _take(self, window: _Window | None, limit: Limit, now: float) -> tuple[_Window, bool]:
        if window is None or now >= window.reset_at or window.limit != limit:
            window = _Window(limit, limit.requests, now + limit.per_seconds)
        if window.remaining <= 0:
            return window, False
        window.remaining -= 1
        return window, True

    def check(self, template: str, major: str, *, exempt_global: bool = False) -> Decision:
        now = self._clock()
        if not exempt_global:
            glimit = self.config.global_limit
            self._global, ok = self._take(self._global, glimit, now)
            if not ok:
                retry = max(self._global.reset_at - now, 0.001)
                headers = {
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                    "Retry-After": f"{retry:.3f}",
                }
                return Decision(False, headers, retry, is_global=True)
        limit = self.config.routes.get(template, self.config.default_route)
        key = f"{template}:{major}"
        window, ok = self._take(self._windows.get(key), limit, now)
        self._windows[key] = window
        reset_after = max(window.reset_at - now, 0.0)
        headers = {
            "X-RateLimit-Limit": str(limit.requests),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(template.encode()).hexdigest()[:16],
        }
        if not ok:
            headers["X-RateLimit-Scope"] = "user"
            headers["Retry-After"] = f"{max(reset_after, 0.001):.3f}"
            return Decision(False, headers, max(reset_after, 0.001))
        return Decision(True, headers)
