"""A feed publisher on 127.0.0.1 whose behaviour each test sets (and changes) path by path."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[Seen] = []
        self.server: TestServer | None = None

    # ------------------------------------------------------------------ behaviours
    def feed(
        self,
        path: str,
        body: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        cache_control: str | None = None,
        content_type: str = "application/rss+xml",
    ) -> None:
        """Serve ``body``; answer 304 when the client sends back the validators given here."""

        async def handler(request: web.Request) -> web.StreamResponse:
            headers = {"Content-Type": content_type}
            if etag:
                headers["ETag"] = etag
            if last_modified:
                headers["Last-Modified"] = last_modified
            if cache_control:
                headers["Cache-Control"] = cache_control
            fresh = (etag and request.headers.get("If-None-Match") == etag) or (
                last_modified and request.headers.get("If-Modified-Since") == last_modified
            )
            if fresh:
                return web.Response(
                    status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
                )
            return web.Response(body=body, headers=headers)

        self.routes[path] = handler

    def status(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=f"error {status}", headers=headers)

        self.routes[path] = handler

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        self.routes[path] = handler

    def raw(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers=headers)

        self.routes[path] = handler

    def image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self.raw(path, data, {"Content-Type": content_type})

    def stall(self, path: str, seconds: float = 30.0) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(seconds)
            return web.Response(text="too late")

        self.routes[path] = handler

    def endless(self, path: str, total: int = 1 << 30) -> list[int]:
        """A ``total``-byte body produced chunk by chunk as it is read (never built in memory)."""
        sent = [0]

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            chunk = b"<item><title>x</title></item>" * 2048
            try:
                await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>')
                while sent[0] < total:
                    await response.write(chunk)
                    sent[0] += len(chunk)
            except (ConnectionError, aiohttp.ClientConnectionResetError):
                pass
            return response

        self.routes[path] = handler
        return sent

    # ------------------------------------------------------------------ server
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.requests.append(Seen(request.path, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such feed")
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        return app

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def last_headers(self, path: str) -> dict[str, str]:
        return next(seen.headers for seen in reversed(self.requests) if seen.path == path)


# --------------------------------------------------------------------------------------------- documents


@dataclass
class Album:
    """One album entry of a Media RSS feed."""

    number: int
    title: str = ""
    date: str = ""
    """RFC 822; by default album N is published at 12:00 UTC on 3 June 2025 plus N − 3 hours, so
    distinct albums are hours apart (photos uploaded minutes apart read as one photostream)."""
    description: str = "Photos taken from the Cupola."
    credit: str | None = "NASA/Jane Doe"
    images: list[str] = field(default_factory=list)
    thumbnail: str | None = None

    @property
    def guid(self) -> str:
        return f"album-{self.number}"

    @property
    def pub_date(self) -> str:
        if self.date:
            return self.date
        when = datetime(2025, 6, 3, 12, tzinfo=UTC) + timedelta(hours=self.number - 3)
        return format_datetime(when, usegmt=True)


def media_rss(albums: list[Album], *, title: str = "Expedition 72 albums") -> bytes:
    """A Media RSS 2.0 album feed, newest album first as publishers list them."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>{escape(title)}</title><link>https://photos.example.org/</link>"
    ]
    for album in sorted(albums, key=lambda a: a.number, reverse=True):
        parts.append(
            "<item>"
            f"<title>{escape(album.title or f'Album {album.number}')}</title>"
            f"<link>https://photos.example.org/album/{album.number}</link>"
            f'<guid isPermaLink="false">{album.guid}</guid>'
            f"<pubDate>{album.pub_date}</pubDate>"
            f"<description>{escape(album.description)}</description>"
        )
        if album.credit:
            parts.append(f"<media:credit>{escape(album.credit)}</media:credit>")
        for url in album.images:
            parts.append(f'<media:content url="{escape(url)}" medium="image" type="image/jpeg"/>')
        if album.thumbnail:
            parts.append(f'<media:thumbnail url="{escape(album.thumbnail)}"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")
