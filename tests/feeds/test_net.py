"""SafeHttp against real servers on 127.0.0.1: guard, redirects, errors, caps, timeouts."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.net import (
    AddressPolicy,
    BadSchemeError,
    ConnectionFailedError,
    FetchError,
    FetchTimeoutError,
    GuardedConnector,
    GuardedResolver,
    HttpStatusError,
    InvalidUrlError,
    PrivateAddressError,
    SafeHttp,
    TooLargeError,
    TooManyRedirectsError,
    is_public_address,
    parse_retry_after,
)
from tests.feeds.samples import RSS2_MEDIA, gzip_bomb
from tests.support.helpers import Serve


class StaticResolver(AbstractResolver):
    """Test resolver: fixed answers per host name; each call pops the next answer if a list of lists."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        pass


def counting_app(routes: dict[str, Any]) -> tuple[web.Application, list[str]]:
    hits: list[str] = []

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        hits.append(request.path)
        return await handler(request)

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    return app, hits


async def feed_handler(request: web.Request) -> web.Response:
    return web.Response(body=RSS2_MEDIA, content_type="application/rss+xml")


# --------------------------------------------------------------------------------------------- basics


async def test_fetch_returns_body_status_headers_and_user_agent(serve: Serve, http: SafeHttp) -> None:
    seen: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(request.headers)
        return web.Response(body=b"hello", headers={"X-Test": "1"})

    app, _ = counting_app({"/": handler})
    server = await serve(app)
    response = await http.fetch(str(server.make_url("/")), headers={"X-Extra": "yes"})
    assert response.status == 200
    assert response.body == b"hello"
    assert response.headers["X-Test"] == "1"
    assert response.url == str(server.make_url("/"))
    assert response.history == ()
    assert seen["User-Agent"] == "Cupola/0.1 (+self-hosted Discord bot)"
    assert seen["X-Extra"] == "yes"


async def test_gzip_encoded_body_is_decompressed(serve: Serve, http: SafeHttp) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(RSS2_MEDIA), headers={"Content-Encoding": "gzip"})

    app, _ = counting_app({"/": handler})
    server = await serve(app)
    response = await http.fetch(str(server.make_url("/")))
    assert response.body == RSS2_MEDIA


async def test_owned_session_is_closed(serve: Serve) -> None:
    client = SafeHttp(allow_private_addresses=True)
    app, _ = counting_app({"/": feed_handler})
    server = await serve(app)
    await client.fetch(str(server.make_url("/")))
    session = client.session
    await client.close()
    assert session.closed


async def test_shared_session_must_be_guarded() -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ValueError, match="GuardedConnector"):
            SafeHttp(plain)
    shared = SafeHttp.build_session()
    try:
        client = SafeHttp(shared)
        await client.close()  # not owned: must stay open
        assert not shared.closed
    finally:
        await shared.close()


# --------------------------------------------------------------------------------------------- guard


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/feed",
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/feed",
        "http://[::ffff:127.0.0.1]:{port}/feed",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://localhost:{port}/feed",
        "http://0.0.0.0:{port}/feed",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[2002:a00:1::]/",
        "http://2130706433:{port}/feed",
        "http://0x7f.1:{port}/feed",
        "http://0177.0.0.1:{port}/feed",
    ],
)
async def test_guard_refuses_private_addresses_before_connecting(
    template: str, serve: Serve, guarded: SafeHttp, connect_log: list[str]
) -> None:
    app, hits = counting_app({"/feed": feed_handler})
    server = await serve(app)
    url = template.format(port=server.port)
    with pytest.raises(PrivateAddressError) as info:
        await guarded.fetch(url)
    assert info.value.code == "private_address"
    assert "private or local network" in info.value.message
    assert connect_log == []  # refused before any socket was opened
    assert hits == []


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", BadSchemeError),
        ("ftp://example.org/feed", BadSchemeError),
        ("gopher://example.org/", BadSchemeError),
        ("javascript:alert(1)", BadSchemeError),
        ("data:text/plain,hello", BadSchemeError),
        ("example.org/feed.xml", InvalidUrlError),
        ("not a url", InvalidUrlError),
        ("http:///nohost", InvalidUrlError),
        ("http://user:secret@example.org/feed", InvalidUrlError),
        ("http://example.org:99999/", InvalidUrlError),
    ],
)
async def test_bad_urls_are_refused_before_connecting(
    url: str, error: type[FetchError], guarded: SafeHttp, connect_log: list[str]
) -> None:
    with pytest.raises(error) as info:
        await guarded.fetch(url)
    assert info.value.message
    assert connect_log == []


