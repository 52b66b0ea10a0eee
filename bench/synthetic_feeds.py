"""Synthetic album feeds for benchmarks and tests: deterministic for a given seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

_SUBJECTS = (
    "ISS flyaround",
    "Crew Dragon docking",
    "Aurora over the Pacific",
    "Cupola view of the Nile delta",
    "Spacewalk preparations",
    "Soyuz undocking",
    "Night pass over Europe",
    "Cargo Dragon approach",
    "Solar array inspection",
    "Moon rise from orbit",
)
_CREDITS = ("NASA/Jane Doe", "ESA/Sam Roe", "Roscosmos", "NASA/JSC", "JAXA/Ken Mori")
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _rfc822(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _item_data(rng: random.Random, index: int) -> dict[str, str]:
    subject = rng.choice(_SUBJECTS)
    photo_id = f"{rng.randrange(10**10, 10**11)}"
    when = _EPOCH + timedelta(minutes=37 * index + rng.randrange(0, 30))
    words = " ".join(
        rng.choice(("orbit", "station", "crew", "earth", "cloud", "sunlight", "panel")) for _ in range(40)
    )
    return {
        "title": f"{subject} #{index + 1}",
        "id": photo_id,
        "link": f"https://photos.example.org/album/72157/photo/{photo_id}/",
        "image": f"https://live.example-cdn.org/65535/{photo_id}_{rng.getrandbits(40):010x}_b.jpg",
        "thumb": f"https://live.example-cdn.org/65535/{photo_id}_{rng.getrandbits(40):010x}_t.jpg",
        "credit": rng.choice(_CREDITS),
        "when": _rfc822(when),
        "iso": when.isoformat().replace("+00:00", "Z"),
        "html": (
            f'<p><a href="https://photos.example.org/people/nasa/">NASA</a> posted a photo:</p>'
            f'<p><img src="https://live.example-cdn.org/65535/{photo_id}_m.jpg" width="240" alt="{subject}"></p>'
            f"<p>{subject} seen from the station. {words}.</p>"
        ),
    }


def make_feed(n_entries: int, *, kind: Literal["rss", "atom"] = "rss", seed: int = 0) -> bytes:
    """A Flickr-style album feed of ``n_entries`` photos as Media RSS 2.0 or Atom (UTF-8 bytes)."""
    rng = random.Random(seed)
    items = [_item_data(rng, i) for i in range(n_entries)]
    if kind == "rss":
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            "<title>Expedition album</title>\n<link>https://photos.example.org/album/72157/</link>\n"
            "<description>Photos from the International Space Station</description>\n"
        ]
        for item in items:
            parts.append(
                "<item>\n"
                f"<title>{escape(item['title'])}</title>\n"
                f"<link>{escape(item['link'])}</link>\n"
                f"<description>{escape(item['html'])}</description>\n"
                f"<pubDate>{item['when']}</pubDate>\n"
                f"<dc:creator>{escape(item['credit'])}</dc:creator>\n"
                f'<guid isPermaLink="false">tag:photos.example.org,2025:/photo/{item["id"]}</guid>\n'
                f'<media:content url={quoteattr(item["image"])} type="image/jpeg" height="683" width="1024"/>\n'
                f"<media:title>{escape(item['title'])}</media:title>\n"
                f'<media:thumbnail url={quoteattr(item["thumb"])} height="75" width="75"/>\n'
                f'<media:credit role="photographer">{escape(item["credit"])}</media:credit>\n'
                f'<enclosure url={quoteattr(item["image"])} type="image/jpeg" length="0"/>\n'
                "</item>\n"
            )
        parts.append("</channel>\n</rss>\n")
    elif kind == "atom":
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">\n'
            "<title>Expedition album</title>\n"
            '<link rel="alternate" type="text/html" href="https://photos.example.org/album/72157/"/>\n'
            "<id>tag:photos.example.org,2025:/album/72157</id>\n"
            f"<updated>{items[-1]['iso'] if items else _EPOCH.isoformat()}</updated>\n"
        ]
        for item in items:
            parts.append(
                "<entry>\n"
                f"<title>{escape(item['title'])}</title>\n"
                f'<link rel="alternate" type="text/html" href={quoteattr(item["link"])}/>\n'
                f"<id>tag:photos.example.org,2025:/photo/{item['id']}</id>\n"
                f"<published>{item['iso']}</published>\n<updated>{item['iso']}</updated>\n"
                f"<author><name>{escape(item['credit'])}</name></author>\n"
                f'<content type="html">{escape(item["html"])}</content>\n'
                f'<link rel="enclosure" type="image/jpeg" href={quoteattr(item["image"])}/>\n'
                f"<media:thumbnail url={quoteattr(item['thumb'])}/>\n"
                "</entry>\n"
            )
        parts.append("</feed>\n")
    else:
        raise ValueError(f"unknown feed kind {kind!r}")
    return "".join(parts).encode("utf-8")
