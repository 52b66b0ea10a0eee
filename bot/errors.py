"""Errors that carry a message meant for the member who ran the command."""

from __future__ import annotations

from discord import app_commands


class UserFacingError(Exception):
    """Raised by services and cogs; the tree's error handler shows ``message`` ephemerally.

    ``key`` names a catalog entry in bot.i18n so the message can be shown in the member's language;
    ``message`` is the English fallback (already formatted).
    """

    def __init__(self, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.params = params


class NotAdmin(UserFacingError, app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "Only server admins (Manage Server permission) can use this command.", key="error.not_admin"
        )
