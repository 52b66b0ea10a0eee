"""Photos: the catalog (credits, dedup), per-channel rotations, and the photo of the day.

SQL lives in plain functions taking ``session=`` keyword-only (run them with ``bot.db.run``);
``PhotoOfTheDay`` is the async scheduler work, driven by cogs/potd.py's loop or by tests.
"""

from __future__ import annotations

from bot.photos.catalog import (
    CreditGroup,
    PhotoView,
    add_photo,
    count_showable,
    find_duplicate,
    find_photo,
    get_photo,
    list_credits,
    remove_photo,
    search_photos,
)
from bot.photos.rotation import channel_scope, choose_photo, potd_scope
from bot.photos.schedule import Schedule, due_posts, parse_time, parse_timezone, suggest_timezones

__all__ = [
    "CreditGroup",
    "PhotoView",
    "Schedule",
    "add_photo",
    "channel_scope",
    "choose_photo",
    "count_showable",
    "due_posts",
    "find_duplicate",
    "find_photo",
    "get_photo",
    "list_credits",
    "parse_time",
    "parse_timezone",
    "potd_scope",
    "remove_photo",
    "search_photos",
    "suggest_timezones",
]
