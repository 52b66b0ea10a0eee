"""Feed results → Discord messages: album announcements, pause notices, /feed replies.

Text from feeds is shown, never obeyed: markdown and mentions are escaped, and every message is
sent with mentions disabled except the one role an admin chose to ping.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord

from bot.feeds.parse import Entry
from bot.feeds.policy import describe_error
from bot.feeds.preview import Preview
from bot.feeds.store import SubscriptionView, WatchResult
from bot.i18n import MESSAGES, t
from bot.net import status_text

ALBUM_COLOUR = discord.Colour(0x0B3D91)  # NASA blue
PAUSED_COLOUR = discord.Colour(0xC05621)
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
AUTHOR_LIMIT = 256
EMBED_TOTAL = 6000
CHOICE_LIMIT = 100


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_text(text: str) -> str:
    """Feed text as literal text: markdown that would apply is escaped, mentions are defused."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text, as_needed=True))


def timestamp(when: datetime, style: str = "f") -> str:
    """A Discord timestamp, shown in each reader's own time zone and language."""
    return f"<t:{int(when.timestamp())}:{style}>"


def lang_of_locale(locale: discord.Locale | str | None) -> str:
    return "zh" if str(locale or "").lower().startswith("zh") else "en"


# --------------------------------------------------------------------------------------------- errors


def explain(code: str | None, lang: str = "en") -> str:
    """Why a fetch failed, in plain words; ``code`` as stored in Feed.last_status (``http_404``...)."""
    code = code or "other"
    if lang != "zh":
        return describe_error(code)
    if code.startswith("http_") and code[5:].isdigit():
        status = int(code[5:])
        hint_key = f"feeds.hint.{status}"
        if hint_key not in MESSAGES:
            hint_key = "feeds.hint.5xx" if status >= 500 else "feeds.hint.4xx"
        return t("feeds.why.http", lang, status=status_text(status), hint=t(hint_key, lang))
    key = f"feeds.why.{code}"
    return t(key if key in MESSAGES else "feeds.why.other", lang)


# --------------------------------------------------------------------------------------------- albums


@dataclass
class OutgoingMessage:
    content: str | None
    embed: discord.Embed | None
    file: discord.File | None
    allowed_mentions: discord.AllowedMentions

    def send_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"allowed_mentions": self.allowed_mentions}
        if self.content:
            kwargs["content"] = self.content
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.file is not None:
            kwargs["file"] = self.file
        return kwargs


def mentions_for(role_id: int | None) -> discord.AllowedMentions:
    """Nobody is pinged, except the role an admin chose for this subscription."""
    if role_id is None:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(id=role_id)], replied_user=False
    )


def album_embed(
    entry: Entry,
    *,
    feed_title: str | None,
    feed_url: str | None = None,
    lang: str = "en",
    image_url: str | None,
) -> discord.Embed:
    """An album: title and link, date as a Discord timestamp, plain description, credit, preview."""
    title = clip(safe_text(entry.title) or t("feeds.album.untitled", lang), TITLE_LIMIT)
    embed = discord.Embed(title=title, url=entry.link or None, colour=ALBUM_COLOUR)
    used = len(title)
    if feed_title:
        author = clip(feed_title, AUTHOR_LIMIT)
        embed.set_author(name=author, url=feed_url or None)
        used += len(author)
    fields: list[tuple[str, str]] = []
    if entry.published:
        fields.append((t("feeds.album.published", lang), timestamp(entry.published, "f")))
    if entry.credit:
        fields.append((t("feeds.album.credit", lang), clip(safe_text(entry.credit), FIELD_LIMIT)))
    used += sum(len(name) + len(value) for name, value in fields)
    if entry.description_text:
        room = min(DESCRIPTION_LIMIT, EMBED_TOTAL - used - 10)
        if room > 0:
            embed.description = clip(safe_text(entry.description_text), room)
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=True)
    if image_url:
        embed.set_image(url=image_url)
    return embed


def album_message(
    entry: Entry,
    *,
    feed_title: str | None,
    role_id: int | None,
    preview: Preview | None,
    lang: str = "en",
) -> OutgoingMessage:
    file = None
    image_url = None
    if preview is not None and preview.data is not None and preview.filename:
        file = discord.File(io.BytesIO(preview.data), filename=preview.filename)
        image_url = f"attachment://{preview.filename}"
    elif preview is not None and preview.url:
        image_url = preview.url
    embed = album_embed(entry, feed_title=feed_title, lang=lang, image_url=image_url)
    content = f"<@&{role_id}>" if role_id else None
    return OutgoingMessage(content, embed, file, mentions_for(role_id))


