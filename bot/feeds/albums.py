"""Albums as people see them: the new entries of one poll grouped into the albums they belong to.

Photo services publish an album either as one entry carrying many pictures (a Media RSS
``<media:group>`` or several ``<media:content>``) or as a *photostream*: one entry per photo,
uploaded within a minute or two. The rules, applied to one poll's new entries, oldest first:

1. **One entry with several pictures** is one album of that many photos.
2. **The same album link**: entries whose link is the same (and is not just the feed's own home
   page, which careless feeds give every item) belong to one album, whatever their dates.
3. **A photostream upload**: dated entries whose titles share a *title stem* (the title without
   its numbering: "Expedition 72 flyaround (3 of 30)", "iss072e012345", "IMG_0042.jpg" lose the
   "(3 of 30)", "012345", "0042.jpg") and each published within :data:`STREAM_WINDOW` of the
   previous photo of the group belong to one album, titled by the stem.
4. Everything else is an album of its own: an image-of-the-day feed's daily items stay apart
   even when their titles share a stem, because they are a day apart.

Photos are counted per entry (its Media RSS pictures, else enclosures, else inline images; at
least one). An upload still going on when a poll reads it is announced twice: the album so far,
then the photos that came after, marked as more photos of that upload (``continued``: its first
new photo follows a seen one with the same title stem within the window).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.feeds.filters import fold
from bot.feeds.parse import Entry

STREAM_WINDOW = timedelta(minutes=10)
"""Largest gap between two photos of one photostream upload."""
MIN_STEM = 3
"""A title stem shorter than this (titles that are only numbers) never groups entries."""
MAX_IMAGES = 8
"""Pictures kept per album: enough for a collage of four with spares for broken ones."""
MAX_CREDITS = 5
MAX_KEYS = 200
"""Entry keys kept in an album's payload (the count is kept whole)."""

_TRAILERS = [
    re.compile(r"\(\s*(?:\d+\s*(?:of|/|de|von|之)\s*\d+|\d+)\s*\)\s*$", re.I),  # (3 of 30), (12)
    re.compile(r"\[\s*\d+\s*(?:of|/)?\s*\d*\s*\]\s*$", re.I),
    re.compile(r"(?:第\s*)?\d+\s*(?:/\s*\d+|of\s*\d+|张|幅)?\s*$", re.I),  # 3/30, 3 of 30, 第3张, 0042
    re.compile(r"\.(?:jpe?g|png|gif|webp|tiff?|heic|avif|dng|raw)\s*$", re.I),
    re.compile(r"(?:#|\bno\.?|\bnr\.?)\s*$", re.I),
    re.compile(r"[\s\-–—_:|,.;·#]+$"),
]


def title_stem(title: str) -> str:
    """The title without its numbering, in its original case: "Flyaround (3 of 30)" → "Flyaround"."""
    stem = title.strip()
    while True:
        before = stem
        for pattern in _TRAILERS:
            stem = pattern.sub("", stem).rstrip()
        if stem == before:
            return stem


