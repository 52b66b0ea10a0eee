"""The OAuth2 invite link: the ``bot`` and ``applications.commands`` scopes and exactly the channel
permissions the bot uses (the README lists them with the reason for each)."""

from __future__ import annotations

import base64
import binascii

import discord

# Each permission the bot needs, with why (shown by `cupola invite` and listed in the README).
BOT_PERMISSIONS: dict[str, str] = {
    "view_channel": "see the channels it posts the photo of the day and feed announcements in",
    "send_messages": "post the photo of the day and feed announcements",
    "embed_links": "show captions, credits and answers as embeds",
    "attach_files": "upload credit cards and album previews",
    "read_message_history": "check, after a crash, whether a scheduled post already went out",
}
SCOPES = ("bot", "applications.commands")


def permissions() -> discord.Permissions:
    return discord.Permissions(**dict.fromkeys(BOT_PERMISSIONS, True))


def invite_url(application_id: int | str) -> str:
    """The authorize URL an admin opens to add the bot to a server."""
    return discord.utils.oauth_url(application_id, permissions=permissions(), scopes=SCOPES)


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with the bot's user id in base64, which is its application id."""
    head = token.strip().split(".", 1)[0]
    if not head:
        return None
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() and 15 <= len(decoded) <= 21 else None