async def test_dns_name_resolving_to_private_address_is_refused(connect_log: list[str]) -> None:
    resolver = StaticResolver({"feeds.example": [["10.1.2.3", "fd00::5"]]})
    async with SafeHttp(resolver=resolver) as client:
        with pytest.raises(PrivateAddressError) as info:
            await client.fetch("http://feeds.example/rss")
    assert resolver.calls == ["feeds.example"]
    assert info.value.url == "http://feeds.example/rss"
    assert connect_log == []


async def test_dns_rebinding_is_checked_on_every_resolution(serve: Serve, connect_log: list[str]) -> None:
    """First answer is an allowed address, the next one is a private one: the check is per connection."""
    app, hits = counting_app({"/feed": feed_handler})
    server = await serve(app)
    resolver = StaticResolver({"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]})
    url = f"http://rebind.example:{server.port}/feed"
    async with SafeHttp(allowed_networks=["127.0.0.1/32"], resolver=resolver) as first:
        assert (await first.fetch(url)).status == 200
    async with SafeHttp(allowed_networks=["127.0.0.1/32"], resolver=resolver) as second:
        with pytest.raises(PrivateAddressError):
            await second.fetch(url)
    assert hits == ["/feed"]
    assert connect_log == ["127.0.0.1"]


async def test_resolver_drops_private_answers_and_keeps_public_ones() -> None:
    inner = StaticResolver({"mixed.example": [["10.0.0.1", "8.8.8.8", "::1"]]})
    resolver = GuardedResolver(AddressPolicy(), inner)
    results = await resolver.resolve("mixed.example", 443)
    assert [r["host"] for r in results] == ["8.8.8.8"]  # nothing is connected to here


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/admin",
        "http://[::1]:{port}/secret",
        "http://[::ffff:10.0.0.1]/",
        "http://internal.example:{port}/secret",
    ],
)
async def test_redirect_to_private_address_is_refused(
    target: str, serve: Serve, connect_log: list[str]
) -> None:
    """The first hop is allowed (allow-list for 127.0.0.1 only); the redirect target is not."""

    async def secret(request: web.Request) -> web.Response:
        return web.Response(text="secret")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(target.format(port=request.url.port))

    app, hits = counting_app({"/start": redirect, "/secret": secret})
    server = await serve(app)
    resolver = StaticResolver({"internal.example": [["10.9.9.9"]]})
    async with SafeHttp(allowed_networks=["127.0.0.1/32"], resolver=resolver) as client:
        with pytest.raises(PrivateAddressError):
            await client.fetch(str(server.make_url("/start")))
    assert hits == ["/start"]
    assert connect_log == ["127.0.0.1"]


async def test_connector_refuses_at_socket_level_even_if_url_check_is_off(
    serve: Serve, connect_log: list[str]
) -> None:
    """The connect-time layer alone: a permissive SafeHttp on a strict shared session."""
    app, hits = counting_app({"/feed": feed_handler})
    server = await serve(app)
    strict = SafeHttp.build_session()
    try:
        client = SafeHttp(strict, allow_private_addresses=True)
        with pytest.raises(PrivateAddressError):
            await client.fetch(str(server.make_url("/feed")))
    finally:
        await strict.close()
    assert hits == []


async def test_socket_factory_never_creates_a_socket_for_a_refused_address() -> None:
    connector = GuardedConnector(AddressPolicy())
    try:
        with pytest.raises(OSError, match="address guard"):
            connector._guarded_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80)))
    finally:
        await connector.close()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("2002:a00:1::", False),
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    import ipaddress

    assert is_public_address(ipaddress.ip_address(address)) is public


