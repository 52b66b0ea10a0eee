"""Giving freed memory back to the operating system (glibc keeps freed heap pages otherwise)."""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim() -> object | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_memory() -> None:
    """After a large decode or the start-up load: return freed pages to the system."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
