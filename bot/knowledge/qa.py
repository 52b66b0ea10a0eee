"""Answer ISS and crew questions from ingested articles, in English and Chinese, without guessing.

The index lives in memory and is rebuilt from stored parses at start-up.  Every lookup goes through
inverted lists keyed by (scope, term), where scope is None for shipped articles and a guild id for
a server's own, so a question never scans all passages and never sees another server's content.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import bot.knowledge.answering as answering
import bot.knowledge.bilingual as bilingual
from bot.knowledge.analysis import QuestionAnalysis, Unit, analyse_question, index_terms
from bot.knowledge.extract import NAME_RE, clean_name
from bot.knowledge.lexicon import AGENCIES, ZH_NUMERAL_CHARS, normalize_text
from bot.knowledge.model import CrewRef, FactRef, ParsedArticle
from bot.knowledge.question import clean as clean_question
from bot.knowledge.retrieval import SentenceIndex
from bot.knowledge.text import TERMS_VERSION, stem, term_set

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 1000

Scope = int | None
# The /iss facts card's lines, in order (their labels are in bot/locale/answers.toml).
FACT_CARD_KEYS = (
    "orbit_period",
    "orbits_per_day",
    "altitude",
    "speed",
    "temperature_min",
    "temperature_max",
    "temperature_interior",
    "continuous_presence_years",
    "continuous_presence_since",
    "first_crew_year",
    "first_crew_size",
    "visitors",
    "countries",
    "crew_size",
    "mass",
)
_ORDER = attrgetter("order")
_HAN = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Statement:
    """What a structured answer states, as a code and its values; ``bot/render/phrasing.py`` words it.

    Codes: ``fact`` (``fact``, ``station``, ``companion``), ``temperature_range`` (``low``, ``high``),
    ``crew`` (``members`` filtered by ``agency`` / ``role``, ``count``: say how many), ``crew_count``,
    ``crew_member`` (one member), ``credit`` (``credits``, ``photographer``), ``photographer``.
    """

    code: str
    fact: FactRef | None = None
    station: str | None = None
    companion: FactRef | None = None
    low: FactRef | None = None
    high: FactRef | None = None
    members: tuple[CrewRef, ...] = ()
    agency: str | None = None
    role: str | None = None
    count: bool = False
    credits: tuple[str, ...] = ()
    photographer: str | None = None


@dataclass(frozen=True)
class Answer:
    """What /iss ask shows: the answer first, then the sentence it rests on and where it came from."""

    found: bool
    language: str
    text: str  # the value read from the sentence, or the sentence itself; empty with a statement
    quote: str | None = None
    article_id: int | None = None
    article_title: str | None = None
    article_date: dt.date | None = None
    sources: list[str] = field(default_factory=list)
    kind: str = "none"
    quote_language: str | None = None  # the language the quoted sentence is written in
    question: str = ""  # as asked, for the "not in my articles" reply
    suggestions: list[str] = field(default_factory=list)  # nearest article titles when nothing is found
    statement: Statement | None = None  # a structured answer: what to say, worded by the render layer


@dataclass(frozen=True)
class KeyFact:
    """One line of the /iss facts card with its source (worded by the render layer)."""

    key: str
    fact: FactRef
    station: str | None
    companion: FactRef | None
    quote: str
    article_id: int
    article_title: str
    article_date: dt.date | None


@dataclass(frozen=True)
class CrewEntry:
    """A crew member as listed by one article (the newest article wins for a repeated name)."""

    name: str
    agency: str | None
    role: str | None
    article_id: int
    article_title: str
    article_date: dt.date | None

    @property
    def ref(self) -> CrewRef:
        return CrewRef(self.name, self.agency, self.role)


@dataclass(slots=True)
class _Article:
    """What the structured answers need of an article; its sentences live in the sentence index."""

    article_id: int
    scope: Scope
    title: str
    published: dt.date | None
    language: str
    station: str | None
    order: tuple[int, int]
    crew: tuple[CrewRef, ...]
    facts: tuple[FactRef, ...]
    credits: tuple[str, ...]  # image credits, in order, each once
    credit_passages: tuple[int, ...]  # passage indexes of the credited images' captions, in order
    photographer: str | None
    photographer_passage: int | None
    passage_numbers: array | None  # each sentence's passage index, when it is not simply 0, 1, 2 …


@dataclass(order=True, slots=True)
class _FactEntry:
    order: tuple[int, int]
    offset: int = field(compare=False)  # the fact's sentence, counted from the article's first
    language: str = field(compare=False)
    fact: FactRef = field(compare=False)
    article: _Article = field(compare=False)


# ---------------------------------------------------------------------------------------------
# Intents: which structured answer a question asks for, and which of its words that explains.
# ---------------------------------------------------------------------------------------------
_TEMPERATURE_WORDS = {"temperature", "cold", "hot", "q_how_cold", "q_how_hot"}
_CREW_WORDS = {"crew", "astronaut", "member"}
_CONSUMES: dict[str, set[str]] = {
    "orbits_per_day": {"orbit", "day", "earth", "fly", "period", "year"},
    "orbit_period": {"orbit", "minute", "period", "earth", "hour", "fly", "lap", "once", "speed"},
    "altitude": {"altitude", "distance", "earth", "orbit", "fly", "high", "above", "space"},
    "speed": {"speed", "orbit", "fly", "earth", "hour", "distance"},
    "mass": {"mass"},
    "temperature": {
        "temperature",
        "cold",
        "hot",
        "low",
        "high",
        "night",
        "sun",
        "side",
        "space",
        "earth",
        "exterior",
        "orbit",
    },
    "continuous_presence_years": {
        "continuous",
        "presence",
        "year",
        "people",
        "crew",
        "astronaut",
        "human",
        "day",
        "month",
        "since",
        "current",
        "start",
    },
    "visitors": {"visit", "people", "astronaut", "human", "year", "arrive", "space", "fly"},
    "countries": {"country", "people", "visit", "astronaut", "human", "arrive", "crew", "fly"},
    "first_crew_year": {
        "first",
        "crew",
        "astronaut",
        "people",
        "year",
        "arrive",
        "presence",
        "visit",
        "member",
        "launch",
    },
    "first_crew_size": {"first", "crew", "astronaut", "people", "member", "arrive"},
    "crew_size": {"crew", "astronaut", "people", "member", "current", "agency", "presence"},
    "crew_list": {
        "crew",
        "astronaut",
        "people",
        "member",
        "current",
        "agency",
        "presence",
        "name",
        "commander",
        "engineer",
        "role",
    },
    "crew_member": {
        "agency",
        "crew",
        "astronaut",
        "member",
        "current",
        "role",
        "people",
        "commander",
        "engineer",
        "usa",
        "russia",
        "europe",
        "japan",
        "canada",
        "china",
        "country",
    },
    "photographer": {
        "photo",
        "take_photo",
        "photographer",
        "camera",
        "flyaround",
        "new",
        "people",
        "astronaut",
        "crew",
    },
    "credit": {"credit", "photo", "new", "flyaround", "release"},
}


def _intent(qa: QuestionAnalysis) -> str | None:
    """The structured answer a question asks for, from its concepts; None means 'quote a sentence'."""
    c = qa.concepts
    asks_count = "q_count" in c
    if "credit" in c:
        return "credit"
    if c & _TEMPERATURE_WORDS:
        return "temperature"
    not_who = c & {"q_when", "q_where", "q_count", "q_time"}
    if "photographer" in c or ("photo" in c and ("q_who" in c or "take_photo" in c or "camera" in c)):
        if not c & {"release", "website", "credit"} and not not_who:
            return "photographer"
    if c & {"camera", "take_photo"} and "q_who" in c and not not_who:
        return "photographer"
    if "orbit" in c and "day" in c and (asks_count or "q_time" in c):
        return "orbits_per_day"
    if "altitude" in c or "q_height" in c or ("q_distance" in c and c & {"earth", "orbit", "altitude"}):
        return "altitude"
    if "speed" in c and not ("q_time" in c and "orbit" in c):
        return "speed"
    if "orbit" in c and c & {"q_time", "minute", "period", "hour"}:
        return "orbit_period"
    if "mass" in c:
        return "mass"
    if "first" in c and c & (_CREW_WORDS | {"people"}):
        return "first_crew_size" if asks_count and "q_when" not in c else "first_crew_year"
    if "continuous" in c or ("presence" in c and c & {"q_time", "year", "q_when"} and not asks_count):
        return "continuous_presence_years"
    if "country" in c and (asks_count or "q_which" in c):
        return "countries"
    if "visit" in c and (asks_count or "people" in c) and not c & {"current"}:
        return "visitors"
    if c & (_CREW_WORDS | {"people"}) and asks_count:
        return "crew_size"
    if c & _CREW_WORDS and (c & {"q_who", "q_which", "current", "member", "agency"} or qa.agencies):
        return "crew_list"
    if c & {"commander", "engineer"} and c & {"q_who", "q_which"}:
        return "crew_list"
    if "q_who" in c and c & {"presence", "current"} and "station" in c:
        return "crew_list"
    if c & _CREW_WORDS and all(u.concept in _CREW_WORDS for u in qa.content_units()):
        return "crew_list"  # 'Tell me about the crew.'
    return None


def _answer_type(qa: QuestionAnalysis) -> str | None:
    """What a quoted sentence must contain to answer at all: 'how many' needs a number, 'who' a name."""
    c = qa.concepts
    if c & {"q_count", "q_height", "q_distance"}:
        return "number"
    if "q_time" in c:
        return "duration"
    if "q_when" in c:
        return "date"
    if "q_who" in c:
        return "person"
    return None


_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]|20|21)\d{2}(?!\d)")
_DATE_WORD_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|"
    r"\bago\b|\byesterday\b|\blast (?:week|month|year)\b|\d\s*[年月日号]|[上下本]周|星期.|周[一二三四五六日]|[年月]初|[年月]底",
    re.I,
)
_NUMBER_RE = re.compile(
    rf"(?<![A-Za-z]-)(?<![A-Za-z0-9])\d+(?:[.,]\d+)?(?![0-9])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    rf"twenty|thirty|forty|fifty|hundred|dozen)\b|[{ZH_NUMERAL_CHARS}]+\s*(?:个|名|位|年|月|天|分钟|小时|次|人)",
    re.I,
)
_DURATION_RE = re.compile(
    r"(?:\d+|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty)\b)[\s-]*"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?|decades?)\b|"
    rf"[\d{ZH_NUMERAL_CHARS}]+\s*多?\s*(?:分钟|小时|天|周|个月|年)",
    re.I,
)
# "How long is the arm?" asks for a length: a measured length answers it as well as a duration.
_LENGTH_RE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:m|meters?|metres?|km|kilometers?|kilometres?|ft|feet|foot|miles?|cm|inches)\b|"
    r"\d+(?:[.,]\d+)?\s*(?:米|公里|千米|英尺|英里|厘米)",
    re.I,
)
_PERSON_RE = re.compile(rf"(?<![A-Za-z]){NAME_RE}")
_AGENCY_WORD_RE = re.compile("|".join(re.escape(a) for v in AGENCIES.values() for a in (*v[0], *v[1])), re.I)


def _has_type(text: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == "number":
        return bool(_NUMBER_RE.search(text))
    if wanted == "duration":
        return bool(_DURATION_RE.search(text) or _LENGTH_RE.search(text))
    if wanted == "date":
        return bool(_YEAR_RE.search(text) or _DATE_WORD_RE.search(text))
    if wanted == "person":
        if _AGENCY_WORD_RE.search(text) or re.search(r"[\u4e00-\u9fff]·[\u4e00-\u9fff]", text):
            return True
        return any(clean_name(m.group(0)) for m in _PERSON_RE.finditer(text))
    return True


def _not_found(qa: QuestionAnalysis, question: str, suggestions: list[str] | None = None) -> Answer:
    """Nothing found: the render layer says so in the reader's language, with the nearest titles."""
    return Answer(False, qa.language, "", question=question, suggestions=suggestions or [])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _order(parsed: ParsedArticle, article_id: int) -> tuple[int, int]:
    return (parsed.published.toordinal() if parsed.published else 0, article_id)


