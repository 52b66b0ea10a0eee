"""Which entries a subscription announces: include / exclude words and phrases.

Matching is case- and accent-insensitive ("Soyuz" matches "SOYUZ", "Pesquet" matches "Pésquet"),
full-width forms fold to their plain ones, and runs of whitespace match any whitespace. A term made
of Latin letters or digits matches whole words only ("ISS" does not match "mission"), except at an
edge that is itself punctuation ("Crew-" matches "Crew-9"). Chinese has no spaces between words,
so a Chinese term matches anywhere ("空间站" matches "国际空间站").

Rules: an exclude term found anywhere rejects the entry; otherwise, with include terms, one of them
must be found; without include terms every entry passes. Title, description and categories are
searched, in that order, and the verdict names the term and where it was found.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.errors import UserFacingError
from bot.feeds.parse import Entry
from bot.i18n import Phrase

MAX_TERMS = 25
"""Words or phrases per list."""
MAX_TERM_LENGTH = 100
_SEPARATORS = re.compile(r"[,，、;；\n]")
_WS = re.compile(r"\s+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A "word character" for boundaries: letters, digits and _ except CJK (which has no word spaces).
_WORD = f"[^\\W{_CJK}]"


def fold(text: str) -> str:
    """Lower-case, accents removed, full-width folded, whitespace collapsed: what matching sees."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WS.sub(" ", text.casefold()).strip()


def _is_word_char(ch: str) -> bool:
    return bool(re.fullmatch(_WORD, ch))


@lru_cache(maxsize=2048)
def _pattern(term: str) -> re.Pattern[str]:
    folded = fold(term)
    body = r"\s+".join(re.escape(word) for word in folded.split(" "))
    start = f"(?<!{_WORD})" if _is_word_char(folded[0]) else ""
    end = f"(?!{_WORD})" if _is_word_char(folded[-1]) else ""
    return re.compile(start + body + end)


def parse_terms(text: str | None, *, what: str = "include") -> tuple[str, ...]:
    """A member's comma-separated list (Chinese commas too) → terms, trimmed, without repeats.

    Raises UserFacingError for too many or too long terms.
    """
    if not text:
        return ()
    terms: dict[str, str] = {}
    for raw in _SEPARATORS.split(text):
        term = _WS.sub(" ", raw).strip().strip("\"'“”‘’「」")
        if not term or not fold(term):
            continue
        if len(term) > MAX_TERM_LENGTH:
            raise UserFacingError(
                key="feeds.filter.too_long",
                term=term[:40],
                limit=MAX_TERM_LENGTH,
            )
        terms.setdefault(fold(term), term)
    if len(terms) > MAX_TERMS:
        raise UserFacingError(
            key="feeds.filter.too_many",
            count=len(terms),
            limit=MAX_TERMS,
            what=Phrase(f"feeds.change.{what}"),  # the name of the setting, in the reader's language
        )
    return tuple(terms.values())


def dump_terms(terms: Sequence[str]) -> str | None:
    return json.dumps(list(terms), ensure_ascii=False) if terms else None


def load_terms(stored: str | None) -> tuple[str, ...]:
    if not stored:
        return ()
    try:
        value = json.loads(stored)
    except ValueError:
        return ()
    return tuple(str(v) for v in value if str(v).strip()) if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reason: str
    """``no_filter`` | ``included`` | ``not_excluded`` | ``excluded`` | ``no_match``."""
    term: str | None = None
    where: str | None = None
    """``title`` | ``description`` | ``categories``."""


def _fields(entry: Entry) -> list[tuple[str, str]]:
    return [
        ("title", fold(entry.title)),
        ("description", fold(entry.description_text)),
        ("categories", fold(" · ".join(entry.categories))),
    ]


def _find(terms: Iterable[str], fields: list[tuple[str, str]]) -> tuple[str, str] | None:
    for term in terms:
        pattern = _pattern(term)
        for where, text in fields:
            if text and pattern.search(text):
                return term, where
    return None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def check(self, entry: Entry) -> Verdict:
        if not self.active:
            return Verdict(True, "no_filter")
        fields = _fields(entry)
        hit = _find(self.exclude, fields)
        if hit is not None:
            return Verdict(False, "excluded", *hit)
        if not self.include:
            return Verdict(True, "not_excluded")
        hit = _find(self.include, fields)
        if hit is not None:
            return Verdict(True, "included", *hit)
        return Verdict(False, "no_match")

    def passes(self, entry: Entry) -> bool:
        return self.check(entry).passed

    @classmethod
    def stored(cls, include: str | None, exclude: str | None) -> EntryFilter:
        return cls(load_terms(include), load_terms(exclude))
