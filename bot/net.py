"""The one outbound HTTP client for every URL a user or a feed supplies.

Every address a user can type is a way into the bot's own network (cloud metadata endpoints, the
database, the admin's router), so requests go through three checks:

1. the URL: http/https only, no credentials, and IP literals are checked here because aiohttp
   never passes an IP literal to a resolver;
2. name resolution: :class:`GuardedResolver` drops addresses the policy refuses and fails when
   none are left (DNS names that point inside, DNS rebinding);
3. the socket: :class:`GuardedConnector` checks the exact address of every socket before it
   connects, whatever path produced it.

Redirects are followed here, hop by hop, so each hop goes through all three checks. Bodies are
read in chunks and capped on decompressed bytes, which also stops gzip bombs early.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.i18n import Coded

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "Cupola/0.1 (+self-hosted Discord bot)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_SIZE = 64 * 1024
# Headers that must not follow a redirect to another host.
_SENSITIVE_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# --------------------------------------------------------------------------------------------- errors


class FetchError(Coded, Exception):
    """A fetch failed; ``code`` is a short slug for logs and metrics; ``key`` and ``params`` say why
    in the catalog (bot/locale/net.toml), in the reader's language."""

    code = "fetch_error"

    def __init__(
        self,
        key: str = "net.connection_failed",
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        **params: object,
    ) -> None:
        self.key = key
        self.params = params
        self.url = url
        self.status = status
        self.retry_after = retry_after
        super().__init__(key)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, url={self.url!r})"


class InvalidUrlError(FetchError):
    code = "invalid_url"


class BadSchemeError(FetchError):
    code = "bad_scheme"


class PrivateAddressError(FetchError):
    code = "private_address"


class TooLargeError(FetchError):
    code = "too_large"


class FetchTimeoutError(FetchError):
    code = "timeout"


class TooManyRedirectsError(FetchError):
    code = "too_many_redirects"


class HttpStatusError(FetchError):
    code = "http_error"


class ConnectionFailedError(FetchError):
    code = "connection_failed"


class BlockedAddressError(OSError):
    """Raised by the socket factory; an OSError so aiohttp and aiohappyeyeballs treat it as a
    failed connection attempt (the socket is never connected)."""

    def __init__(self, address: str) -> None:
        super().__init__(errno.EACCES, f"address {address} is blocked by Cupola's address guard")
        self.address = address