def paused_notice(payload: dict[str, Any], lang: str = "en") -> OutgoingMessage:
    title = safe_text(str(payload.get("feed_title") or payload.get("url") or "?"))
    text = t(
        "feeds.notice.paused",
        lang,
        title=clip(title, 300),
        failures=payload.get("failures", 0),
        reason=explain(payload.get("code"), lang),
    )
    return OutgoingMessage(clip(text, 2000), None, None, discord.AllowedMentions.none())


# --------------------------------------------------------------------------------------------- replies


def watch_reply(result: WatchResult, *, channel_id: int, role_id: int | None, lang: str = "en") -> str:
    ping = t("feeds.watch.ping", lang, role=f"<@&{role_id}>") if role_id else ""
    key = "feeds.watch.resumed" if result.resumed else "feeds.watch.done"
    text = t(
        key,
        lang,
        title=clip(safe_text(result.title), 200),
        count=result.item_count,
        channel=f"<#{channel_id}>",
        ping=ping,
    )
    if result.backfill:
        text += " " + t("feeds.watch.backfill", lang, count=result.backfill)
    return text


def unwatch_reply(view: SubscriptionView, lang: str = "en") -> str:
    return t(
        "feeds.unwatch.done", lang, title=clip(safe_text(view.label), 200), channel=f"<#{view.channel_id}>"
    )


def state_of(view: SubscriptionView, lang: str = "en") -> str:
    if view.paused:
        return t("feeds.state.paused", lang)
    if view.failures:
        return t("feeds.state.failing", lang, failures=view.failures)
    if view.last_fetch_at is None:
        return t("feeds.state.new", lang)
    return t("feeds.state.ok", lang)


def choice_name(view: SubscriptionView, channel_name: str | None) -> str:
    """An autocomplete label: "Title · #channel", at most 100 characters."""
    where = f" · #{channel_name}" if channel_name else ""
    return clip(view.label, CHOICE_LIMIT - len(where)) + where


def list_embed(views: Sequence[SubscriptionView], lang: str = "en") -> discord.Embed:
    embed = discord.Embed(title=t("feeds.list.title", lang), colour=ALBUM_COLOUR)
    if not views:
        embed.description = t("feeds.list.empty", lang)
        return embed
    for view in views[:25]:
        ping = t("feeds.list.ping", lang, role=f"<@&{view.role_id}>") if view.role_id else ""
        line = t(
            "feeds.list.line",
            lang,
            channel=f"<#{view.channel_id}>",
            ping=ping,
            count=view.item_count,
            state=state_of(view, lang),
        )
        embed.add_field(
            name=clip(safe_text(view.label), TITLE_LIMIT),
            value=clip(f"{view.url}\n{line}", FIELD_LIMIT),
            inline=False,
        )
    return embed


def _result_text(status: str | None, lang: str) -> str:
    if status == "ok":
        return t("feeds.result.ok", lang)
    if status == "not_modified":
        return t("feeds.result.not_modified", lang)
    return t("feeds.result.error", lang)


def status_lines(view: SubscriptionView, lang: str = "en") -> list[str]:
    lines = [t("feeds.status.channel", lang, channel=f"<#{view.channel_id}>")]
    if view.last_fetch_at is None:
        lines.append(t("feeds.status.never", lang))
    else:
        lines.append(
            t(
                "feeds.status.last_fetch",
                lang,
                when=timestamp(view.last_fetch_at, "f"),
                result=_result_text(view.last_status, lang),
            )
        )
    if view.last_status not in (None, "ok", "not_modified"):
        lines.append(t("feeds.status.problem", lang, reason=explain(view.last_status, lang)))
    if view.paused:
        lines.append(t("feeds.status.paused", lang, failures=view.failures))
    else:
        lines.append(
            t(
                "feeds.status.next",
                lang,
                when=timestamp(view.next_poll_at, "f"),
                relative=timestamp(view.next_poll_at, "R"),
            )
        )
    return lines


def status_embed(views: Sequence[SubscriptionView], lang: str = "en") -> discord.Embed:
    embed = discord.Embed(title=t("feeds.status.title", lang), colour=ALBUM_COLOUR)
    if not views:
        embed.description = t("feeds.list.empty", lang)
        return embed
    if any(v.paused for v in views):
        embed.colour = PAUSED_COLOUR
    total = len(embed.title or "")
    for view in views[:25]:
        name = clip(safe_text(view.label), TITLE_LIMIT)
        value = clip("\n".join(status_lines(view, lang)), FIELD_LIMIT)
        if total + len(name) + len(value) > EMBED_TOTAL:
            break
        total += len(name) + len(value)
        embed.add_field(name=name, value=value, inline=False)
    return embed
