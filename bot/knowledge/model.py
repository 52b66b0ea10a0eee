"""The article model: what the bot keeps about one article, as plain frozen dataclasses.

``ingest`` builds them from a file, ``extract`` finds crew and facts in their passages, ``store``
keeps ``ParsedArticle.to_dict()`` as JSON and the index reads it back with ``from_dict``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


class ArticleError(ValueError):
    """The file cannot be read as an article. ``code`` is the catalog key (``bot/locale/knowledge.toml``)
    saying what is wrong and what to do; the render layer words it in the uploader's language."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        """English, for logs and the operator's command line."""
        from bot.i18n import t  # the catalog, not the render layer: no Discord objects involved

        return t(self.code, "en", **self.params)


@dataclass(frozen=True, slots=True)
class Passage:
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ImageRef:
    url: str | None
    caption: str | None
    credit: str | None
    photographer: str | None
    passage_index: int | None


@dataclass(frozen=True, slots=True)
class CrewRef:
    name: str
    agency: str | None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class FactRef:
    key: str
    text: str
    value: float
    unit: str
    passage_index: int
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """Everything the bot keeps about one article.  Lists are never mutated after parsing."""

    title: str
    published: dt.date | None
    author: str | None
    source: str | None
    language: str
    passages: list[Passage]
    images: list[ImageRef]
    crew: list[CrewRef]
    facts: list[FactRef]
    content_hash: str
    identity: str
    photographer: str | None = None
    photographer_passage: int | None = None
    format: str = "text"
    url: str | None = None
    # Index terms of each passage and of the title, computed once at import and stored with the parse,
    # so start-up builds the index without segmenting or stemming again (see bot/knowledge/text.py).
    passage_terms: list[list[str]] = field(default_factory=list, compare=False)
    title_terms: list[str] = field(default_factory=list, compare=False)
    terms_version: int = field(default=0, compare=False)

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, so the core can keep a parse in a database column."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParsedArticle:
        """Inverse of :meth:`to_dict`; tolerant of missing optional keys."""
        published = data.get("published")
        if isinstance(published, str):
            published = dt.date.fromisoformat(published)
        return cls(
            title=str(data.get("title") or ""),
            published=published,
            author=data.get("author"),
            source=data.get("source"),
            language=str(data.get("language") or "en"),
            passages=[_coerce(Passage, p) for p in data.get("passages") or ()],
            images=[_coerce(ImageRef, i) for i in data.get("images") or ()],
            crew=[_coerce(CrewRef, c) for c in data.get("crew") or ()],
            facts=[_coerce(FactRef, f) for f in data.get("facts") or ()],
            content_hash=str(data.get("content_hash") or ""),
            identity=str(data.get("identity") or ""),
            photographer=data.get("photographer"),
            photographer_passage=data.get("photographer_passage"),
            format=str(data.get("format") or "text"),
            url=data.get("url"),
            passage_terms=list(data.get("passage_terms") or ()),
            title_terms=list(data.get("title_terms") or ()),
            terms_version=int(data.get("terms_version") or 0),
        )


def _coerce(cls: type, value: Any) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls(**value)
    return cls(*value)
