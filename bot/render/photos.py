"""Photos → embeds: every photo shown carries its credit (and photographer, and source article)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import discord

from bot.i18n import t
from bot.photos.catalog import CreditGroup, PhotoView
from bot.photos.pictures import Picture
from bot.render import BRAND_COLOUR

CAPTION_LIMIT = 1500
FIELD_LIMIT = 1024
CREDITS_PAGE_CHARS = 3800
CREDITS_PAGE_LINES = 15


def _trim(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def credit_line(photo: PhotoView, lang: str) -> str:
    """ "Credit: NASA · Photo: Thomas Pesquet" — the line drawn on credit cards."""
    if photo.photographer and photo.photographer.casefold() != photo.credit.casefold():
        return t("photos.credit_line_by", lang, credit=photo.credit, photographer=photo.photographer)
    return t("photos.credit_line", lang, credit=photo.credit)


def article_link(title: str | None, source: str | None) -> str | None:
    """The source article as a Markdown link when its source is a URL, else "title (source)"."""
    if not title:
        return None
    title = _trim(title, 300).replace("[", "(").replace("]", ")")
    source = (source or "").strip()
    if source.startswith(("https://", "http://")) and len(source) < 600:
        return f"[{title}]({source})"
    return f"{title} ({_trim(source, 200)})" if source else title


def _base_embed(photo: PhotoView, lang: str, *, title: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=title, description=_trim(photo.caption, CAPTION_LIMIT), colour=BRAND_COLOUR)
    embed.add_field(name=t("photos.credit", lang), value=_trim(photo.credit, FIELD_LIMIT))
    if photo.photographer:
        embed.add_field(name=t("photos.photographer", lang), value=_trim(photo.photographer, FIELD_LIMIT))
    source = article_link(photo.article_title, photo.article_source)
    if source:
        embed.add_field(name=t("photos.source", lang), value=_trim(source, FIELD_LIMIT), inline=False)
    return embed


def photo_embed(
    photo: PhotoView, lang: str, *, image_url: str | None, note: str | None = None
) -> discord.Embed:
    """/photo random and /photo show: the picture (a URL or ``attachment://…``) with its credit."""
    embed = _base_embed(photo, lang)
    if image_url:
        embed.set_image(url=image_url)
    if note:
        embed.add_field(name=t("photos.picture", lang), value=_trim(note, FIELD_LIMIT), inline=False)
    embed.set_footer(text=t("photos.footer", lang, id=photo.id))
    return embed


def potd_marker(day: date) -> str:
    """Found in a scheduled post's footer; how a restarted bot recognises a post it already made."""
    return f"{day.isoformat()} · #"


def potd_embed(
    photo: PhotoView,
    lang: str,
    *,
    day: date | None,
    image_url: str | None,
    note: str | None = None,
) -> discord.Embed:
    """The photo of the day: title, caption, credit, source; ``day`` None for an extra post."""
    embed = _base_embed(photo, lang, title=t("potd.title", lang))
    if image_url:
        embed.set_image(url=image_url)
    if note:
        embed.add_field(name=t("photos.picture", lang), value=_trim(note, FIELD_LIMIT), inline=False)
    if day is not None:
        embed.set_footer(text=f"{t('potd.footer', lang)} · {potd_marker(day)}{photo.id}")
    else:
        embed.set_footer(text=f"{t('potd.footer_extra', lang)} · #{photo.id}")
    return embed


def discord_time(when: datetime) -> str:
    ts = int(when.timestamp())
    return f"<t:{ts}:F> (<t:{ts}:R>)"


# ------------------------------------------------------------------------------------------ credits


def _ranges(ids: tuple[int, ...]) -> str:
    """(1, 2, 3, 7) → "#1–3, #7"."""
    parts: list[str] = []
    start = prev = ids[0]
    for value in [*ids[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(f"#{start}" if start == prev else f"#{start}–{prev}")
        if value is not None:
            start = prev = value
    return ", ".join(parts)


def credit_group_line(group: CreditGroup, lang: str) -> str:
    who = group.photographer or group.credit
    count = len(group.photo_ids)
    key = "photos.count_one" if count == 1 else "photos.count_many"
    line = f"**{_trim(who, 200)}**"
    if group.photographer and group.photographer.casefold() != group.credit.casefold():
        line += " · " + t("photos.credit_line", lang, credit=_trim(group.credit, 200))
    line += " — " + t(key, lang, count=count) + f" ({_trim(_ranges(group.photo_ids), 300)})"
    missing = count - group.with_picture
    if missing:
        line += " · " + t("photos.caption_only", lang, count=missing)
    source = article_link(group.article_title, group.article_source)
    if source:
        return line + "\n" + t("photos.from_article", lang, article=source)
    return line + "\n" + t("photos.no_article", lang)


@dataclass(frozen=True)
class CreditsPage:
    embed: discord.Embed
    page: int
    pages: int


def credits_pages(groups: list[CreditGroup], lang: str) -> list[list[str]]:
    """Lines split into pages that fit an embed description."""
    pages: list[list[str]] = [[]]
    size = 0
    for group in groups:
        line = _trim(credit_group_line(group, lang), 1000)
        if pages[-1] and (size + len(line) + 2 > CREDITS_PAGE_CHARS or len(pages[-1]) >= CREDITS_PAGE_LINES):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 2
    return pages


def credits_embed(groups: list[CreditGroup], lang: str, page: int) -> CreditsPage:
    """One page of /photo credits (pages count from 1; out of range shows the last)."""
    embed = discord.Embed(title=t("photos.credits_title", lang), colour=BRAND_COLOUR)
    if not groups:
        embed.description = t("photos.credits_empty", lang)
        return CreditsPage(embed, 1, 1)
    pages = credits_pages(groups, lang)
    number = min(max(1, page), len(pages))
    embed.description = "\n\n".join(pages[number - 1])
    total = sum(len(g.photo_ids) for g in groups)
    embed.set_footer(text=t("photos.credits_footer", lang, page=number, pages=len(pages), total=total))
    return CreditsPage(embed, number, len(pages))


PICTURE_REASONS = {
    "bomb", "truncated", "corrupt", "not_an_image", "unsupported_format", "empty", "too_large",
    "missing", "http_error", "timeout", "connection_failed", "private_address", "too_many_redirects",
}  # fmt: skip


def picture_reason(code: str | None, lang: str) -> str:
    """A short, member-facing reason for a missing picture (the log has the full one)."""
    return t(f"picture.{code if code in PICTURE_REASONS else 'other'}", lang)


def picture_note(picture: Picture, lang: str) -> str | None:
    """What the post says when it has no credit card: why, and that caption and credit are there."""
    if picture.ok:
        return None
    key = "potd.fallback_note" if picture.fallback_url else "potd.no_picture_note"
    return t(key, lang, reason=picture_reason(picture.code, lang))
