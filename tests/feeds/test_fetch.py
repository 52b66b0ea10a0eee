"""fetch_feed end to end against a local feed server: new items, conditional GET, caching hints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from bot.feeds.fetch import FEED_ACCEPT, fetch_feed, parse_cache_max_age
from bot.feeds.parse import parse_feed_async
from bot.net import FetchError, HttpStatusError, SafeHttp
from bot.render.feeds import describe_error
from tests.feeds.samples import HTML_PAGE, rss
from tests.support.helpers import Serve

ETAG = 'W/"album-72-v1"'
LAST_MODIFIED = "Tue, 03 Jun 2025 12:00:00 GMT"


class FeedServer:
    """Serves one feed with validators and answers conditional requests like a careful server."""

    def __init__(self, body: bytes, *, etag: str | None = ETAG, last_modified: str | None = LAST_MODIFIED):
        self.body = body
        self.etag = etag
        self.last_modified = last_modified
        self.extra_headers: dict[str, str] = {}
        self.requests: list[dict[str, str]] = []

    def publish(self, body: bytes, *, etag: str | None, last_modified: str | None) -> None:
        self.body, self.etag, self.last_modified = body, etag, last_modified

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        headers = dict(self.extra_headers)
        if self.etag:
            headers["ETag"] = self.etag
        if self.last_modified:
            headers["Last-Modified"] = self.last_modified
        if_none_match = request.headers.get("If-None-Match")
        if_modified_since = request.headers.get("If-Modified-Since")
        # RFC 9110: If-None-Match wins when present; exact string comparison on purpose.
        if (if_none_match is not None and if_none_match == self.etag) or (
            if_none_match is None
            and if_modified_since is not None
            and if_modified_since == self.last_modified
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.body, headers={**headers, "Content-Type": "application/rss+xml"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed.xml", self.handle)
        return app


ITEMS_V1 = [
    {
        "guid": "p1",
        "title": "Flyaround 1",
        "link": "https://x.org/1",
        "date": "Mon, 02 Jun 2025 10:00:00 GMT",
    },
    {
        "guid": "p2",
        "title": "Flyaround 2",
        "link": "https://x.org/2",
        "date": "Mon, 02 Jun 2025 11:00:00 GMT",
    },
]


async def test_new_items_are_found_once_and_304_round_trip(serve: Serve, http: SafeHttp) -> None:
    feed = FeedServer(rss(ITEMS_V1))
    server = await serve(feed.app())
    url = str(server.make_url("/feed.xml"))
    seen: set[str] = set()

    async def poll(etag: str | None, last_modified: str | None) -> tuple[list[str], str | None, str | None]:
        result = await fetch_feed(http, url, etag=etag, last_modified=last_modified)
        if result.status == "not_modified":
            assert result.body == b""
            return [], result.etag, result.last_modified
        parsed = await parse_feed_async(result.body, headers=result.headers, base_url=result.final_url)
        new = [e.title for e in parsed.entries if e.key not in seen]
        seen.update(e.key for e in parsed.entries)
        return new, result.etag, result.last_modified

    new, etag, last_modified = await poll(None, None)
    assert new == ["Flyaround 1", "Flyaround 2"]
    assert (etag, last_modified) == (ETAG, LAST_MODIFIED)  # stored exactly as received
    assert "If-None-Match" not in feed.requests[0]
    assert feed.requests[0]["Accept"] == FEED_ACCEPT

    new, etag, last_modified = await poll(etag, last_modified)
    assert new == []
    assert feed.requests[1]["If-None-Match"] == ETAG
    assert feed.requests[1]["If-Modified-Since"] == LAST_MODIFIED
    assert (etag, last_modified) == (ETAG, LAST_MODIFIED)

    # The album gets a new photo, and an old one is re-dated: only the new photo is new.
    items_v2 = [
        {**ITEMS_V1[0], "date": "Thu, 05 Jun 2025 09:00:00 GMT"},
        ITEMS_V1[1],
        {
            "guid": "p3",
            "title": "Flyaround 3",
            "link": "https://x.org/3",
            "date": "Thu, 05 Jun 2025 10:00:00 GMT",
        },
    ]
    feed.publish(rss(items_v2), etag='"v2"', last_modified="Thu, 05 Jun 2025 10:00:00 GMT")
    new, etag, last_modified = await poll(etag, last_modified)
    assert new == ["Flyaround 3"]
    assert (etag, last_modified) == ('"v2"', "Thu, 05 Jun 2025 10:00:00 GMT")

    new, _, _ = await poll(etag, last_modified)
    assert new == []
    assert len(feed.requests) == 4


async def test_last_modified_only_server(serve: Serve, http: SafeHttp) -> None:
    feed = FeedServer(rss(ITEMS_V1), etag=None)
    server = await serve(feed.app())
    url = str(server.make_url("/feed.xml"))
    first = await fetch_feed(http, url, etag=None, last_modified=None)
    assert first.status == "ok" and first.etag is None and first.last_modified == LAST_MODIFIED
    second = await fetch_feed(http, url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == "not_modified"
    assert "If-None-Match" not in feed.requests[1]
    assert second.last_modified == LAST_MODIFIED


async def test_cache_control_and_final_url(serve: Serve, http: SafeHttp) -> None:
    feed = FeedServer(rss(ITEMS_V1))
    feed.extra_headers = {"Cache-Control": "public, max-age=1800"}

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/feed.xml")

    app = feed.app()
    app.router.add_get("/old", moved)
    server = await serve(app)
    result = await fetch_feed(http, str(server.make_url("/old")))
    assert result.cache_max_age == 1800
    assert result.final_url == str(server.make_url("/feed.xml"))
    assert result.moved_permanently
    assert result.retry_after is None


async def test_http_errors_carry_status_and_retry_after(serve: Serve, http: SafeHttp) -> None:
    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "90"})

    app = web.Application()
    app.router.add_get("/gone", gone)
    app.router.add_get("/busy", busy)
    server = await serve(app)
    with pytest.raises(HttpStatusError) as info:
        await fetch_feed(http, str(server.make_url("/gone")))
    assert info.value.status == 404
    assert describe_error(info.value.code, info.value.status) == (
        "The feed server answered 404 Not Found: the address may have moved."
    )
    with pytest.raises(HttpStatusError) as info:
        await fetch_feed(http, str(server.make_url("/busy")))
    assert (info.value.status, info.value.retry_after) == (503, 90)


async def test_html_page_fetches_but_does_not_parse(serve: Serve, http: SafeHttp) -> None:
    from bot.feeds.parse import FeedError

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=HTML_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    server = await serve(app)
    result = await fetch_feed(http, str(server.make_url("/")))
    with pytest.raises(FeedError) as info:
        await parse_feed_async(result.body, headers=result.headers, base_url=result.final_url)
    assert info.value.code == "not_a_feed"


async def test_guard_applies_to_fetch_feed(guarded: SafeHttp, connect_log: list[str]) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_feed(guarded, "http://169.254.169.254/latest/meta-data/")
    assert info.value.code == "private_address"
    assert connect_log == []


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Cache-Control": "max-age=600"}, 600),
        ({"Cache-Control": 'public, max-age="300", must-revalidate'}, 300),
        ({"Cache-Control": "no-cache"}, 0),
        ({"Cache-Control": "no-store, max-age=600"}, 0),
        ({"Cache-Control": "max-age=abc"}, 0),
        ({"Cache-Control": "max-age=-5"}, 0),
        ({"Cache-Control": "max-age=60", "Expires": "Sun, 01 Jun 2025 14:00:00 GMT"}, 60),
        ({"Expires": "Sun, 01 Jun 2025 13:00:00 GMT"}, 3600),
        ({"Expires": "Sun, 01 Jun 2025 13:00:00 GMT", "Date": "Sun, 01 Jun 2025 12:30:00 GMT"}, 1800),
        ({"Expires": "0"}, 0),
        ({"Expires": "Sun, 01 Jun 2025 11:00:00 GMT"}, 0),
        ({"Cache-Control": "public"}, None),
    ],
)
def test_parse_cache_max_age(headers: dict[str, str], expected: int | None) -> None:
    assert parse_cache_max_age(headers, now=NOW) == expected
