"""Feed results → Discord messages: album announcements, pause notices, /feed replies.

Text from feeds is shown, never obeyed: markdown and mentions are escaped, and every message is
sent with mentions disabled except the one role an admin chose to ping.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord

from bot.feeds import template as templating
from bot.feeds.albums import Album
from bot.feeds.filters import Verdict
from bot.feeds.parse import Entry
from bot.feeds.policy import failure_code
from bot.feeds.poller import FeedPost
from bot.feeds.preview import Preview
from bot.feeds.service import EditResult, FeedTest
from bot.feeds.store import SubscriptionView, WatchResult
from bot.feeds.template import PARTS, Template
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


# --------------------------------------------------------------------------------------------- errors


def explain(code: str | None, lang: str = "en") -> str:
    """Why a fetch failed, in plain words; ``code`` as stored in Feed.last_status (``http_404``...)."""
    code = code or "other"
    if code.startswith("http_") and code[5:].isdigit():
        status = int(code[5:])
        hint_key = f"feeds.hint.{status}"
        if hint_key not in MESSAGES:
            hint_key = "feeds.hint.5xx" if status >= 500 else "feeds.hint.4xx"
        return t("feeds.why.http", lang, status=status_text(status), hint=t(hint_key, lang))
    key = f"feeds.why.{code}"
    return t(key if key in MESSAGES else "feeds.why.other", lang)


def describe_error(code: str, status: int | None = None, lang: str = "en") -> str:
    """One or two plain sentences for admins, for a FetchError/FeedError code (and HTTP status):
    ``describe_error("http_error", 404)`` names the status."""
    return explain(failure_code(code, status), lang)


def paused_reason(stored: str | None, lang: str = "en") -> str | None:
    """Why a feed was paused, from what ``Feed.paused_reason`` holds (its code and failure count)."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # not written by this version: say only that it failed
        data = {}
    return t(
        "feeds.paused_reason",
        lang,
        failures=data.get("failures", "?"),
        reason=explain(data.get("code"), lang),
    )


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


def album_message(
    entry: Entry,
    *,
    feed_title: str | None,
    role_id: int | None,
    preview: Preview | None,
    lang: str = "en",
) -> OutgoingMessage:
    """One entry as an album announcement with the default layout."""
    return announcement(
        Album.of_entry(entry), feed_title=feed_title, role_id=role_id, preview=preview, lang=lang
    )


def _image_of(preview: Preview | None) -> tuple[discord.File | None, str | None]:
    if preview is not None and preview.data is not None and preview.filename:
        file = discord.File(io.BytesIO(preview.data), filename=preview.filename)
        return file, f"attachment://{preview.filename}"
    if preview is not None and preview.url:
        return None, preview.url
    return None, None


def _photos_text(album: Album, lang: str) -> str | None:
    if album.continued:
        return t("feeds.album.more_photos", lang, count=album.photo_count)
    if album.photo_count <= 1 and album.entry_count <= 1:
        return None
    return t("feeds.album.photos", lang, count=album.photo_count)


def announcement(
    album: Album,
    *,
    feed_title: str | None,
    role_id: int | None,
    preview: Preview | None,
    template: Template | None = None,
    lang: str = "en",
) -> OutgoingMessage:
    """An album as posted: the subscription's template (or the default layout) filled with the
    album's values; each part clipped to Discord's limits; only ``role_id`` may be pinged."""
    template = template or Template()
    parts = template.parts()
    values = templating.values_for(album, feed_title=feed_title, role_id=role_id)
    file, image_url = _image_of(preview if template.image != "none" else None)

    if "content" in parts:
        content: str | None = templating.fill(parts["content"], values).strip()
        if role_id and not templating.uses(parts["content"], "role"):
            content = f"<@&{role_id}> {content}".strip()
    else:
        content = f"<@&{role_id}>" if role_id else None
    content = clip(content, templating.LIMITS["content"]) if content else None

    if "title" in parts:
        title = templating.fill(parts["title"], values).strip()
    else:
        title = values["title"]
    title = clip(title or t("feeds.album.untitled", lang), TITLE_LIMIT)
    embed = discord.Embed(title=title, url=album.link or None, colour=ALBUM_COLOUR)
    used = len(title)
    if feed_title:
        author = clip(feed_title, AUTHOR_LIMIT)
        embed.set_author(name=author)
        used += len(author)
    fields: list[tuple[str, str]] = []
    if template.details:
        if album.published:
            fields.append((t("feeds.album.published", lang), timestamp(album.published, "f")))
        if album.credits:
            fields.append((t("feeds.album.credit", lang), clip(values["credit"], FIELD_LIMIT)))
        photos = _photos_text(album, lang)
        if photos:
            fields.append((t("feeds.album.count", lang), photos))
    used += sum(len(name) + len(value) for name, value in fields)
    if "footer" in parts:
        footer = clip(templating.fill(parts["footer"], values).strip(), templating.LIMITS["footer"])
        if footer:
            embed.set_footer(text=footer)
            used += len(footer)
    description = (
        templating.fill(parts["description"], values).strip()
        if "description" in parts
        else values["description"]
    )
    if description:
        room = min(DESCRIPTION_LIMIT, EMBED_TOTAL - used - 10)
        if room > 0:
            embed.description = clip(description, room)
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=True)
    if image_url:
        embed.set_image(url=image_url)
    return OutgoingMessage(content, embed, file, mentions_for(role_id))


