"""Message templates per subscription: a small placeholder language, checked when it is set.

A template has up to four texts — the message ``content`` (above the embed), the embed ``title``,
``description`` and ``footer`` — plus the picture (``collage``, ``single`` or ``none``) and
whether the embed shows its detail fields (date, credit, photo count). Texts use placeholders:

``{title} {link} {description} {credit} {count} {items} {date} {feed} {role} {categories}``

``{name:N}`` keeps at most N characters of a value (``{description:300}``); ``{{`` and ``}}``
are literal braces. Nothing else is allowed: no attribute access, no format specs, so a template
can never reach anything but these values. Values from the feed are escaped before they are put
in (markdown and mentions shown literally); only the configured role is ever pinged, because the
message allows that one role's mention and nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import discord

from bot.errors import UserFacingError
from bot.feeds.albums import Album
from bot.i18n import Phrase

PLACEHOLDERS = (
    "title",
    "link",
    "description",
    "credit",
    "count",
    "items",
    "date",
    "feed",
    "role",
    "categories",
)
IMAGE_MODES = ("collage", "single", "none")
MAX_TEMPLATE_LENGTH = 1500
"""Characters per template text, before placeholders are filled in."""
PARTS = ("content", "title", "description", "footer")
LIMITS = {"content": 2000, "title": 256, "description": 4096, "footer": 2048}
"""Discord's limits for each part of a message."""
EMBED_TOTAL = 6000

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^([a-z_]+)(?::(\d{1,4}))?$")


class TemplateError(UserFacingError):
    """A template that cannot be used; ``key`` says why (the catalog has the words)."""


def part_names(part: str) -> dict[str, Phrase]:
    """A part's name for messages (``part``), said in the reader's language."""
    return {"part": Phrase(f"feeds.part.{part}")}


def _error(key: str, **params: object) -> TemplateError:
    if "part" in params:
        params.update(part_names(str(params["part"])))
    return TemplateError(key=key, **params)


@dataclass(frozen=True, slots=True)
class Piece:
    text: str | None = None
    """Literal text, or None for a placeholder."""
    name: str | None = None
    limit: int | None = None


def parse(source: str, *, part: str = "content") -> tuple[Piece, ...]:
    """The pieces of one template text; raises TemplateError naming the problem."""
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise _error("feeds.template.too_long", part=part, length=len(source), limit=MAX_TEMPLATE_LENGTH)
    pieces: list[Piece] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(source):
        literal.append(source[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if token in ("{", "}"):
            raise _error("feeds.template.brace", part=part, position=match.start() + 1)
        inner = (match.group(1) or "").strip()
        named = _NAME.match(inner)
        if named is None or named.group(1) not in PLACEHOLDERS:
            raise _error(
                "feeds.template.unknown",
                part=part,
                name="{" + inner[:40] + "}",
                known=" ".join("{" + p + "}" for p in PLACEHOLDERS),
            )
        if literal:
            pieces.append(Piece(text="".join(literal)))
            literal = []
        limit = int(named.group(2)) if named.group(2) else None
        if limit is not None and limit < 1:
            raise _error("feeds.template.zero", part=part, name="{" + inner + "}")
        pieces.append(Piece(name=named.group(1), limit=limit))
    literal.append(source[position:])
    if "".join(literal):
        pieces.append(Piece(text="".join(literal)))
    return tuple(pieces)


def _cut(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: max(0, limit - 1)].rstrip() + "…"


def fill(pieces: tuple[Piece, ...], values: Mapping[str, str]) -> str:
    """Put the values in; ``values`` must already be safe to show (escaped feed text)."""
    out = []
    for piece in pieces:
        if piece.text is not None:
            out.append(piece.text)
        else:
            out.append(_cut(values.get(piece.name or "", ""), piece.limit))
    return "".join(out)


def uses(pieces: tuple[Piece, ...], name: str) -> bool:
    return any(piece.name == name for piece in pieces)


@dataclass(frozen=True, slots=True)
class Template:
    """A subscription's message layout; a None text means the default for that part."""

    content: str | None = None
    title: str | None = None
    description: str | None = None
    footer: str | None = None
    image: str = "collage"
    details: bool = True

    @property
    def is_default(self) -> bool:
        return self == Template()

    def parts(self) -> dict[str, tuple[Piece, ...]]:
        """Every text parsed (a stored template was validated when it was set)."""
        return {part: parse(text, part=part) for part in PARTS if (text := getattr(self, part)) is not None}

    def dump(self) -> str | None:
        return None if self.is_default else json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def load(cls, stored: str | None) -> Template:
        if not stored:
            return cls()
        try:
            data = json.loads(stored)
            template = cls(
                **{k: data[k] for k in ("content", "title", "description", "footer") if data.get(k)},
                image=data.get("image") if data.get("image") in IMAGE_MODES else "collage",
                details=bool(data.get("details", True)),
            )
            template.parts()
        except (ValueError, TypeError, TemplateError):
            return cls()
        return template

    def with_changes(self, **changes: object) -> Template:
        """A new template with ``changes`` applied: "" for a text restores its default. Validated."""
        data = asdict(self)
        for name, value in changes.items():
            if value is None:
                continue
            if name in PARTS:
                data[name] = str(value) if str(value).strip() else None
            elif name == "image":
                if value not in IMAGE_MODES:
                    raise _error("feeds.template.image", modes=", ".join(IMAGE_MODES))
                data[name] = value
            elif name == "details":
                data[name] = bool(value)
        template = Template(**data)
        template.parts()  # raises TemplateError for the first bad text
        return template


# --------------------------------------------------------------------------------------------- values


def safe(text: str) -> str:
    """Feed text as literal text: markdown that would apply is escaped, mentions are defused."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text, as_needed=True))


def values_for(album: Album, *, feed_title: str | None, role_id: int | None) -> dict[str, str]:
    """The placeholder values of an album, feed text escaped."""
    return {
        "title": safe(album.title),
        "link": album.link or "",
        "description": safe(album.description),
        "credit": safe("; ".join(album.credits)),
        "count": str(album.photo_count),
        "items": str(album.entry_count),
        "date": f"<t:{int(album.published.timestamp())}:D>" if album.published else "",
        "feed": safe(feed_title or ""),
        "role": f"<@&{role_id}>" if role_id else "",
        "categories": safe(", ".join(album.categories)),
    }


def overlong(template: Template, values: Mapping[str, str]) -> list[tuple[str, int, int]]:
    """The parts that would exceed Discord's limits with these values: (part, length, limit)."""
    out = []
    total = 0
    for part, pieces in template.parts().items():
        length = len(fill(pieces, values))
        if length > LIMITS[part]:
            out.append((part, length, LIMITS[part]))
        if part != "content":
            total += length
    if total > EMBED_TOTAL:
        out.append(("embed", total, EMBED_TOTAL))
    return out