@dataclass(frozen=True, slots=True)
class Album:
    """What one announcement shows: one entry, or several entries grouped (see the rules above)."""

    key: str
    """Stable for the same members: the entry key of a one-entry album, else a hash of the keys."""
    title: str
    link: str | None
    published: datetime | None
    description: str
    credits: tuple[str, ...]
    images: tuple[str, ...]
    photo_count: int
    entry_keys: tuple[str, ...]
    """The members' keys, oldest first (at most :data:`MAX_KEYS` once stored)."""
    entry_count: int
    rule: str
    """``single`` | ``link`` | ``stream``: why these entries are one album."""
    categories: tuple[str, ...] = field(default=())
    thumbnail: str | None = None
    continued: bool = False
    """More photos of an upload announced before (it was still going on when the feed was read)."""

    def as_entry(self) -> Entry:
        """The album as one Entry (what the preview builder and the templates read)."""
        return Entry(
            key=self.key,
            title=self.title,
            link=self.link,
            published=self.published,
            description_text=self.description,
            credit="; ".join(self.credits) or None,
            images=self.images,
            thumbnail=self.thumbnail,
            categories=self.categories,
            photos=self.images,
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "description": self.description,
            "credits": list(self.credits),
            "images": list(self.images),
            "photo_count": self.photo_count,
            "entry_keys": list(self.entry_keys[:MAX_KEYS]),
            "entry_count": self.entry_count,
            "rule": self.rule,
            "categories": list(self.categories),
            "thumbnail": self.thumbnail,
            "continued": self.continued,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Album:
        published = data.get("published")
        keys = tuple(str(k) for k in data.get("entry_keys") or ())
        return cls(
            key=str(data.get("key") or ""),
            title=str(data.get("title") or ""),
            link=data.get("link"),
            published=datetime.fromisoformat(published) if published else None,
            description=str(data.get("description") or ""),
            credits=tuple(data.get("credits") or ()),
            images=tuple(data.get("images") or ()),
            photo_count=int(data.get("photo_count") or 0),
            entry_keys=keys,
            entry_count=int(data.get("entry_count") or len(keys) or 1),
            rule=str(data.get("rule") or "single"),
            categories=tuple(data.get("categories") or ()),
            thumbnail=data.get("thumbnail"),
            continued=bool(data.get("continued")),
        )

    @classmethod
    def of_entry(cls, entry: Entry) -> Album:
        return make_album([entry], "single")


def _photos(entry: Entry) -> tuple[str, ...]:
    return entry.photos or entry.images or ((entry.thumbnail,) if entry.thumbnail else ())


def _photo_count(entry: Entry) -> int:
    return max(1, len(entry.photos)) if entry.photos else 1


def make_album(members: Sequence[Entry], rule: str) -> Album:
    """One album of ``members`` (oldest first)."""
    first = members[0]
    if len(members) == 1:
        key = first.key
        images = first.images or _photos(first)  # all its pictures: the preview falls back through them
        title = first.title
    else:
        key = "album:" + hashlib.sha256("\n".join(e.key for e in members).encode("utf-8")).hexdigest()[:40]
        firsts = [p[0] for p in (_photos(e) for e in members) if p]
        rest = [u for e in members for u in _photos(e)[1:]]
        images = tuple(dict.fromkeys([*firsts, *rest]))
        stems = {title_stem(e.title) for e in members}
        if len({e.title for e in members}) == 1:
            title = first.title
        elif rule == "stream" or (len(stems) == 1 and "" not in stems):
            title = title_stem(first.title) or first.title
        else:
            title = first.title
    credits = tuple(dict.fromkeys(e.credit for e in members if e.credit))[:MAX_CREDITS]
    links = {e.link for e in members if e.link}
    link = next(iter(links)) if len(links) == 1 else first.link
    dates = [e.published for e in members if e.published]
    description = next((e.description_text for e in members if e.description_text), "")
    categories = tuple(dict.fromkeys(c for e in members for c in e.categories))[:30]
    return Album(
        key=key,
        title=title,
        link=link,
        published=max(dates) if dates else None,
        description=description,
        credits=credits,
        images=images[:MAX_IMAGES],
        photo_count=sum(_photo_count(e) for e in members),
        entry_keys=tuple(e.key for e in members),
        entry_count=len(members),
        rule=rule if len(members) > 1 else "single",
        categories=categories,
        thumbnail=first.thumbnail,
    )


def _oldest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Dated entries by date (document order breaks ties: feeds list newest first, so later in
    the document is older); undated ones first, in reverse document order."""
    indexed = list(enumerate(entries))
    undated = [e for _, e in reversed(indexed) if e.published is None]
    dated = sorted(((i, e) for i, e in indexed if e.published), key=lambda p: (p[1].published, -p[0]))
    return undated + [e for _, e in dated]


def group_entries(entries: Sequence[Entry], *, feed_link: str | None = None) -> list[Album]:
    """The albums among ``entries`` (one poll's new entries), oldest album first."""
    return [make_album(members, rule) for rule, members in groups_of(entries, feed_link=feed_link)]


def groups_of(entries: Sequence[Entry], *, feed_link: str | None = None) -> list[tuple[str, list[Entry]]]:
    """The grouping itself: (rule, members oldest first) per album, oldest album first."""
    home = (feed_link or "").rstrip("/")
    groups: list[tuple[str, list[Entry]]] = []
    by_link: dict[str, int] = {}
    by_stem: dict[str, int] = {}
    for entry in _oldest_first(entries):
        link = (entry.link or "").strip()
        if link and link.rstrip("/") != home and link in by_link:
            index = by_link[link]
            groups[index] = ("link", groups[index][1])
            groups[index][1].append(entry)
            continue
        stem = fold(title_stem(entry.title))
        if entry.published is not None and len(stem) >= MIN_STEM and stem in by_stem:
            index = by_stem[stem]
            rule, members = groups[index]
            previous = members[-1].published
            if previous is not None and entry.published - previous <= STREAM_WINDOW:
                if rule == "single":
                    rule = "stream"
                groups[index] = (rule, members)
                members.append(entry)
                if link and link.rstrip("/") != home:
                    by_link.setdefault(link, index)
                continue
        groups.append(("single", [entry]))
        index = len(groups) - 1
        if link and link.rstrip("/") != home:
            by_link.setdefault(link, index)
        if entry.published is not None and len(stem) >= MIN_STEM:
            by_stem[stem] = index
    return groups