def summary_message(payload: dict[str, Any], lang: str = "en") -> OutgoingMessage:
    """The albums of one update beyond what is posted in full: listed, never silently dropped."""
    total = int(payload.get("total") or 0)
    items = list(payload.get("summary") or [])
    title = clip(
        t("feeds.more.title", lang, count=total, feed=safe_text(str(payload.get("feed_title") or ""))),
        TITLE_LIMIT,
    )
    lines: list[str] = []
    room = DESCRIPTION_LIMIT - 100
    listed = 0
    for item in reversed(items):  # newest first
        name = clip(safe_text(str(item.get("title") or "")) or t("feeds.album.untitled", lang), 200)
        name = name.replace("]", "\\]")
        line = t(
            "feeds.more.line",
            lang,
            title=f"[{name}]({item['link']})" if item.get("link") else name,
            count=item.get("count") or 1,
        )
        if len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
        listed += 1
    if total > listed:
        lines.append(t("feeds.more.rest", lang, count=total - listed))
    embed = discord.Embed(title=title, description="\n".join(lines), colour=ALBUM_COLOUR)
    role_id = payload.get("role_id")
    return OutgoingMessage(f"<@&{role_id}>" if role_id else None, embed, None, mentions_for(role_id))


def feed_message(post: FeedPost, lang: str = "en") -> OutgoingMessage:
    """What the poller decided to post, as posted in a channel whose server reads ``lang``."""
    if post.kind == "summary":
        return summary_message(post.payload, lang)
    if post.kind == "paused" or post.album is None:
        return paused_notice(post.payload, lang)
    return announcement(
        post.album,
        feed_title=post.payload.get("feed_title"),
        role_id=post.payload.get("role_id"),
        preview=post.preview,
        template=post.template,
        lang=lang,
    )


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
    if result.page and result.url:
        text = t("feeds.watch.discovered", lang, page=f"<{result.page}>", url=f"<{result.url}>") + " " + text
    return text


def unwatch_reply(view: SubscriptionView, lang: str = "en") -> str:
    return t(
        "feeds.unwatch.done", lang, title=clip(safe_text(view.label), 200), channel=f"<#{view.channel_id}>"
    )


def state_of(view: SubscriptionView, lang: str = "en") -> str:
    if view.sub_paused:
        return t("feeds.state.sub_paused", lang)
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
    lines.extend(settings_lines(view, lang))
    if view.paused:
        lines.append(t("feeds.status.paused", lang, failures=view.failures))
    elif not view.sub_paused:
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


# --------------------------------------------------------------------------------------------- settings


def _terms(terms: Sequence[str]) -> str:
    return ", ".join(f"“{safe_text(term)}”" for term in terms)


def template_summary(template: Template, lang: str = "en") -> str | None:
    """One line naming what differs from the default layout; None for the default."""
    if template.is_default:
        return None
    parts = [
        t("feeds.status.template_part", lang, part=t(f"feeds.part.{part}", lang), text=clip(text, 120))
        for part in PARTS
        if (text := getattr(template, part)) is not None
    ]
    if template.image != "collage":
        parts.append(t("feeds.status.picture", lang, mode=t(f"feeds.picture.{template.image}", lang)))
    if not template.details:
        parts.append(t("feeds.status.no_details", lang))
    return t("feeds.status.template", lang, parts="; ".join(parts))


