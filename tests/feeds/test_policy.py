"""Scheduling, pausing, error wording and per-host politeness."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds.policy import (
    MAX_DELAY,
    PAUSE_AFTER_FAILURES,
    HostLimiter,
    backoff_delay,
    next_poll_time,
    poll_delay,
    should_pause,
    stagger_offset,
)
from bot.render.feeds import describe_error

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0


def test_plain_interval() -> None:
    assert poll_delay(900) == 900
    assert next_poll_time(NOW, 900) == NOW + timedelta(seconds=900)


def test_short_intervals_are_honoured_for_testing() -> None:
    assert poll_delay(5) == 5
    assert poll_delay(0.2) == 1  # the floor is a second


@pytest.mark.parametrize(
    ("max_age", "expected"),
    [
        (60, 900),  # never sooner than the interval
        (1800, 1800),  # honoured within bounds
        (100_000, 900 * 6),  # never later than 6 × the interval
        (0, 900),
    ],
)
def test_cache_control_within_bounds(max_age: int, expected: float) -> None:
    assert poll_delay(900, cache_max_age=max_age) == expected


def test_cache_control_never_beyond_a_day() -> None:
    assert poll_delay(6 * HOUR, cache_max_age=10 * 86400) == MAX_DELAY


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(30, 900), (3000, 3000), (10**6, 5400), (None, 900)],
)
def test_retry_after_within_bounds(retry_after: int | None, expected: float) -> None:
    assert poll_delay(900, retry_after=retry_after) == expected


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(600, n) for n in range(5)] == [600, 1200, 2400, 4800, 9600]
    assert backoff_delay(600, 20) == MAX_DELAY
    assert backoff_delay(600, 1000) == MAX_DELAY
    assert poll_delay(600, failures=2) == 2400
    assert poll_delay(600, failures=1, retry_after=3000) == 3000  # Retry-After can lengthen a backoff


def test_jitter_is_deterministic_with_a_seed_and_only_lengthens() -> None:
    a = [backoff_delay(600, 2, jitter=0.1, rng=random.Random(7)) for _ in range(3)]
    b = [backoff_delay(600, 2, jitter=0.1, rng=random.Random(7)) for _ in range(3)]
    assert a == b
    assert all(2400 <= d <= 2640 for d in a)
    assert backoff_delay(600, 2, jitter=0.1) == 2400  # no rng: no jitter
    assert 900 <= poll_delay(900, jitter=0.2, rng=random.Random(1)) <= 1080


def test_should_pause() -> None:
    assert PAUSE_AFTER_FAILURES == 5
    assert not should_pause(0)
    assert not should_pause(4)
    assert should_pause(5)
    assert should_pause(9)
    assert should_pause(2, threshold=2)


def test_stagger_offset_is_stable_and_spread() -> None:
    interval = 900.0
    offsets = [stagger_offset(f"https://feeds.example.org/{i}", interval) for i in range(200)]
    assert all(0 <= o < interval for o in offsets)
    assert stagger_offset("https://feeds.example.org/1", interval) == offsets[1]
    buckets = {int(o // (interval / 10)) for o in offsets}
    assert len(buckets) == 10  # spread over the whole interval
    assert stagger_offset("x", 0) == 0.0


def test_describe_error() -> None:
    assert (
        describe_error("http_error", 404)
        == "The feed server answered 404 Not Found: the address may have moved."
    )
    assert describe_error("http_404") == describe_error("http_error", 404)
    assert describe_error("http_error", 410).startswith("The feed server answered 410 Gone:")
    assert "try again later" in describe_error("http_error", 599)
    assert describe_error("http_error", 418).startswith("The feed server answered 418:")
    for code in (
        "private_address",
        "bad_scheme",
        "invalid_url",
        "too_large",
        "timeout",
        "too_many_redirects",
        "connection_failed",
        "entities",
        "not_a_feed",
        "malformed",
    ):
        text = describe_error(code)
        assert text.endswith(".") and len(text) < 200 and "_" not in text
    assert describe_error("something_new")  # unknown codes still get a sentence


async def test_host_limiter_caps_concurrency_per_host() -> None:
    limiter = HostLimiter(per_host=2)
    running: dict[str, int] = {"a.example": 0, "b.example": 0}
    peak: dict[str, int] = {"a.example": 0, "b.example": 0}

    async def job(url: str) -> None:
        host = url.split("/")[2].lower()
        async with limiter.limit(url):
            running[host] += 1
            peak[host] = max(peak[host], running[host])
            assert limiter.active(url) == running[host]
            await asyncio.sleep(0.01)
            running[host] -= 1

    await asyncio.gather(
        *(job(f"https://a.example/feed/{i}") for i in range(6)),
        *(job(f"https://B.example/feed/{i}") for i in range(3)),
    )
    assert peak == {"a.example": 2, "b.example": 2}
    assert len(limiter) == 0  # idle hosts are forgotten


async def test_host_limiter_min_gap() -> None:
    limiter = HostLimiter(per_host=4, min_gap=0.05)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def job() -> None:
        async with limiter.limit("feeds.example"):
            starts.append(loop.time())

    await asyncio.gather(*(job() for _ in range(3)))
    await job()  # sequential use still respects the gap
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= 0.045 for g in gaps), gaps


def test_host_limiter_rejects_zero() -> None:
    with pytest.raises(ValueError):
        HostLimiter(per_host=0)