# --------------------------------------------------------------------------------------------- policy


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo), which are what gets reached."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (and for IPv6, the IPv4 they embed)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = _embedded_ipv4(ip)
        if ip.ipv4_mapped is not None:
            # ::ffff:a.b.c.d is just a.b.c.d; Python's own flags for it vary between versions.
            return is_public_address(ip.ipv4_mapped)
        if embedded and not all(is_public_address(v4) for v4 in embedded):
            return False
    return (
        ip.is_global
        and not ip.is_private
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
        and not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which IP addresses may be connected to.

    ``allowed_networks`` lets an operator (or a test) open specific private networks, e.g. a feed
    server on the LAN, without opening all of them.
    """

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(
        cls, *, allow_private: bool = False, allowed_networks: Iterable[str | IPNetwork] = ()
    ) -> AddressPolicy:
        nets = tuple(
            ipaddress.ip_network(n, strict=False) if isinstance(n, str) else n for n in allowed_networks
        )
        return cls(allow_private=allow_private, allowed_networks=nets)

    def permits(self, ip: IPAddress) -> bool:
        if self.allow_private:
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            mapped: IPAddress = ip.ipv4_mapped
            if any(mapped in net for net in self.allowed_networks):
                return True
        if any(ip in net for net in self.allowed_networks):
            return True
        return is_public_address(ip)


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?$", re.IGNORECASE)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Interpret forms such as ``2130706433``, ``0x7f.1`` or ``0177.0.0.1`` the way the C library
    would, so they cannot be used to sneak past the literal check."""
    if not _NUMERIC_HOST.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except OSError:
        return None


# --------------------------------------------------------------------------------------------- aiohttp parts


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and removes every address the policy refuses; fails if none remain."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refused: list[str] = []
        for result in results:
            ip = _parse_ip(result["host"])
            if ip is not None and self.policy.permits(ip):
                allowed.append(result)
            else:
                refused.append(result["host"])
        if refused:
            log.info("Address guard dropped %s for host %s", ", ".join(refused), host)
        if not allowed:
            raise PrivateAddressError("net.private_host", host=host)
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector whose every socket is checked against the policy just before it connects."""

    def __init__(
        self, policy: AddressPolicy, *, resolver: AbstractResolver | None = None, **kwargs: Any
    ) -> None:
        self.policy = policy
        self._guarded_resolver = GuardedResolver(policy, resolver)
        super().__init__(resolver=self._guarded_resolver, socket_factory=self._guarded_socket, **kwargs)

    def _guarded_socket(self, addr_info: Any) -> socket.socket:
        family, type_, proto, _, address = addr_info
        ip = _parse_ip(str(address[0]))
        if ip is None or not self.policy.permits(ip):
            log.warning("Address guard refused a connection to %s", address[0])
            raise BlockedAddressError(str(address[0]))
        return socket.socket(family=family, type=type_, proto=proto)

    async def close(self, *, abort_ssl: bool = False) -> None:
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            await self._guarded_resolver.close()


# --------------------------------------------------------------------------------------------- helpers


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> int | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0, int((when - now).total_seconds() + 0.999))


def _format_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def status_text(status: int) -> str:
    reason = _REASONS.get(status)
    return f"{status} {reason}" if reason else str(status)


@dataclass(frozen=True, slots=True)
class FetchResponse:
    url: str
    """The final URL, after redirects."""
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    history: tuple[tuple[int, str], ...] = field(default=())
    """(status, URL) of each hop that answered with a redirect, in order."""

    @property
    def moved_permanently(self) -> bool:
        """True when every redirect was permanent (301/308): the caller may store the new URL."""
        return bool(self.history) and all(status in (301, 308) for status, _ in self.history)


# --------------------------------------------------------------------------------------------- client


class SafeHttp:
    """Fetches user- and feed-supplied URLs safely.

    Pass ``session=None`` to let SafeHttp build (lazily, inside the running loop) and own a session
    with a :class:`GuardedConnector`; close it with :meth:`close` or ``async with``. A shared session
    passed in must come from :meth:`build_session` (its connector enforces the connect-time check),
    unless private addresses are allowed anyway.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        allow_private_addresses: bool = False,
        allowed_networks: Iterable[str | IPNetwork] = (),
        user_agent: str = DEFAULT_USER_AGENT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_redirects: int = 5,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.policy = AddressPolicy.build(
            allow_private=allow_private_addresses, allowed_networks=allowed_networks
        )
        if session is not None and not self.policy.allow_private:
            if not isinstance(session.connector, GuardedConnector):
                raise ValueError(
                    "SafeHttp needs a session whose connector is a GuardedConnector; "
                    "build it with SafeHttp.build_session()"
                )
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        self._resolver = resolver
        self._session = session
        self._owns_session = session is None

    @staticmethod
    def build_session(
        *,
        allow_private_addresses: bool = False,
        allowed_networks: Iterable[str | IPNetwork] = (),
        resolver: AbstractResolver | None = None,
        limit_per_host: int = 4,
    ) -> aiohttp.ClientSession:
        """A session for sharing between SafeHttp instances; must be called inside a running loop."""
        policy = AddressPolicy.build(allow_private=allow_private_addresses, allowed_networks=allowed_networks)
        connector = GuardedConnector(policy, resolver=resolver, limit=64, limit_per_host=limit_per_host)
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=True,
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self.build_session(
                allow_private_addresses=self.policy.allow_private,
                allowed_networks=self.policy.allowed_networks,
                resolver=self._resolver,
            )
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SafeHttp:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------- checks

    def check_url(self, url: str | URL) -> URL:
        """Validate a URL before any network activity; returns it parsed."""
        text = str(url)
        try:
            parsed = url if isinstance(url, URL) else URL(text.strip())
        except (ValueError, TypeError) as exc:
            raise InvalidUrlError("net.invalid_url", url=text, text=text[:200]) from exc
        scheme = (parsed.scheme or "").lower()
        if not scheme:
            raise InvalidUrlError("net.incomplete_url", url=text)
        if scheme not in ("http", "https"):
            raise BadSchemeError("net.bad_scheme", url=text, scheme=scheme)
        host = parsed.raw_host
        if not host:
            raise InvalidUrlError("net.no_host", url=text)
        if parsed.user or parsed.password:
            raise InvalidUrlError("net.credentials", url=text)
        try:
            parsed.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise InvalidUrlError("net.bad_port", url=text) from exc
        ip = _parse_ip(host)
        if ip is None:
            ip = _legacy_ipv4(host)
            if ip is not None and self.policy.permits(ip):
                raise InvalidUrlError("net.legacy_ip", url=text)
        if ip is not None and not self.policy.permits(ip):
            raise PrivateAddressError("net.private_url", url=text, host=host)
        return parsed

    # ------------------------------------------------------------------------------------- fetch

    async def fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResponse:
        """GET ``url``, following redirects; returns 2xx and 304 answers, raises FetchError otherwise."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._fetch(url, headers or {}, limit)
        except TimeoutError as exc:
            raise FetchTimeoutError("net.timeout_total", url=url, seconds=f"{self.total_timeout:g}") from exc

    async def _fetch(self, url: str, extra_headers: Mapping[str, str], limit: int) -> FetchResponse:
        current = self.check_url(url)
        req_headers: dict[str, str] = {"User-Agent": self.user_agent, **extra_headers}
        history: list[tuple[int, str]] = []
        timeout = aiohttp.ClientTimeout(
            total=self.total_timeout, connect=self.connect_timeout, sock_connect=self.connect_timeout
        )
        while True:
            try:
                async with self.session.get(
                    current, headers=req_headers, allow_redirects=False, timeout=timeout
                ) as resp:
                    if resp.status in REDIRECT_STATUSES and "Location" in resp.headers:
                        nxt = self._next_hop(current, resp.headers["Location"], history, url)
                        if nxt.host != current.host:
                            for name in _SENSITIVE_HEADERS:
                                req_headers.pop(name, None)
                        history.append((resp.status, str(current)))
                        log.debug("Redirect %s %s -> %s", resp.status, current, nxt)
                        current = nxt
                        continue
                    if resp.status == 304 or 200 <= resp.status < 300:
                        body = b"" if resp.status == 304 else await self._read_capped(resp, limit, url)
                        return FetchResponse(
                            url=str(resp.url),
                            status=resp.status,
                            headers=CIMultiDictProxy(CIMultiDict(resp.headers)),
                            body=body,
                            history=tuple(history),
                        )
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    raise HttpStatusError(
                        "net.http_status",
                        url=str(current),
                        status=resp.status,
                        retry_after=retry_after,
                        status_text=status_text(resp.status),
                    )
            except FetchError as exc:
                if exc.url is None:  # raised by the resolver, which does not know the URL
                    raise type(exc)(exc.key, url=str(current), **exc.params) from exc  # type: ignore[arg-type]  # the params it was built with
                raise
            except aiohttp.ClientConnectorError as exc:
                raise self._connector_error(exc, current) from exc
            except (aiohttp.ServerTimeoutError, aiohttp.ConnectionTimeoutError) as exc:
                raise FetchTimeoutError("net.timeout_read", url=str(current)) from exc
            except TimeoutError:
                raise
            except aiohttp.InvalidURL as exc:
                raise InvalidUrlError("net.invalid_url_plain", url=str(current)) from exc
            except aiohttp.ClientPayloadError as exc:
                raise ConnectionFailedError("net.cut_off", url=str(current)) from exc
            except aiohttp.ClientResponseError as exc:
                raise ConnectionFailedError("net.bad_answer", url=str(current)) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise ConnectionFailedError("net.connection_failed", url=str(current)) from exc

    def _next_hop(self, current: URL, location: str, history: list[tuple[int, str]], original: str) -> URL:
        if len(history) >= self.max_redirects:
            raise TooManyRedirectsError("net.too_many_redirects", url=original, limit=self.max_redirects)
        try:
            nxt = current.join(URL(location))
        except (ValueError, TypeError) as exc:
            raise InvalidUrlError("net.bad_redirect", url=str(current)) from exc
        try:
            return self.check_url(nxt.with_fragment(None))
        except PrivateAddressError as exc:
            raise PrivateAddressError("net.private_redirect", url=str(nxt), host=nxt.host) from exc

    @staticmethod
    def _connector_error(exc: aiohttp.ClientConnectorError, url: URL) -> FetchError:
        os_error = exc.os_error
        if isinstance(os_error, BlockedAddressError) or "address guard" in str(os_error):
            return PrivateAddressError("net.private_host", url=str(url), host=url.host)
        if isinstance(os_error, TimeoutError):
            return FetchTimeoutError("net.connect_timeout", url=str(url))
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return ConnectionFailedError("net.dns", url=str(url), host=url.host)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            return ConnectionFailedError("net.certificate", url=str(url))
        return ConnectionFailedError("net.connection_failed", url=str(url))

    async def _read_capped(self, resp: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
        def too_large() -> TooLargeError:
            return TooLargeError("net.too_large", url=url, size=_format_bytes(limit))

        declared = resp.content_length
        if declared is not None and declared > limit:
            resp.close()
            raise too_large()
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(_CHUNK_SIZE):
            total += len(chunk)
            if total > limit:
                resp.close()  # drop the connection instead of draining an endless body
                log.info("Stopped reading %s after %s bytes (cap %s)", url, total, limit)
                raise too_large()
            chunks.append(chunk)
        return b"".join(chunks)
