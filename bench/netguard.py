"""Loopback-only networking for the tests, the benchmarks and their bot processes.

They run the real bot, whose cogs fetch feeds and images (the shipped articles link pictures on the
internet); this guard makes sure a run never reaches anything but 127.0.0.1 / ::1, whatever they try.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.", "ip6-localhost"}
_installed = False


class NonLoopbackError(OSError):
    """A connection or lookup for a non-loopback address was refused (tests and benchmarks)."""


def _is_loopback_host(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check_address(address: Any) -> None:
    # AF_UNIX addresses are paths (str/bytes); only (host, port, ...) tuples are internet addresses.
    if isinstance(address, tuple) and address and not _is_loopback_host(address[0]):
        raise NonLoopbackError(f"refusing to connect to {address[0]!r} (loopback only)")


def install() -> None:
    """Patch name resolution and ``socket.connect`` so only loopback destinations work."""
    global _installed
    if _installed:
        return
    _installed = True
    original_getaddrinfo = socket.getaddrinfo
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback_host(host):
            raise NonLoopbackError(f"refusing to resolve {host!r} (loopback only)")
        return original_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(address)
        return original_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