class KnowledgeIndex:
    """In-memory question index over global and per-guild articles; safe to call from threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._articles: dict[int, _Article] = {}
        self._facts: dict[tuple[Scope, str, str], list[_FactEntry]] = {}
        self._facts_of: dict[int, list[_FactEntry]] = {}  # article id -> its facts
        self._crew_articles: dict[Scope, list[tuple[tuple[int, int], int]]] = {}
        self._photo_articles: dict[Scope, list[tuple[tuple[int, int], int]]] = {}
        self._names: dict[Scope, dict[str, list[tuple[tuple[int, int], int, CrewRef]]]] = {}
        self._name_keys: dict[Scope, list[str]] = {}
        self._name_tokens: dict[tuple[Scope, str], set[str]] = {}
        self._name_parts: dict[Scope, list[tuple[str, str]]] = {}
        self._sentences = SentenceIndex()
        self._bulk: dict[int, tuple[list[Any], Callable[[Any], Any] | None]] | None = None
        # lexicon terms of the sentences asked about, by (article id, offset), computed on demand
        self._old_terms: dict[tuple[int, int], set[str]] = {}

    # -----------------------------------------------------------------------------------------
    # Building
    # -----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def add_article(
        self, article_id: int, parsed: ParsedArticle | Mapping[str, Any], *, guild_id: int | None
    ) -> None:
        """Index an article; an existing article with the same id is replaced (edits re-use the id)."""
        if isinstance(parsed, ParsedArticle):
            texts = [p.text for p in parsed.passages]
            numbers = [p.index for p in parsed.passages]
        else:  # a stored parse: its sentences go straight to the index, without Passage objects
            raw = [
                p if isinstance(p, Mapping) else {"index": p[0], "text": p[1]}
                for p in parsed.get("passages") or ()
            ]
            texts = [p["text"] for p in raw]
            numbers = [p["index"] for p in raw]
            parsed = ParsedArticle.from_dict({**parsed, "passages": ()})
        if parsed.terms_version == TERMS_VERSION and len(parsed.passage_terms) == len(texts):
            sentence_terms: list[Iterable[str]] = list(parsed.passage_terms)
            title_terms: Iterable[str] = parsed.title_terms
        else:  # stored by an older version: analyse again
            bilingual.load()
            sentence_terms = [term_set(text) for text in texts]
            title_terms = term_set(parsed.title)
        station = _station_of(title_terms, sentence_terms)
        if parsed.published is not None:  # "… in August 2016", "2012年10月": the article's own date counts
            title_terms = [*title_terms, *_date_terms(parsed.published)]
        credits = tuple(dict.fromkeys(img.credit for img in parsed.images if img.credit))
        rec = _Article(
            article_id,
            guild_id,
            parsed.title,
            parsed.published,
            parsed.language,
            station,
            _order(parsed, article_id),
            tuple(parsed.crew),
            tuple(f for f in parsed.facts if f.key != "number"),
            credits,
            tuple(
                dict.fromkeys(
                    img.passage_index for img in parsed.images if img.credit and img.passage_index is not None
                )
            ),
            parsed.photographer,
            parsed.photographer_passage,
            None if numbers == list(range(len(numbers))) else array("I", numbers),
        )
        scope: Scope = guild_id
        with self._lock:
            if article_id in self._articles:
                self.remove_article(article_id)
            offset_of = {n: i for i, n in enumerate(numbers)}
            entries = []
            for fact in rec.facts:
                offset = offset_of.get(fact.passage_index)
                if offset is None:
                    continue
                lang = rec.language if _HAN.search(texts[offset]) else "en"
                entry = _FactEntry(rec.order, offset, lang, fact, rec)
                self._insert(self._facts.setdefault((scope, fact.key, lang), []), entry, key=_ORDER)
                entries.append(entry)
            if entries:
                self._facts_of[article_id] = entries
            if rec.crew:
                self._insert(self._crew_articles.setdefault(scope, []), (rec.order, article_id))
                names = self._names.setdefault(scope, {})
                for member in rec.crew:
                    key = _name_key(member.name)
                    if key not in names:
                        self._insert(self._name_keys.setdefault(scope, []), key)
                        for token in key.split():
                            self._name_tokens.setdefault((scope, token), set()).add(key)
                            self._insert(self._name_parts.setdefault(scope, []), (token, key))
                    self._insert(names.setdefault(key, []), (rec.order, article_id, member), key=_first_two)
            if rec.photographer or rec.credits:
                self._insert(self._photo_articles.setdefault(scope, []), (rec.order, article_id))
            self._articles[article_id] = rec
            self._sentences.add(
                article_id,
                guild_id=guild_id,
                title=parsed.title,
                title_terms=title_terms,
                sentences=texts,
                sentence_terms=sentence_terms,
                paragraphs=[0] * len(texts),
                language=parsed.language,
            )
        log.debug("indexed article %s (%s passages, guild %s)", article_id, len(texts), guild_id)

    def _insert(self, items: list[Any], item: Any, key: Callable[[Any], Any] | None = None) -> None:
        """Keep a list sorted; while loading many articles, append now and sort once in ``end_bulk``."""
        if self._bulk is not None:
            items.append(item)
            self._bulk[id(items)] = (items, key)
        else:
            bisect.insort(items, item, key=key)

    def begin_bulk(self) -> None:
        with self._lock:
            self._bulk = {}

    def end_bulk(self) -> None:
        with self._lock:
            pending, self._bulk = self._bulk or {}, None
            for items, key in pending.values():
                items.sort(key=key)
            self._sentences.refresh_vocabulary()  # now, not in the first question that needs it

    def remove_article(self, article_id: int) -> bool:
        """Forget an article; returns False when it was not indexed."""
        with self._lock:
            rec = self._articles.pop(article_id, None)
            if rec is None:
                return False
            for offset in range(self._sentence_count(rec)):
                self._old_terms.pop((article_id, offset), None)
            self._sentences.remove(article_id)
            scope = rec.scope
            for entry in self._facts_of.pop(article_id, ()):
                entries = self._facts.get((scope, entry.fact.key, entry.language), [])
                pos = bisect.bisect_left(entries, entry.order, key=_ORDER)
                while pos < len(entries) and entries[pos].order == entry.order:
                    if entries[pos] is entry:
                        del entries[pos]
                        break
                    pos += 1
            for table in (self._crew_articles, self._photo_articles):
                listed_articles = table.get(scope)
                if listed_articles and (rec.order, article_id) in listed_articles:
                    listed_articles.remove((rec.order, article_id))
            names = self._names.get(scope, {})
            for member in rec.crew:
                key = _name_key(member.name)
                listed = names.get(key)
                if not listed:
                    continue
                listed[:] = [x for x in listed if x[1] != article_id]
                if not listed:
                    del names[key]
                    keys = self._name_keys.get(scope, [])
                    pos = bisect.bisect_left(keys, key)
                    if pos < len(keys) and keys[pos] == key:
                        del keys[pos]
                    parts = self._name_parts.get(scope, [])
                    for token in key.split():
                        holders = self._name_tokens.get((scope, token))
                        if holders is not None:
                            holders.discard(key)
                            if not holders:
                                del self._name_tokens[(scope, token)]
                        pos = bisect.bisect_left(parts, (token, key))
                        if pos < len(parts) and parts[pos] == (token, key):
                            del parts[pos]
            return True

    # -----------------------------------------------------------------------------------------
    # Cards and autocomplete
    # -----------------------------------------------------------------------------------------
    def key_facts(self, guild_id: int | None, *, station: str = "iss") -> list[KeyFact]:
        """The station's headline numbers, newest source first, for the /iss facts card."""
        out: list[KeyFact] = []
        with self._lock:
            for key in FACT_CARD_KEYS:
                entry = next(self._iter_facts(key, _scopes(guild_id), None, {station}), None)
                if entry is None:
                    continue
                out.append(
                    KeyFact(
                        key=key,
                        fact=entry.fact,
                        station=entry.article.station,
                        companion=self._companion(entry),
                        quote=_clip(self._text(entry.article, entry.offset), MAX_QUOTE_CHARS),
                        article_id=entry.article.article_id,
                        article_title=entry.article.title,
                        article_date=entry.article.published,
                    )
                )
        return out

    def crew(self, guild_id: int | None, *, station: str | None = "iss") -> list[CrewEntry]:
        """The crew roster from the newest article that lists one (global or this guild's).

        Articles about another station (e.g. Tiangong) are skipped unless ``station`` names it;
        ``station=None`` takes the newest roster of any station.
        """
        with self._lock:
            stations = {station} if station else None
            rec = self._latest(self._crew_articles, _scopes(guild_id), stations, None)
            if rec is None:
                return []
            return [self._crew_entry(rec, m) for m in rec.crew]

    def find_crew(self, name_prefix: str, guild_id: int | None, limit: int = 25) -> list[CrewEntry]:
        """Autocomplete: names whose full name or any name part starts with the typed text."""
        prefix = _name_key(name_prefix)
        out: dict[str, CrewEntry] = {}
        with self._lock:
            for scope in _scopes(guild_id):
                keys = self._name_keys.get(scope, [])
                pos = bisect.bisect_left(keys, prefix)
                while pos < len(keys) and keys[pos].startswith(prefix) and len(out) < limit:
                    out.setdefault(keys[pos], self._newest_member(keys[pos], guild_id))
                    pos += 1
            if len(out) < limit and prefix:
                first, _, rest = prefix.partition(" ")
                for scope in _scopes(guild_id):
                    for key in self._token_prefix(scope, first):
                        if len(out) >= limit:
                            break
                        if key not in out and (not rest or rest in key):
                            out[key] = self._newest_member(key, guild_id)
        return sorted(out.values(), key=lambda e: e.name.casefold())[:limit]

    def crew_member(self, name: str, guild_id: int | None) -> CrewEntry | None:
        """Exact (case-insensitive) name, else a unique surname or prefix match."""
        key = _name_key(name)
        with self._lock:
            if any(key in self._names.get(s, {}) for s in _scopes(guild_id)):
                return self._newest_member(key, guild_id)
        matches = self.find_crew(name, guild_id, limit=2)
        return matches[0] if len(matches) == 1 else None

    def _token_prefix(self, scope: Scope, token: str) -> Iterator[str]:
        """Names with any part starting with ``token`` ('cha' → 'raja chari'), via a sorted part list."""
        parts = self._name_parts.get(scope, [])
        pos = bisect.bisect_left(parts, (token, ""))
        while pos < len(parts) and parts[pos][0].startswith(token):
            yield parts[pos][1]
            pos += 1

    def _newest_member(self, key: str, guild_id: int | None) -> CrewEntry:
        best: tuple[tuple[int, int], int, CrewRef] | None = None
        for scope in _scopes(guild_id):
            listed = self._names.get(scope, {}).get(key)
            if listed and (best is None or listed[-1][:2] > best[:2]):
                best = listed[-1]
        assert best is not None
        return self._crew_entry(self._articles[best[1]], best[2])

    @staticmethod
    def _crew_entry(rec: _Article, member: CrewRef) -> CrewEntry:
        return CrewEntry(member.name, member.agency, member.role, rec.article_id, rec.title, rec.published)

    # -----------------------------------------------------------------------------------------
    # Answering
    # -----------------------------------------------------------------------------------------
    def answer(self, question: str, *, guild_id: int | None) -> Answer:
        """Answer from global + this guild's articles; found=False rather than a guess."""
        qa = analyse_question(clean_question(question or ""))
        if not qa.text:
            return _not_found(qa, question or "")
        scopes = _scopes(guild_id)
        stations = qa.stations or {"iss"}
        with self._lock:
            try:
                result = None
                if not answering.names_a_mission(question):
                    result = self._answer_structured(qa, scopes, stations)
                near: list[int] = []
                if result is None:
                    result, near = self._answer_general(question, scopes)
                if result is None:
                    return _not_found(qa, question, self._titles(near))
            except Exception:  # an index bug must not take the command down with it
                log.exception("answering %r failed", question)
                result = None
        return result or _not_found(qa, question)

    def _answer_general(self, question: str, scopes: tuple[Scope, ...]) -> tuple[Answer | None, list[int]]:
        found, near = answering.find_or_nearest(self._sentences, question, scopes)
        if found is None:
            return None, near
        rec = self._articles[found.hit.article.article_id]
        return Answer(
            True,
            found.question.language,
            found.lead or found.quote,
            found.quote,
            rec.article_id,
            rec.title,
            rec.published,
            [rec.title],
            "value" if found.lead else "passage",
            quote_language=found.quote_language,
            question=question,
        ), []

    def _titles(self, article_ids: list[int]) -> list[str]:
        """Titles of the articles closest to an unanswered question: what the bot can talk about."""
        titles: list[str] = []
        for article_id in article_ids:
            rec = self._articles.get(article_id)
            if rec is not None and rec.title not in titles:
                titles.append(rec.title)
        return titles[:3]

    def _answer_structured(
        self, qa: QuestionAnalysis, scopes: tuple[Scope, ...], stations: set[str]
    ) -> Answer | None:
        """The station's key facts, its crew and its photos, from what the articles' parse extracted."""
        member = self._mentioned_member(qa, scopes)
        if member is not None and self._only_explained(qa, "crew_member", member):
            return self._answer_member(qa, member)
        intent = _intent(qa)
        return self._answer_intent(qa, intent, scopes, stations) if intent is not None else None

    # --- structured answers -------------------------------------------------------------------
    def _answer_intent(
        self, qa: QuestionAnalysis, intent: str, scopes: tuple[Scope, ...], stations: set[str]
    ) -> Answer | None:
        if intent == "temperature":
            return self._answer_temperature(qa, scopes, stations)
        if intent in ("crew_list", "crew_size"):
            answer = self._answer_crew(qa, intent, scopes, stations)
            if (
                answer is not None
                or intent == "crew_list"
                or qa.agencies
                or qa.concepts & {"commander", "engineer"}
            ):
                return answer
        if intent in ("photographer", "credit"):
            return self._answer_photo(qa, intent, scopes, stations)
        leftover = self._leftover(qa, intent)
        key = intent
        if intent == "continuous_presence_years" and "q_when" in qa.concepts:
            key = "continuous_presence_since"
        entry = self._best_fact(key, qa, scopes, stations, leftover)
        if entry is None and key == "continuous_presence_since":
            entry = self._best_fact("continuous_presence_years", qa, scopes, stations, leftover)
        if entry is None:
            return None
        said = Statement("fact", entry.fact, entry.article.station, self._companion(entry))
        return self._fact_answer(qa, entry, said, f"fact:{entry.fact.key}", scopes)

    def _answer_temperature(
        self, qa: QuestionAnalysis, scopes: tuple[Scope, ...], stations: set[str]
    ) -> Answer | None:
        c = qa.concepts
        wants_low = bool(c & {"cold", "low", "night", "q_how_cold"})
        wants_high = bool(c & {"hot", "high", "sun", "q_how_hot"})
        leftover = self._leftover(qa, "temperature")
        if "interior" in c:
            keys = ["temperature_interior"]
            leftover = [u for u in leftover if u.concept != "interior"]
        elif wants_low and not wants_high:
            keys = ["temperature_min"]
        elif wants_high and not wants_low:
            keys = ["temperature_max"]
        else:
            keys = ["temperature_min", "temperature_max"]
        entries = [self._best_fact(k, qa, scopes, stations, leftover) for k in keys]
        found = [e for e in entries if e is not None]
        if not found:
            return None
        if len(keys) == 2:
            low, high = entries
            if low is not None and high is not None and low.article is not high.article:
                # Never splice two articles into one range: take the other end from the same article.
                high = next(
                    (
                        e
                        for e in self._facts_of.get(low.article.article_id, ())
                        if e.fact.key == "temperature_max"
                    ),
                    None,
                )
            said = Statement(
                "temperature_range", low=low.fact if low else None, high=high.fact if high else None
            )
            main = low or high
            assert main is not None
            return self._fact_answer(qa, main, said, "fact:temperature", scopes)
        entry = found[0]
        said = Statement("fact", entry.fact, entry.article.station)
        return self._fact_answer(qa, entry, said, f"fact:{entry.fact.key}", scopes)

    def _fact_answer(
        self, qa: QuestionAnalysis, entry: _FactEntry, said: Statement, kind: str, scopes: tuple[Scope, ...]
    ) -> Answer:
        sources = [entry.article.title]
        stations = {entry.article.station} if entry.article.station else None
        for other in self._iter_facts(entry.fact.key, scopes, None, stations):
            if len(sources) >= 3:
                break
            if other.article.title not in sources:
                sources.append(other.article.title)
        return Answer(
            found=True,
            language=qa.language,
            text="",
            statement=said,
            quote=_clip(self._text(entry.article, entry.offset), MAX_QUOTE_CHARS),
            article_id=entry.article.article_id,
            article_title=entry.article.title,
            article_date=entry.article.published,
            sources=sources,
            kind=kind,
        )

    def _companion(self, entry: _FactEntry) -> FactRef | None:
        """A second fact worth saying in the same breath (countries with visitors, size with year)."""
        wanted = {"visitors": "countries", "first_crew_year": "first_crew_size"}.get(entry.fact.key)
        if wanted is None:
            return None
        for fact in entry.article.facts:
            if fact.key == wanted and fact.passage_index == entry.fact.passage_index:
                return fact
        return None

    def _iter_facts(
        self, key: str, scopes: tuple[Scope, ...], language: str | None, stations: set[str] | None
    ) -> Iterator[_FactEntry]:
        """Facts for a key, question language first, then newest first."""
        langs = [language, *(x for x in ("en", "zh") if x != language)] if language else ["en", "zh"]
        groups = [[self._facts.get((s, key, lang), []) for s in scopes] for lang in langs]
        if not language:
            groups = [[lst for grp in groups for lst in grp]]
        for lists in groups:
            positions = [len(lst) - 1 for lst in lists]
            while True:
                best_i = -1
                for i, lst in enumerate(lists):
                    if positions[i] >= 0 and (
                        best_i < 0 or lst[positions[i]] > lists[best_i][positions[best_i]]
                    ):
                        best_i = i
                if best_i < 0:
                    break
                entry = lists[best_i][positions[best_i]]
                positions[best_i] -= 1
                if stations is None or entry.article.station in stations or entry.article.station is None:
                    yield entry

    def _best_fact(
        self,
        key: str,
        qa: QuestionAnalysis,
        scopes: tuple[Scope, ...],
        stations: set[str],
        leftover: list[Unit],
    ) -> _FactEntry | None:
        if not leftover:
            return next(self._iter_facts(key, scopes, qa.language, stations), None)
        # Every word the intent does not explain must be in the fact's own sentence.
        best: tuple[tuple[int, tuple[int, int]], _FactEntry] | None = None
        for scope in scopes:
            for lang in ("en", "zh"):
                for entry in self._facts.get((scope, key, lang), ()):
                    station = entry.article.station
                    if station is not None and station not in stations:
                        continue
                    if not all(self._has_unit(entry.article, entry.offset, unit) for unit in leftover):
                        continue
                    rank = (int(entry.language == qa.language), entry.order)
                    if best is None or rank > best[0]:
                        best = (rank, entry)
        return best[1] if best else None

    def _leftover(self, qa: QuestionAnalysis, intent: str) -> list[Unit]:
        consumed = _CONSUMES.get(intent, set())
        out = []
        for unit in qa.content_units():
            if unit.concept and (unit.concept in consumed or unit.concept.split(":")[0] in consumed):
                continue
            out.append(unit)
        return out

    def _only_explained(self, qa: QuestionAnalysis, intent: str, member: CrewEntry) -> bool:
        name_tokens = set(_name_key(member.name).split())
        for unit in self._leftover(qa, intent):
            if unit.concept is None and unit.label.lower() in name_tokens:
                continue
            return False
        return (
            bool(qa.concepts & {"q_who", "q_which", "agency", "role", "commander", "engineer"})
            or not qa.units
        )

    def _answer_crew(
        self, qa: QuestionAnalysis, intent: str, scopes: tuple[Scope, ...], stations: set[str]
    ) -> Answer | None:
        if self._leftover_outside_roster(qa, intent):
            return None
        agency = next(iter(sorted(qa.agencies)), None)
        rec = self._latest(self._crew_articles, scopes, stations, None)
        if intent == "crew_size" and not agency:
            entry = next(self._iter_facts("crew_size", scopes, qa.language, stations), None)
            if entry is not None and (rec is None or entry.order >= rec.order):
                said = Statement("fact", entry.fact, entry.article.station)
                return self._fact_answer(qa, entry, said, "fact:crew_size", scopes)
        if rec is None:
            return None
        members = list(rec.crew)
        role = next((r for r in ("commander", "engineer") if r in qa.concepts), None)
        if role:
            members = [m for m in members if m.role and role in m.role]
        if agency:
            members = [m for m in members if m.agency == agency]
        if not members:
            return None
        if intent == "crew_size" and not agency:
            said = Statement("crew_count", members=tuple(members))
        else:
            said = Statement(
                "crew", members=tuple(members), agency=agency, role=role, count=intent == "crew_size"
            )
        quote = self._sentence_with(rec, members[0].name)
        return Answer(
            found=True,
            language=qa.language,
            text="",
            statement=said,
            quote=quote,
            article_id=rec.article_id,
            article_title=rec.title,
            article_date=rec.published,
            sources=[rec.title],
            kind="crew",
        )

    def _leftover_outside_roster(self, qa: QuestionAnalysis, intent: str) -> bool:
        """A crew question that also asks about something else ('crew of the Moon base') is not ours."""
        return any(
            u.concept is None or not u.concept.startswith("agency") for u in self._leftover(qa, intent)
        )

    def _answer_member(self, qa: QuestionAnalysis, member: CrewEntry) -> Answer:
        rec = self._articles[member.article_id]
        return Answer(
            found=True,
            language=qa.language,
            text="",
            statement=Statement("crew_member", members=(member.ref,)),
            quote=self._sentence_with(rec, member.name),
            article_id=rec.article_id,
            article_title=rec.title,
            article_date=rec.published,
            sources=[rec.title],
            kind="crew_member",
        )

    def _answer_photo(
        self, qa: QuestionAnalysis, intent: str, scopes: tuple[Scope, ...], stations: set[str]
    ) -> Answer | None:
        leftover = self._leftover(qa, intent)
        need_credit = intent == "credit"

        def usable(rec: _Article) -> bool:
            # Extra words ('of the Moon', 'during the flyaround') must be in the sentence we rely on.
            if need_credit:
                indexes: set[int | None] = set(rec.credit_passages)
                if not rec.credits:
                    return False
            elif rec.photographer is None:
                return False
            else:
                indexes = {rec.photographer_passage}
            return all(self._passages_have(rec, indexes, unit) for unit in leftover)

        rec = self._latest(self._photo_articles, scopes, stations, usable, language=qa.language)
        if rec is None:
            return None
        if need_credit:
            quote = self._passage_text(rec, next(iter(rec.credit_passages), None))
        else:
            quote = self._passage_text(rec, rec.photographer_passage)
        return Answer(
            found=True,
            language=qa.language,
            text="",
            statement=Statement(intent, credits=rec.credits, photographer=rec.photographer),
            quote=quote,
            article_id=rec.article_id,
            article_title=rec.title,
            article_date=rec.published,
            sources=[rec.title],
            kind=intent,
        )

    def _latest(
        self,
        table: dict[Scope, list[tuple[tuple[int, int], int]]],
        scopes: tuple[Scope, ...],
        stations: set[str] | None,
        accept: Any,
        *,
        language: str | None = None,
        limit: int = 200,
    ) -> _Article | None:
        """Newest article in a per-scope list that passes ``accept`` (question language first)."""
        candidates: list[_Article] = []
        for scope in scopes:
            listed = table.get(scope, [])
            for _order_key, article_id in reversed(listed[-limit:]):
                rec = self._articles[article_id]
                if stations is not None and rec.station is not None and rec.station not in stations:
                    continue
                if accept is not None and not accept(rec):
                    continue
                candidates.append(rec)
                if language is None or rec.language == language:
                    break
        if not candidates:
            return None
        return max(candidates, key=lambda r: (language is not None and r.language == language, r.order))

    def _sentence_count(self, rec: _Article) -> int:
        entry = self._sentences.articles[rec.article_id]
        return entry.last - entry.first

    def _text(self, rec: _Article, offset: int) -> str:
        return self._sentences.texts[self._sentences.articles[rec.article_id].first + offset] or ""

    def _offset(self, rec: _Article, index: int | None) -> int | None:
        """Where passage ``index`` of an article is among its sentences."""
        if index is None:
            return None
        if rec.passage_numbers is None:
            return index if 0 <= index < self._sentence_count(rec) else None
        try:
            return rec.passage_numbers.index(index)
        except ValueError:
            return None

    def _passage_text(self, rec: _Article, index: int | None) -> str | None:
        offset = self._offset(rec, index)
        return None if offset is None else _clip(self._text(rec, offset), MAX_QUOTE_CHARS)

    def _sentence_with(self, rec: _Article, needle: str) -> str | None:
        for offset in range(self._sentence_count(rec)):
            text = self._text(rec, offset)
            if needle in text:
                return _clip(text, MAX_QUOTE_CHARS)
        return None

    def _passages_have(self, rec: _Article, indexes: set[int | None], unit: Unit) -> bool:
        offsets = (self._offset(rec, index) for index in indexes)
        return any(offset is not None and self._has_unit(rec, offset, unit) for offset in offsets)

    def _has_unit(self, rec: _Article, offset: int, unit: Unit) -> bool:
        """Whether a sentence has every term of a lexicon unit (terms computed on first use, then kept)."""
        key = (rec.article_id, offset)
        terms = self._old_terms.get(key)
        if terms is None:
            terms = self._old_terms[key] = index_terms(self._text(rec, offset))
        return all(t in terms for t in unit.terms)

    def _mentioned_member(self, qa: QuestionAnalysis, scopes: tuple[Scope, ...]) -> CrewEntry | None:
        words = [w.lower() for w in qa.latin_words]
        if not words:
            return None
        hits: dict[str, int] = {}
        for scope in scopes:
            for word in words:
                for key in self._name_tokens.get((scope, word), ()):
                    hits[key] = hits.get(key, 0) + 1
        if not hits:
            return None
        best = max(hits.values())
        top = [k for k, v in hits.items() if v == best]
        if len(top) != 1:
            return None
        key = top[0]
        parts = key.split()
        if best < 2 and (len(parts) > 1 and words.count(parts[-1]) == 0):
            return None  # a first name alone is not enough
        return self._newest_member(key, scopes[-1])

    # --- passage retrieval --------------------------------------------------------------------
    def articles(self, guild_id: int | None) -> list[tuple[int, str]]:
        """(article_id, title) of every article a guild can see, newest first."""
        with self._lock:
            visible = [r for r in self._articles.values() if r.scope is None or r.scope == guild_id]
            return [(r.article_id, r.title) for r in sorted(visible, key=lambda r: r.order, reverse=True)]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "articles": len(self._articles),
                "passages": self._sentences.live,
                "terms": self._sentences.stats()["terms"],
            }


