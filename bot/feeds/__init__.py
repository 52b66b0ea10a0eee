"""Watched feeds: fetch politely and safely, parse, de-duplicate, schedule.

The names below need neither Discord nor a database. ``store`` holds the SQL (functions taking
``session=``), ``service`` what the /feed commands do, ``preview`` the collage, and ``poller`` the
polling rounds that post to Discord; import those modules directly.
"""

from __future__ import annotations

from bot.feeds.fetch import FeedFetch, fetch_feed, parse_cache_max_age
from bot.feeds.parse import (
    Entry,
    FeedError,
    ParsedFeed,
    check_no_entities,
    entry_fingerprint,
    entry_key,
    parse_feed,
    parse_feed_async,
)
from bot.feeds.policy import (
    PAUSE_AFTER_FAILURES,
    HostLimiter,
    backoff_delay,
    failure_code,
    next_poll_time,
    poll_delay,
    should_pause,
    stagger_offset,
)

__all__ = [
    "PAUSE_AFTER_FAILURES",
    "Entry",
    "FeedError",
    "FeedFetch",
    "HostLimiter",
    "ParsedFeed",
    "backoff_delay",
    "check_no_entities",
    "entry_fingerprint",
    "entry_key",
    "failure_code",
    "fetch_feed",
    "next_poll_time",
    "parse_cache_max_age",
    "parse_feed",
    "parse_feed_async",
    "poll_delay",
    "should_pause",
    "stagger_offset",
]