def settings_lines(view: SubscriptionView, lang: str = "en") -> list[str]:
    """A subscription's own settings (pause, filters, template), for /feed status and /feed edit."""
    lines = []
    if view.sub_paused:
        lines.append(t("feeds.status.sub_paused", lang))
    if view.include:
        lines.append(t("feeds.status.include", lang, terms=_terms(view.include)))
    if view.exclude:
        lines.append(t("feeds.status.exclude", lang, terms=_terms(view.exclude)))
    summary = template_summary(view.template, lang)
    if summary:
        lines.append(summary)
    return lines


def edit_reply(result: EditResult, lang: str = "en") -> discord.Embed:
    view = result.view
    title = clip(safe_text(view.label), 200)
    if result.changed:
        changes = ", ".join(t(f"feeds.change.{name}", lang) for name in result.changed)
        text = t("feeds.edit.done", lang, title=title, changes=changes)
    else:
        text = t("feeds.edit.nothing", lang, title=title)
    if "template" in result.changed:
        if result.checked_against is not None:
            text += "\n" + t("feeds.edit.checked", lang, album=clip(safe_text(result.checked_against), 200))
        elif not view.template.is_default:
            text += "\n" + t("feeds.edit.unchecked", lang)
    embed = discord.Embed(description=clip(text, DESCRIPTION_LIMIT), colour=ALBUM_COLOUR)
    embed.add_field(
        name=clip(safe_text(view.label), TITLE_LIMIT),
        value=clip("\n".join(status_lines(view, lang)), FIELD_LIMIT),
        inline=False,
    )
    return embed


def _why(verdict: Verdict, lang: str) -> str:
    where = t(f"feeds.where.{verdict.where}", lang) if verdict.where else ""
    term = safe_text(verdict.term or "")
    return t(f"feeds.test.why.{verdict.reason}", lang, term=term, where=where)


def filter_report(result: FeedTest, lang: str = "en") -> discord.Embed:
    """Which of the latest items pass the filters, and why (the term and where it was found)."""
    lines = []
    for entry, verdict in result.verdicts:
        key = "feeds.test.pass" if verdict.passed else "feeds.test.fail"
        name = clip(safe_text(entry.title) or t("feeds.album.untitled", lang), 120)
        lines.append(t(key, lang, title=name, why=_why(verdict, lang)))
    embed = discord.Embed(title=t("feeds.test.report", lang), colour=ALBUM_COLOUR)
    embed.description = clip("\n".join(lines), DESCRIPTION_LIMIT)
    return embed


def trial_reply(result: FeedTest, lang: str = "en") -> dict[str, Any]:
    """/feed test: the header, the album as it would be posted, the filter report; no pings."""
    header = t("feeds.test.header", lang, title=clip(safe_text(result.title), 200))
    if result.page:
        header += " " + t("feeds.test.from_page", lang, page=f"<{result.page}>")
    embeds = []
    file = None
    if result.album is None:
        header += "\n" + t("feeds.test.nothing_passes", lang)
    else:
        message = announcement(
            result.album,
            feed_title=result.title,
            role_id=result.view.role_id if result.view else None,
            preview=result.preview,
            template=result.template,
            lang=lang,
        )
        for part, length, limit in result.problems:
            header += "\n" + t(
                "feeds.test.over_limit", lang, part=t(f"feeds.part.{part}", lang), length=length, limit=limit
            )
        if message.content:  # the text as it would be posted, in the room left
            room = 2000 - len(header) - 1
            if room > 1:
                header += "\n" + clip(message.content, room)
        if message.embed is not None:
            embeds.append(message.embed)
        file = message.file
    if result.view is not None:
        report = filter_report(result, lang)
        room = EMBED_TOTAL - sum(len(e) for e in embeds) - len(report.title or "") - 10
        if room > 100:  # Discord counts all of a message's embeds together
            report.description = clip(report.description or "", min(room, DESCRIPTION_LIMIT))
            embeds.append(report)
    kwargs: dict[str, Any] = {
        "content": clip(header, 2000),
        "embeds": embeds,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if file is not None:
        kwargs["file"] = file
    return kwargs