# Index terms that name each station (see STATIONS in the lexicon for the display names); the
# International Space Station spelt out is "internat" + "station".
_STATION_OF_TERM = {
    "iss": "iss",
    "国际空间站": "iss",
    "tiangong": "tiangong",
    "天宫": "tiangong",
    "中国空间站": "tiangong",
    "mir": "mir",
    "和平号": "mir",
    "skylab": "skylab",
    "天空实验室": "skylab",
}
_SPELT_OUT = frozenset({stem("international"), "station"})
_STATION_TERMS = frozenset(_STATION_OF_TERM) | _SPELT_OUT


def _station_of(title_terms: Iterable[str], sentence_terms: Iterable[Iterable[str]]) -> str | None:
    """The station an article is about: the one most of its sentences name (the title counts twice)."""
    counts: dict[str, int] = {}
    title = list(title_terms)
    for terms in (title, title, *sentence_terms):
        present = _STATION_TERMS.intersection(terms)
        if not present:
            continue
        named = {_STATION_OF_TERM[t] for t in present if t in _STATION_OF_TERM}
        if _SPELT_OUT <= present:
            named.add("iss")
        for station in named:
            counts[station] = counts.get(station, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None


_MONTH_NAMES = "january february march april may june july august september october november december".split()


def _date_terms(published: dt.date) -> list[str]:
    return [str(published.year), stem(_MONTH_NAMES[published.month - 1]), str(published.month)]


def _first_two(item: tuple[Any, ...]) -> tuple[Any, ...]:
    return item[:2]


def _scopes(guild_id: int | None) -> tuple[Scope, ...]:
    return (None,) if guild_id is None else (None, guild_id)


@functools.lru_cache(maxsize=65536)
def _name_key(name: str) -> str:
    return " ".join(normalize_text(name).casefold().replace(".", " ").split())


__all__ = [
    "FACT_CARD_KEYS",
    "Answer",
    "CrewEntry",
    "KeyFact",
    "KnowledgeIndex",
    "Statement",
]
