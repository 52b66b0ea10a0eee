"""Errors that carry a message meant for the member who ran the command."""

from __future__ import annotations

from discord import app_commands

from bot.i18n import MESSAGES, Coded, say
from bot.text import has_controls


class UserFacingError(Coded, Exception):
    """Raised by services and cogs; the tree's error handler says it ephemerally.

    ``key`` names a catalog entry (bot/locale/) and ``params`` its values, so the render layer says it
    in the member's language; services give only those. ``message`` is the catalog's English (for
    logs and tests), or the text given by a caller that has no key yet.
    """

    def __init__(self, fallback: str | None = None, /, *, key: str | None = None, **params: object) -> None:
        super().__init__(fallback or key or "")
        self._fallback = fallback
        self.key = key  # type: ignore[assignment]
        self.params = params

    @property
    def message(self) -> str:
        if self.key is not None and self.key in MESSAGES:
            return say(self)
        return self._fallback or self.key or ""


class NotAdmin(UserFacingError, app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "Only server admins (Manage Server permission) can use this command.", key="error.not_admin"
        )


class GuildOnly(UserFacingError, app_commands.CheckFailure):
    """A server command reached us from a DM (a crafted or stale interaction)."""

    def __init__(self) -> None:
        super().__init__("This command only works in a server.", key="error.guild_only")


class ControlCharacters(UserFacingError, app_commands.CheckFailure):
    """Text with NUL or another control character: refused whole, never stored (issue 9)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The {what} contains control characters (such as NUL), which can't be stored. "
            "Remove them and try again.",
            key="input.control",
            what=what,
        )


def clean_input(
    value: str | None,
    limit: int,
    what: str,
    *,
    required: bool = False,
    empty_key: str = "input.empty",
    collapse: bool = False,
) -> str | None:
    """Trim a member's text (``collapse``: also fold inner whitespace); refuse it empty, too long or
    carrying control characters."""
    if value and has_controls(value):
        raise ControlCharacters(what)
    text = " ".join((value or "").split()) if collapse else (value or "").strip()
    if not text:
        if required:
            raise UserFacingError(f"The {what} can't be empty.", key=empty_key, what=what)
        return None
    if len(text) > limit:
        raise UserFacingError(
            f"The {what} is {len(text)} characters long; keep it under {limit}.",
            key="input.too_long",
            what=what,
            length=len(text),
            limit=limit,
        )
    return text