def test_allowed_networks_open_only_what_they_name() -> None:
    import ipaddress

    policy = AddressPolicy.build(allowed_networks=["127.0.0.1/32"])
    assert policy.permits(ipaddress.ip_address("127.0.0.1"))
    assert policy.permits(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not policy.permits(ipaddress.ip_address("127.0.0.2"))
    assert not policy.permits(ipaddress.ip_address("10.0.0.1"))


# --------------------------------------------------------------------------------------------- redirects


def chain_app() -> tuple[web.Application, list[str]]:
    async def r301(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/b")

    async def r302(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.url.with_path("/c")))

    async def r307(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("d#fragment")

    async def r308(request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect("/feed")

    async def loop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{n + 1}")

    app, hits = counting_app({"/a": r301, "/b": r302, "/c": r307, "/d": r308, "/feed": feed_handler})
    app.router.add_get("/loop/{n}", loop)
    return app, hits


async def test_redirect_chain_is_followed(serve: Serve, http: SafeHttp) -> None:
    app, hits = chain_app()
    server = await serve(app)
    response = await http.fetch(str(server.make_url("/a")))
    assert response.body == RSS2_MEDIA
    assert response.url == str(server.make_url("/feed"))
    assert [status for status, _ in response.history] == [301, 302, 307, 308]
    assert not response.moved_permanently
    assert hits == ["/a", "/b", "/c", "/d", "/feed"]


async def test_permanent_redirects_are_reported(serve: Serve, http: SafeHttp) -> None:
    app, _ = chain_app()
    server = await serve(app)
    response = await http.fetch(str(server.make_url("/d")))
    assert response.moved_permanently


async def test_too_many_redirects(serve: Serve) -> None:
    app, hits = chain_app()
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, max_redirects=3) as client:
        with pytest.raises(TooManyRedirectsError) as info:
            await client.fetch(str(server.make_url("/loop/0")))
    assert info.value.code == "too_many_redirects"
    assert "more than 3 times" in info.value.message
    assert hits == ["/loop/0", "/loop/1", "/loop/2", "/loop/3"]


async def test_redirect_to_bad_scheme_is_refused(serve: Serve, http: SafeHttp) -> None:
    async def to_file(request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    app, _ = counting_app({"/": to_file})
    server = await serve(app)
    with pytest.raises(BadSchemeError):
        await http.fetch(str(server.make_url("/")))


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("status", [404, 410, 500, 502])
async def test_http_errors(status: int, serve: Serve, http: SafeHttp) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="nope")

    app, _ = counting_app({"/": handler})
    server = await serve(app)
    with pytest.raises(HttpStatusError) as info:
        await http.fetch(str(server.make_url("/")))
    assert info.value.code == "http_error"
    assert info.value.status == status
    assert str(status) in info.value.message


async def test_429_and_503_carry_retry_after(serve: Serve, http: SafeHttp) -> None:
    async def slow_down(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "120"})

    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})

    app, _ = counting_app({"/429": slow_down, "/503": unavailable})
    server = await serve(app)
    with pytest.raises(HttpStatusError) as info:
        await http.fetch(str(server.make_url("/429")))
    assert (info.value.status, info.value.retry_after) == (429, 120)
    with pytest.raises(HttpStatusError) as info:
        await http.fetch(str(server.make_url("/503")))
    assert info.value.status == 503
    assert info.value.retry_after is not None and info.value.retry_after > 365 * 86400


def test_parse_retry_after() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30
    assert parse_retry_after(" 0 ", now=now) == 0
    assert parse_retry_after("Sun, 01 Jun 2025 12:02:00 GMT", now=now) == 120
    assert parse_retry_after("Sun, 01 Jun 2025 11:00:00 GMT", now=now) == 0  # already past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after(None, now=now) is None


