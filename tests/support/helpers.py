"""Helpers shared by several test modules (fixtures stay in the conftest files)."""

from __future__ import annotations

from bot.sandbox import InteractionRecord, Sandbox
from bot.sandbox.model import Guild, User


def admin_of(sandbox: Sandbox, guild: Guild, name: str = "alice") -> User:
    """A member of ``guild`` with its Admins role (Manage Server)."""
    return sandbox.add_user(name, guild=guild, roles=[sandbox.role(guild, "Admins")])


async def final_message(sandbox: Sandbox, record: InteractionRecord) -> dict:
    """The reply once any "Fetching…/Reading…" progress text has been replaced."""
    await sandbox.wait_until(lambda: record.messages and not record.messages[-1]["content"].endswith("…"))
    return record.messages[-1]
