"""Conditional GET of a feed on top of :class:`bot.net.SafeHttp`.

The validators (ETag, Last-Modified) are stored exactly as the server sent them and sent back
exactly: servers compare them as opaque strings.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from multidict import CIMultiDictProxy

from bot.net import SafeHttp, parse_retry_after

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FeedFetch:
    status: Literal["ok", "not_modified"]
    body: bytes
    etag: str | None
    """Store and send back verbatim (weak ``W/"..."`` prefix and quotes included)."""
    last_modified: str | None
    """Store and send back verbatim."""
    final_url: str
    cache_max_age: int | None
    """Seconds the answer may be reused, from Cache-Control max-age (or no-cache: 0) or Expires."""
    retry_after: int | None
    headers: Mapping[str, str]
    moved_permanently: bool = False
    """Every redirect was 301/308: the poller may replace the stored URL with ``final_url``."""


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_cache_max_age(headers: Mapping[str, str], *, now: datetime | None = None) -> int | None:
    """Freshness lifetime in seconds: Cache-Control wins over Expires (RFC 9111 §4.2.1).

    ``no-store``/``no-cache`` give 0; an Expires that cannot be read counts as already expired (0);
    None means the server said nothing.
    """
    cache_control = headers.get("Cache-Control")
    if cache_control:
        directives: dict[str, str | None] = {}
        for part in cache_control.split(","):
            name, _, value = part.strip().partition("=")
            directives[name.strip().lower()] = value.strip().strip('"') if value else None
        if "no-store" in directives or "no-cache" in directives:
            return 0
        raw = directives.get("max-age")
        if raw is not None:
            try:
                return max(0, int(raw))
            except ValueError:
                return 0
    expires_raw = headers.get("Expires")
    if expires_raw is not None:
        expires = _http_date(expires_raw)
        if expires is None:
            return 0
        reference = _http_date(headers.get("Date")) or now or datetime.now(UTC)
        return max(0, int((expires - reference).total_seconds()))
    return None


async def fetch_feed(
    http: SafeHttp,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> FeedFetch:
    """GET a feed, sending back the stored validators; raises :class:`bot.net.FetchError`.

    On a 304 the stored validators are kept unless the server sent new ones. HTTP errors raise
    :class:`bot.net.HttpStatusError` with ``status`` and ``retry_after`` (429/503 especially).
    """
    headers = {"Accept": FEED_ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response = await http.fetch(url, headers=headers, max_bytes=max_bytes)
    resp_headers: CIMultiDictProxy[str] = response.headers
    new_etag = resp_headers.get("ETag")
    new_last_modified = resp_headers.get("Last-Modified")
    if response.status == 304:
        status: Literal["ok", "not_modified"] = "not_modified"
        new_etag = new_etag or etag
        new_last_modified = new_last_modified or last_modified
    else:
        status = "ok"
    log.debug("Fetched %s: %s (%s bytes)", response.url, response.status, len(response.body))
    return FeedFetch(
        status=status,
        body=response.body,
        etag=new_etag,
        last_modified=new_last_modified,
        final_url=response.url,
        cache_max_age=parse_cache_max_age(resp_headers, now=now),
        retry_after=parse_retry_after(resp_headers.get("Retry-After"), now=now),
        headers=resp_headers,
        moved_permanently=response.moved_permanently,
    )
