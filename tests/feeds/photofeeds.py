"""Feeds shaped like the ones space agencies publish: a photostream (one item per photo, uploaded
within minutes), an album as one item with a Media RSS group, an image-of-the-day feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

UPLOAD = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)


@dataclass
class Item:
    guid: str
    title: str
    link: str
    published: datetime | None
    description: str = ""
    credit: str | None = "NASA/Johnson"
    photos: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    categories: list[str] = field(default_factory=list)


def rss(
    items: list[Item],
    *,
    title: str = "NASA Johnson photostream",
    link: str = "https://www.flickr.com/photos/nasa2explore/",
) -> bytes:
    """Media RSS 2.0, newest first as publishers list them."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
    ]
    ordered = sorted(items, key=lambda i: i.published or UPLOAD, reverse=True)
    for item in ordered:
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
        )
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>")
        if item.description:
            parts.append(f"<description>{escape(item.description)}</description>")
        for category in item.categories:
            parts.append(f"<category>{escape(category)}</category>")
        if item.credit:
            parts.append(f"<media:credit>{escape(item.credit)}</media:credit>")
        if len(item.photos) > 1:
            parts.append("<media:group>")
        for url in item.photos:
            parts.append(f'<media:content url="{escape(url)}" medium="image" type="image/jpeg"/>')
        if len(item.photos) > 1:
            parts.append("</media:group>")
        if item.thumbnail:
            parts.append(f'<media:thumbnail url="{escape(item.thumbnail)}"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def photostream(
    count: int,
    photo_url: str | None = None,
    *,
    start: int = 1,
    at: datetime = UPLOAD,
    stem: str = "iss072e0",
) -> list[Item]:
    """``count`` photos of one upload, 20 s apart, titled like NASA's image ids (iss072e012345)."""
    return [
        Item(
            guid=f"tag:flickr.com,2005:/photo/{5400 + n}",
            title=f"{stem}{12000 + n}",
            link=f"https://www.flickr.com/photos/nasa2explore/{5400 + n}/",
            published=at + timedelta(seconds=20 * (n - start)),
            description="The International Space Station photographed from the SpaceX Crew Dragon.",
            credit="NASA/Matthew Dominick",
            photos=[photo_url or f"https://live.staticflickr.com/65535/{5400 + n}_b.jpg"],
            thumbnail=f"https://live.staticflickr.com/65535/{5400 + n}_s.jpg",
        )
        for n in range(start, start + count)
    ]


def image_of_the_day(days: int, photo_url: str | None = None) -> list[Item]:
    """One picture a day; the titles share a stem ("Image of the Day 2025-06-0N")."""
    return [
        Item(
            guid=f"iotd-{day}",
            title=f"Image of the Day {day:02d}",
            link=f"https://www.nasa.gov/image-detail/iotd-{day}/",
            published=datetime(2025, 6, day, 16, tzinfo=UTC),
            description=f"Picture number {day}.",
            credit="NASA",
            photos=[photo_url or f"https://www.nasa.gov/iotd/{day}.jpg"],
        )
        for day in range(1, days + 1)
    ]
