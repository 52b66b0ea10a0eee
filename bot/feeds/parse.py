"""Turn feed bytes into plain entries the poller can announce.

feedparser does the format work (RSS 0.9x/1.0/2.0, Atom, Media RSS); this module adds the safety
checks it lacks (entity declarations, bytes-only input) and the clean-up Discord needs (plain text,
image URLs, a stable de-duplication key).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from bot.text import CONTROL_CHARS, has_controls

log = logging.getLogger(__name__)

DEFAULT_MAX_DESCRIPTION = 4096
_MAX_KEY_VALUE = 200
_ELLIPSIS = "…"
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff")


class FeedError(Exception):
    """The document could not be used as a feed; ``code`` is a slug, ``message`` is for admins."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"FeedError(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    """Stable de-duplication key, see :func:`entry_key`."""
    title: str
    link: str | None
    published: datetime | None
    """Timezone-aware (UTC) publication date, or the update date when none is given."""
    description_text: str
    """Plain text: HTML removed, whitespace collapsed, trimmed with an ellipsis."""
    credit: str | None
    images: tuple[str, ...] = field(default=())
    thumbnail: str | None = None
    fingerprint: str = ""
    """See :func:`entry_fingerprint`."""
    categories: tuple[str, ...] = field(default=())
    """RSS ``<category>`` / Atom ``<category term>`` / ``media:keywords``, as plain text."""
    photos: tuple[str, ...] = field(default=())
    """The entry's own pictures, one URL per photo (Media RSS content, else enclosures, else inline
    images, else its thumbnail): what a photo count counts and a collage shows."""
    content_hash: str = ""
    """See :func:`entry_content_hash`: recognises an entry republished under a new guid and link."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str | None
    entries: tuple[Entry, ...]
    format: str
    """feedparser's version string: ``rss20``, ``rss10``, ``atom10``..."""
    bozo: bool = False
    """The XML had errors but entries could still be read."""


# --------------------------------------------------------------------------------------------- safety

_DOCTYPE_SUBSET = re.compile(rb"<!doctype[^>\[]*\[")


def decode_like_feedparser(data: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """The document as feedparser will read it: UTF-8 bytes, decoded by its own rules.

    feedparser picks the encoding from the BOM, the ``<?xml encoding=…?>`` declaration and the HTTP
    charset (RFC 3023, then fallbacks), so a document declaring ``utf-7`` or EBCDIC (``cp037``)
    hides ``<!ENTITY`` from a byte search. Checking what this returns checks what the parser sees.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return convert_to_utf8(lowered, bytes(data), {})


def check_no_entities(data: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """Refuse documents that declare entities or carry a DOCTYPE internal subset, in any encoding.

    That closes billion-laughs, quadratic blow-up and external-entity (``SYSTEM "file:///..."``)
    attacks; feedparser's lenient fallback would otherwise expand "simple" entities. The bytes are
    checked as they are, with NUL bytes removed (UTF-16/32 read as ASCII), and decoded exactly as
    feedparser will decode them (:func:`decode_like_feedparser`), which covers UTF-7, EBCDIC and
    any charset Python knows. A literal ``<!ENTITY`` inside CDATA is refused too: rare, and safer.
    Returns the decoded document, the one to hand to feedparser.
    """
    decoded = decode_like_feedparser(data, headers)
    views = [data.lower(), decoded.lower()]
    if b"\x00" in data:
        views.append(data.replace(b"\x00", b"").lower())
    for view in views:
        if b"<!entity" in view:
            raise FeedError(
                "entities",
                "The feed declares XML entities, which Cupola refuses because they can be used to "
                "attack the bot. Ask the feed's publisher to remove the entity declarations.",
            )
        if _DOCTYPE_SUBSET.search(view):
            raise FeedError(
                "entities",
                "The feed carries a DOCTYPE with inline declarations, which Cupola refuses for "
                "safety. Ask the feed's publisher to remove them.",
            )
    return decoded


# --------------------------------------------------------------------------------------------- HTML


class _TextAndImages(HTMLParser):
    """Collects text (entities decoded) and <img src> values; tags themselves are dropped."""

    _BLOCK = frozenset(
        {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
         "blockquote", "pre", "hr", "figure", "figcaption", "table", "section", "article"}
    )  # fmt: skip
    _SKIP = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src.strip())
        if tag in self._BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src.strip())
        if tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


_WHITESPACE = re.compile(r"\s+")


def collapse_whitespace(text: str) -> str:
    """One space for each run of whitespace; NUL and other control characters dropped (PostgreSQL
    refuses NUL in text, so one such title would block its feed for good)."""
    return _WHITESPACE.sub(" ", CONTROL_CHARS.sub("", text)).strip()


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Plain text (whitespace collapsed) and the <img> sources of an HTML fragment.

    Text that only looks like markup once decoded (``&lt;@&amp;123&gt;`` becomes ``<@&123>``) is
    kept as text; suppressing mentions is the poster's job.
    """
    parser = _TextAndImages()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup; keep what was read
        log.debug("HTML parser gave up on a description", exc_info=True)
    return collapse_whitespace("".join(parser.parts)), parser.images


def trim(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


# --------------------------------------------------------------------------------------------- keys


def _bounded(kind: str, value: str) -> str:
    if len(value) <= _MAX_KEY_VALUE:
        return f"{kind}:{value}"
    return f"{kind}:sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()}"


def entry_key(*, entry_id: str | None, link: str | None, title: str | None, date_text: str | None) -> str:
    """The de-duplication key of one entry, unique within its feed.

    1. ``id:<id>`` from the Atom ``<id>`` / RSS ``<guid>`` / RDF ``rdf:about``, whitespace trimmed;
    2. else ``link:<link>`` (whitespace trimmed, otherwise verbatim);
    3. else ``hash:<sha256 of title + "\\n" + the raw date text>``.

    Rules 1 and 2 never look at dates, so re-dating an item with an id or link does not repost it.
    Only an item with neither has nothing stable to go on, and then a changed date makes it new.
    Values longer than 200 characters are replaced by ``sha256:<hex>`` so keys fit a DB column.
    """
    entry_id = CONTROL_CHARS.sub("", entry_id or "").strip()
    if entry_id:
        return _bounded("id", entry_id)
    link = CONTROL_CHARS.sub("", link or "").strip()
    if link:
        return _bounded("link", link)
    material = CONTROL_CHARS.sub("", f"{(title or '').strip()}\n{(date_text or '').strip()}")
    return f"hash:{hashlib.sha256(material.encode('utf-8')).hexdigest()}"


def entry_fingerprint(
    *, title: str, link: str | None, description_text: str, credit: str | None, images: Iterable[str]
) -> str:
    """A hash of what an announcement shows (not the date), to notice edited entries."""
    material = "\x1f".join([title, link or "", description_text, credit or "", "\x1e".join(images)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def entry_content_hash(*, title: str, description_text: str, photos: Iterable[str]) -> str:
    """A hash of what an entry *is* (title, text, pictures), ignoring its guid, link and dates.

    Two entries with the same content hash are the same item published twice (or re-guided and
    re-linked). Empty when the entry has no content to tell it apart by.
    """
    photos = tuple(photos)
    if not (title.strip() or description_text.strip() or photos):
        return ""
    material = "\x1f".join([title.strip(), description_text.strip(), "\x1e".join(photos)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------- parsing


def _http_url(value: Any, base: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or has_controls(value):
        return None
    if base:
        value = urljoin(base, value)
    if value.startswith("//"):
        value = "https:" + value
    scheme = urlsplit(value).scheme.lower()
    return value if scheme in ("http", "https") else None


def _looks_like_image_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(_IMAGE_EXTENSIONS)


def _is_image_media(item: Mapping[str, Any]) -> bool:
    medium = str(item.get("medium") or "").lower()
    mime = str(item.get("type") or "").lower()
    if medium:
        return medium == "image"
    if mime:
        return mime.startswith("image/")
    return _looks_like_image_url(str(item.get("url") or ""))


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = value[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _dedupe(urls: Iterable[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for url in urls:
        if url and url not in seen:
            seen[url] = None
    return tuple(seen)


def _text_of(detail: Mapping[str, Any] | None, value: str) -> str:
    if detail and "html" in str(detail.get("type") or ""):
        return html_to_text(value)[0]
    return collapse_whitespace(value)


def _build_entry(raw: Mapping[str, Any], base_url: str | None, max_description: int) -> Entry:
    link = _http_url(raw.get("link"), base_url)
    base = link or base_url
    title = _text_of(raw.get("title_detail"), str(raw.get("title") or ""))

    html_parts: list[str] = []
    summary = raw.get("summary")
    if summary:
        html_parts.append(str(summary))
    for content in raw.get("content") or ():
        value = content.get("value")
        if value and value not in html_parts:
            html_parts.append(str(value))
    texts: list[str] = []
    inline_images: list[str] = []
    for part in html_parts:
        part_text, part_images = html_to_text(part)
        texts.append(part_text)
        inline_images.extend(part_images)
    text = next((t for t in texts if t), "")  # the summary, else the full content

    thumbnails = [_http_url(t.get("url"), base) for t in raw.get("media_thumbnail") or ()]
    media = [_http_url(m.get("url"), base) for m in raw.get("media_content") or () if _is_image_media(m)]
    enclosures = [
        _http_url(link_.get("href"), base)
        for link_ in raw.get("links") or ()
        if link_.get("rel") == "enclosure"
        and (
            str(link_.get("type") or "").lower().startswith("image/")
            or (not link_.get("type") and _looks_like_image_url(str(link_.get("href") or "")))
        )
    ]
    images = _dedupe([*media, *thumbnails, *enclosures, *(_http_url(i, base) for i in inline_images)])
    photos = (
        _dedupe(media)
        or _dedupe(enclosures)
        or _dedupe(_http_url(i, base) for i in inline_images)
        or _dedupe(thumbnails)[:1]
    )
    thumbnail = next((t for t in thumbnails if t), None) or (images[0] if images else None)

    credit = None
    for item in raw.get("media_credit") or ():
        content = collapse_whitespace(str(item.get("content") or ""))
        if content:
            credit = content
            break
    if credit is None:
        credit = collapse_whitespace(str(raw.get("credit") or raw.get("author") or "")) or None

    published = _struct_to_datetime(raw.get("published_parsed")) or _struct_to_datetime(
        raw.get("updated_parsed")
    )
    description_text = trim(text, max_description)
    key = entry_key(
        entry_id=raw.get("id"),
        link=raw.get("link"),
        title=title,
        date_text=raw.get("published") or raw.get("updated"),
    )
    return Entry(
        key=key,
        title=title,
        link=link,
        published=published,
        description_text=description_text,
        credit=credit,
        images=images,
        thumbnail=thumbnail,
        fingerprint=entry_fingerprint(
            title=title, link=link, description_text=description_text, credit=credit, images=images
        ),
        categories=_categories(raw),
        photos=photos,
        content_hash=entry_content_hash(title=title, description_text=description_text, photos=photos),
    )


_MAX_CATEGORIES = 30


def _categories(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Category terms (and labels) and Media RSS keywords, plain text, without repeats."""
    found: list[str] = []
    for tag in raw.get("tags") or ():
        for name in ("term", "label"):
            value = collapse_whitespace(str(tag.get(name) or ""))
            if value:
                found.append(value[:200])
    keywords = raw.get("media_keywords")
    if isinstance(keywords, str):
        found.extend(k.strip()[:200] for k in keywords.split(",") if k.strip())
    return tuple(dict.fromkeys(found))[:_MAX_CATEGORIES]


_CONTENT_FIELDS = ("id", "link", "title", "summary", "content", "media_content", "media_thumbnail", "links")


def _has_content(raw: Mapping[str, Any]) -> bool:
    return any(raw.get(name) for name in _CONTENT_FIELDS)


def _looks_like_html(data: bytes, content_type: str) -> bool:
    if "html" in content_type and "xhtml" not in content_type:
        return True
    head = data[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def sniff_document(data: bytes, content_type: str = "") -> tuple[str, str] | None:
    """What a document that is certainly not a feed is: ``("image", "JPEG")``, ``("pdf", "PDF")``,
    ``("json", "JSON")``; None when it may be a feed (or a web page, which has its own handling).

    Magic bytes first, then the Content-Type: servers often label files wrongly.
    """
    head = data[:64]
    content_type = content_type.split(";")[0].strip().lower()
    for magic, name in _IMAGE_MAGIC:
        if head.startswith(magic):
            return "image", name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "WebP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
        return "image", "AVIF" if head[8:11] == b"avi" else "HEIF"
    if head.startswith(b"%PDF-"):
        return "pdf", "PDF"
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text_head[:1] in (b"{", b"[") or (content_type.endswith("json") and not text_head.startswith(b"<")):
        return "json", "JSON"
    if content_type.startswith("image/") and not text_head.startswith(b"<"):
        return "image", content_type[6:].upper() or "image"
    return None


_NON_FEED_MESSAGES = {
    "image": "The address returns an image ({name}), not a feed. Use the address of the feed itself.",
    "pdf": "The address returns a PDF document, not a feed.",
    "json": ("The address returns a JSON document, not an RSS or Atom feed (JSON Feed is not supported)."),
}


def refuse_non_feed(data: bytes, content_type: str = "") -> None:
    """Raise a FeedError naming what the document is (code ``image``, ``pdf`` or ``json``)."""
    sniffed = sniff_document(data, content_type)
    if sniffed is not None:
        kind, name = sniffed
        raise FeedError(kind, _NON_FEED_MESSAGES[kind].format(name=name))


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed a web page names in ``<link rel="alternate" type="application/rss+xml" href>``."""

    url: str
    title: str | None
    type: str


_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+xml",
)
MAX_FEED_LINKS = 10


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str | None, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"].strip()
        if tag != "link" or len(self.links) >= MAX_FEED_LINKS * 2:
            return
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").split(";")[0].strip().lower()
        href = values.get("href", "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            self.links.append((href, collapse_whitespace(values.get("title", "")) or None, kind))

    handle_startendtag = handle_starttag


def discover_feed_links(html: bytes, base_url: str | None) -> list[FeedLink]:
    """The RSS/Atom feeds a web page announces, in page order, absolute, without repeats.

    Blocking but quick (the page is already capped in size); call it in a thread for big pages.
    """
    parser = _FeedLinks()
    try:
        parser.feed(html.decode("utf-8", errors="replace"))
        parser.close()
    except (AssertionError, ValueError):
        log.debug("HTML parser gave up on a page while looking for feeds", exc_info=True)
    base = urljoin(base_url or "", parser.base) if parser.base else base_url
    found: dict[str, FeedLink] = {}
    for href, title, kind in parser.links:
        url = _http_url(href, base)
        if url and url not in found:
            found[url] = FeedLink(url, title, kind)
    return list(found.values())[:MAX_FEED_LINKS]


def looks_like_html(data: bytes, content_type: str = "") -> bool:
    """True for a web page (by Content-Type or by its first bytes)."""
    return _looks_like_html(data, content_type.lower())


def parse_feed(
    data: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    max_description: int = DEFAULT_MAX_DESCRIPTION,
) -> ParsedFeed:
    """Parse feed bytes. Blocking (~1 ms per 5 entries): call it through :func:`parse_feed_async`.

    ``headers`` are the HTTP response headers (the Content-Type charset matters); ``base_url``
    resolves relative links, normally the final URL the feed was fetched from.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_feed takes the document as bytes, never a URL or a path")
    data = bytes(data)
    if not data.strip():
        raise FeedError("not_a_feed", "The address returned an empty document, not a feed.")
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-type", "application/xml")
    refuse_non_feed(data, response_headers["content-type"])  # an image, PDF or JSON: say which
    # feedparser is handed the very bytes that were checked, declared as UTF-8, so it cannot decode
    # them a second way (a charset header applied twice would make different text).
    checked = check_no_entities(data, response_headers)
    parser_headers = dict(response_headers, **{"content-type": "application/xml; charset=utf-8"})
    if base_url:
        parser_headers["content-location"] = base_url
    # A stream, not bytes: given bytes or str, feedparser first tries to open them as a file path.
    result = feedparser.parse(
        io.BytesIO(checked),
        response_headers=parser_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = result.get("version") or ""
    # The lenient fallback parser turns broken markup into empty entries: those are not entries.
    raw_entries = [raw for raw in result.get("entries") or [] if _has_content(raw)]
    # A feed served as text/html or with a wrong charset is still a feed: only XML errors count.
    broken = bool(result.get("bozo")) and not isinstance(
        result.get("bozo_exception"), feedparser.ThingsNobodyCaresAboutButMe
    )
    if not version:
        if _looks_like_html(data, response_headers.get("content-type", "")):
            raise FeedError(
                "not_a_feed",
                "The address returns a web page, not a feed. Look on that page for an RSS or Atom "
                "link and use that address instead.",
            )
        if broken:
            raise FeedError(
                "malformed",
                "The address returns something that is not readable RSS or Atom (the XML is broken).",
            )
        raise FeedError("not_a_feed", "The address returns a document that is not an RSS or Atom feed.")
    if broken and not raw_entries:
        raise FeedError(
            "malformed",
            "The feed's XML is broken and no entries could be read from it. The publisher has to "
            "fix the feed.",
        )
    if broken:
        log.info(
            "Feed %s has XML errors (%s); using the entries read", base_url, result.get("bozo_exception")
        )

    meta = result.get("feed") or {}
    entries = tuple(_build_entry(raw, base_url, max_description) for raw in raw_entries)
    return ParsedFeed(
        title=_text_of(meta.get("title_detail"), str(meta.get("title") or "")),
        link=_http_url(meta.get("link"), base_url),
        entries=entries,
        format=version,
        bozo=broken,
    )


async def parse_feed_async(
    data: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    max_description: int = DEFAULT_MAX_DESCRIPTION,
) -> ParsedFeed:
    """:func:`parse_feed` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(
        parse_feed, data, headers=headers, base_url=base_url, max_description=max_description
    )
