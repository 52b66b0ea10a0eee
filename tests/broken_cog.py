"""A cog that fails to load, to prove the others still do."""

from __future__ import annotations


async def setup(bot: object) -> None:
    raise RuntimeError("this cog is broken on purpose")