async def test_server_slower_than_total_timeout(serve: Serve) -> None:
    async def sleepy(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.Response(text="late")

    app, _ = counting_app({"/": sleepy})
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, total_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError) as info:
            await client.fetch(str(server.make_url("/")))
    assert time.monotonic() - started < 1.0
    assert info.value.code == "timeout"


async def test_body_that_stalls_times_out(serve: Serve) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"<rss>")
        await asyncio.sleep(10)
        return response

    app, _ = counting_app({"/": stall})
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, total_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError):
            await client.fetch(str(server.make_url("/")))
    assert time.monotonic() - started < 1.0


async def test_closed_port_is_connection_failed(http: SafeHttp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailedError) as info:
        await http.fetch(f"http://127.0.0.1:{port}/")
    assert info.value.code == "connection_failed"


# --------------------------------------------------------------------------------------------- size caps


async def test_endless_1gb_body_stops_at_the_cap(serve: Serve) -> None:
    sent = [0]

    async def gigabyte(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<item>" + b"x" * (64 * 1024 - 6)
        try:
            for _ in range((1 << 30) // len(chunk)):  # 1 GiB, produced lazily
                await response.write(chunk)
                sent[0] += len(chunk)
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass
        return response

    app, _ = counting_app({"/": gigabyte})
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, max_bytes=10 * 1024 * 1024) as client:
        started = time.monotonic()
        with pytest.raises(TooLargeError) as info:
            await client.fetch(str(server.make_url("/")))
    assert time.monotonic() - started < 1.0
    assert info.value.code == "too_large"
    assert "10 MiB" in info.value.message
    assert sent[0] < 64 * 1024 * 1024


async def test_declared_content_length_over_cap_is_refused_without_reading(serve: Serve) -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 1 << 30
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b"x" * 65536)
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass
        return response

    app, _ = counting_app({"/": big})
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, max_bytes=1024) as client:
        with pytest.raises(TooLargeError):
            await client.fetch(str(server.make_url("/")))


async def test_per_call_max_bytes(serve: Serve, http: SafeHttp) -> None:
    app, _ = counting_app({"/": feed_handler})
    server = await serve(app)
    with pytest.raises(TooLargeError):
        await http.fetch(str(server.make_url("/")), max_bytes=100)
    assert (await http.fetch(str(server.make_url("/")), max_bytes=len(RSS2_MEDIA))).body == RSS2_MEDIA


async def test_gzip_bomb_stops_early(serve: Serve) -> None:
    bomb = gzip_bomb(512)  # ~0.5 MB on the wire, 512 MiB inflated
    assert len(bomb) < 1024 * 1024

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        )

    app, _ = counting_app({"/": handler})
    server = await serve(app)
    async with SafeHttp(allow_private_addresses=True, max_bytes=4 * 1024 * 1024) as client:
        started = time.monotonic()
        with pytest.raises(TooLargeError):
            await client.fetch(str(server.make_url("/")))
    assert time.monotonic() - started < 1.0


def test_gzip_bomb_helper_is_a_real_gzip_file() -> None:
    assert gzip.decompress(gzip_bomb(3)) == bytes(3 << 20)


async def test_redirect_refusal_says_it_was_a_redirect(serve: Serve) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app, _ = counting_app({"/": redirect})
    server = await serve(app)
    async with SafeHttp(allowed_networks=["127.0.0.1/32"]) as client:
        with pytest.raises(PrivateAddressError) as info:
            await client.fetch(str(server.make_url("/")))
    assert info.value.message.startswith("The server redirected to 169.254.169.254")
    assert info.value.url == "http://169.254.169.254/latest/meta-data/"


async def test_damaged_gzip_body_is_a_clear_error(serve: Serve, http: SafeHttp) -> None:
    async def damaged(request: web.Request) -> web.Response:
        return web.Response(body=b"\x1f\x8b\x08\x00garbage-not-deflate", headers={"Content-Encoding": "gzip"})

    app, _ = counting_app({"/": damaged})
    server = await serve(app)
    with pytest.raises(ConnectionFailedError) as info:
        await http.fetch(str(server.make_url("/")))
    assert "damaged" in info.value.message
