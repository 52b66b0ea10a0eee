"""The sentence index: postings from terms to sentences, and the scoring that ranks them for a question.

Every sentence of every article gets an id in one growing table (ids only increase, so each term's
postings are a sorted ``array('I')``). A removed article leaves tombstones that are skipped and
reclaimed by :meth:`SentenceIndex.compact`. A question arrives as *concepts* (one per question word:
the word and its synonyms and translations, any of which may match); a sentence scores by the
rarity-weighted share of concepts it covers, itself (full credit), through its neighbours in the same
paragraph or the article's title (partial credit, so "Crew-7" in the title or the sentence before
still counts), or not at all.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Scope = int | None

# Credit for a concept found next to the sentence rather than in it.
NEIGHBOUR_CREDIT = 0.6
TITLE_CREDIT = 0.6
# A designator ("HTV-7") named somewhere in an article that names no other of its kind (no "HTV-6"): the
# whole article is about it, though a sentence far from the name says "the cargo ship".
ARTICLE_CREDIT = 0.5
TRANSLATION_CREDIT = 0.85  # a dictionary rendering is a little less sure than the word itself
_COMMON_SHARE = 0.04  # concepts in more than 4% of sentences are checked, not iterated
_CANDIDATES = 40
_COMMON_SCAN = 1000
_GENERATORS = 3  # concepts whose postings are read to find candidates
FUZZY_CUTOFF = 84  # rapidfuzz ratio: one or two letters off in a name of eight
ABSENT_WEIGHT = 1.0


@dataclass
class Concept:
    """One question word and the index terms that count as it (synonyms, translations)."""

    label: str
    alternatives: frozenset[str]
    entity: bool = False  # a named thing that must be in the article (mission, person, module)
    strict: bool = False  # a designator such as "crew-7": only its sentence, neighbours or title count
    focus: bool = False  # the thing asked about: an answer must mention it
    weight_cap: float | None = None
    translations: frozenset[str] = frozenset()  # dictionary renderings in the other language
    selector: bool = False  # picks one value of a measure ("inside", "longest"): the sentence must say it
    phrase: bool = False  # a word of a many-word name ("European Robotic *Arm*"), itself a common word

    @property
    def every(self) -> frozenset[str]:
        return self.alternatives | self.translations


_Prepared = list[
    tuple[set[int], frozenset[str], float]
]  # per term group: sentences holding it, terms, credit


@dataclass
class ArticleEntry:
    article_id: int
    guild_id: Scope
    title: str
    first: int  # sentence ids first .. last - 1
    last: int
    title_terms: frozenset[str]
    paragraphs: array  # paragraph number of each sentence (array('H'))
    language: str


@dataclass
class Hit:
    sentence: int
    article: ArticleEntry
    score: float
    coverage: dict[str, float] = field(default_factory=dict)


class SentenceIndex:
    def __init__(self) -> None:
        self.texts: list[str | None] = []
        self.owner: array = array("Q")  # sentence id -> article id
        self.postings: dict[str, array] = {}
        self.title_postings: dict[str, set[int]] = {}  # title term -> article ids
        self.articles: dict[int, ArticleEntry] = {}
        self.live = 0
        self.dead = 0
        self.designators: dict[str, set[str]] = {}  # "crew" -> {"crew-7", "crew-8"}: ever indexed
        # what answering reads out of one article as a whole (its people by surname …), by article id and
        # kind: computed when first needed, dropped when the article changes
        self.derived: dict[int, dict[str, Any]] = {}
        self._vocabulary: dict[str, list[str]] = {}  # first letter -> words, for fuzzy matching
        self._vocabulary_size = -1

    # --- building ---------------------------------------------------------------------------
    def add(
        self,
        article_id: int,
        *,
        guild_id: Scope,
        title: str,
        title_terms: Iterable[str],
        sentences: Sequence[str],
        sentence_terms: Sequence[Iterable[str]],
        paragraphs: Sequence[int],
        language: str,
    ) -> None:
        self.remove(article_id)
        first = len(self.texts)
        for offset, (text, terms) in enumerate(zip(sentences, sentence_terms, strict=True)):
            sid = first + offset
            self.texts.append(text)
            self.owner.append(article_id)
            for term in set(terms):
                posting = self.postings.get(term)
                if posting is None:
                    posting = self.postings[term] = array("I")
                    name, dash, number = term.rpartition("-")
                    if dash and number[:1].isdigit():
                        self.designators.setdefault(name, set()).add(term)
                posting.append(sid)
        title_terms = frozenset(title_terms)
        for term in title_terms:
            self.title_postings.setdefault(term, set()).add(article_id)
        self.articles[article_id] = ArticleEntry(
            article_id,
            guild_id,
            title,
            first,
            len(self.texts),
            title_terms,
            array(
                "H",
                paragraphs if max(paragraphs, default=0) <= 65535 else [min(p, 65535) for p in paragraphs],
            ),
            language,
        )
        self.live += len(sentences)

    def remove(self, article_id: int) -> bool:
        self.derived.pop(article_id, None)
        entry = self.articles.pop(article_id, None)
        if entry is None:
            return False
        for sid in range(entry.first, entry.last):
            self.texts[sid] = None
        for term in entry.title_terms:
            owners = self.title_postings.get(term)
            if owners is not None:
                owners.discard(article_id)
                if not owners:
                    del self.title_postings[term]
        count = entry.last - entry.first
        self.live -= count
        self.dead += count
        if self.dead > 10_000 and self.dead > self.live:
            self.compact()
        return True

    def compact(self) -> None:
        """Drop removed sentences from every posting (ids stay; only the tombstones go)."""
        for term in list(self.postings):
            kept = array("I", (sid for sid in self.postings[term] if self.texts[sid] is not None))
            if kept:
                self.postings[term] = kept
            else:
                del self.postings[term]
        self.dead = 0

    # --- statistics -------------------------------------------------------------------------
    def df(self, term: str) -> int:
        posting = self.postings.get(term)
        return len(posting) if posting is not None else 0

    def idf(self, df: int) -> float:
        n = max(self.live, 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def concept_weight(self, concept: Concept) -> float:
        present = [self.df(t) for t in concept.every if self.df(t)]
        # A word no article uses at all counts, but less than the rarest real word: it may be phrasing.
        weight = self.idf(min(present)) if present else self.idf(0) * ABSENT_WEIGHT
        if concept.weight_cap is not None:
            weight = min(weight, concept.weight_cap)
        return weight

    def has(self, term: str, sid: int) -> bool:
        posting = self.postings.get(term)
        if not posting:
            return False
        i = bisect_left(posting, sid)
        return i < len(posting) and posting[i] == sid

    def in_article(self, terms: Iterable[str], entry: ArticleEntry) -> bool:
        if not entry.title_terms.isdisjoint(terms):
            return True
        for term in terms:
            posting = self.postings.get(term)
            if not posting:
                continue
            i = bisect_left(posting, entry.first)
            if i < len(posting) and posting[i] < entry.last:
                return True
        return False

    def articles_with(self, terms: Iterable[str]) -> set[int]:
        found: set[int] = set()
        for term in terms:
            for sid in self.postings.get(term, ()):
                if self.texts[sid] is not None:
                    found.add(self.owner[sid])
        for term in terms:
            found.update(self.title_postings.get(term, ()))
        return found

    # --- scoring ----------------------------------------------------------------------------
    def _hits(self, terms: Iterable[str], query: list[int], query_set: set[int]) -> set[int]:
        """The sentences of ``query`` (sorted) that hold one of ``terms``."""
        found: set[int] = set()
        for term in terms:
            posting = self.postings.get(term)
            if not posting:
                continue
            if len(posting) <= 8 * len(query):
                found.update(query_set.intersection(posting))  # a short posting: read it whole
            else:
                size = len(posting)
                for sid in query:  # a long one: look each queried sentence up
                    i = bisect_left(posting, sid)
                    if i < size and posting[i] == sid:
                        found.add(sid)
        return found

    def _prepare(self, concept: Concept, query: list[int], query_set: set[int]) -> _Prepared:
        """Which of the queried sentences hold the concept itself, and which a translation of it."""
        return [
            (self._hits(terms, query, query_set), terms, factor)
            for terms, factor in ((concept.alternatives, 1.0), (concept.translations, TRANSLATION_CREDIT))
            if terms
        ]

    @staticmethod
    def _credit(prepared: _Prepared, sid: int, entry: ArticleEntry) -> float:
        """Full credit for the concept in the sentence, partial in the title or a neighbour."""
        best = 0.0
        for hits, terms, factor in prepared:
            if sid in hits:
                credit = 1.0
            elif not entry.title_terms.isdisjoint(terms):
                credit = TITLE_CREDIT
            else:
                credit = 0.0
                para = entry.paragraphs[sid - entry.first]
                for other in (sid - 1, sid + 1, sid - 2):
                    if other in hits and entry.first <= other < entry.last:
                        if entry.paragraphs[other - entry.first] == para:
                            credit = NEIGHBOUR_CREDIT if other != sid - 2 else NEIGHBOUR_CREDIT * 0.75
                            break
            best = max(best, factor * credit)
        return best

    def _sole_designator(self, concept: Concept, entry: ArticleEntry) -> float:
        """:data:`ARTICLE_CREDIT` when the article names the designator and no other of the same name."""
        asked = concept.alternatives
        if not self.in_article(asked, entry):
            return 0.0
        for term in asked:
            for other in self.designators.get(term.rpartition("-")[0], ()):
                if other not in asked and self.in_article((other,), entry):
                    return 0.0
        return ARTICLE_CREDIT

    def search(self, concepts: Sequence[Concept], scopes: tuple[Scope, ...], limit: int = 30) -> list[Hit]:
        """Sentences ranked by weighted concept coverage, best first (only articles in ``scopes``)."""
        if not concepts:
            return []
        weights = [self.concept_weight(c) for c in concepts]
        total = sum(weights) or 1.0
        common_df = max(50, int(self.live * _COMMON_SHARE))
        rough: dict[int, float] = {}
        order = sorted(range(len(concepts)), key=lambda i: -weights[i])
        iterated = 0
        for i in order:
            concept = concepts[i]
            sizes = [self.df(t) for t in concept.every]
            if not any(sizes):
                continue  # a word no article uses finds nothing: it must not take a generator's place
            if sum(sizes) > common_df and iterated:
                continue
            iterated += 1
            if iterated > _GENERATORS:
                continue  # the rarest concepts find the candidates; the others only score them
            seen: set[int] = set()
            for term in concept.every:
                posting = self.postings.get(term, ())
                # A word in most sentences ("crew" alone) is read from the newest sentences only.
                seen.update(posting[-_COMMON_SCAN:] if len(posting) > _COMMON_SCAN else posting)
            weight = weights[i]
            get = rough.get
            if not rough:
                rough = dict.fromkeys(seen, weight)
                get = rough.get
            else:
                for sid in seen:
                    rough[sid] = get(sid, 0.0) + weight
            if len(seen) <= _COMMON_SCAN:  # the sentence after a match may carry the answer
                half = weight * 0.5
                for sid in seen:
                    rough[sid + 1] = get(sid + 1, 0.0) + half
            titled: set[int] = set()
            for term in concept.every:
                titled.update(self.title_postings.get(term, ()))
            if len(titled) <= 50:
                for article_id in titled:
                    titled_entry = self.articles[article_id]
                    for sid in range(titled_entry.first, titled_entry.last):
                        rough[sid] = rough.get(sid, 0.0) + weights[i] * 0.4
        allowed = set(scopes)
        chosen: list[tuple[int, ArticleEntry]] = []
        for sid in sorted(rough, key=rough.__getitem__, reverse=True):
            if len(chosen) >= _CANDIDATES:
                break
            if sid < 0 or sid >= len(self.texts) or self.texts[sid] is None:
                continue
            entry = self.articles.get(self.owner[sid])
            if entry is not None and entry.guild_id in allowed:
                chosen.append((sid, entry))
        # Every concept is looked up once for the candidates and the neighbours that may lend it.
        query_set = {other for sid, _ in chosen for other in (sid - 2, sid - 1, sid, sid + 1)}
        query = sorted(query_set)
        prepared = [self._prepare(c, query, query_set) for c in concepts]
        hits: list[Hit] = []
        for sid, entry in chosen:
            coverage = {}
            score = 0.0
            for concept, prep, weight in zip(concepts, prepared, weights, strict=True):
                credit = self._credit(prep, sid, entry)
                if not credit and concept.strict:
                    credit = self._sole_designator(concept, entry)
                coverage[concept.label] = credit
                score += weight * credit
            hits.append(Hit(sid, entry, score / total, coverage))
        hits.sort(key=lambda h: (-h.score, h.sentence))
        return hits[:limit]

    def refresh_vocabulary(self) -> None:
        """The words fuzzy matching compares with, by first letter (rebuilt when words were added)."""
        if len(self.postings) != self._vocabulary_size:
            self._vocabulary = {}
            for t in self.postings:
                if len(t) >= 4 and t.isascii() and t.isalpha():
                    self._vocabulary.setdefault(t[0], []).append(t)
            self._vocabulary_size = len(self.postings)

    def vocabulary(self, first: str) -> list[str]:
        """The articles' words of four letters or more that begin with ``first``."""
        self.refresh_vocabulary()
        return self._vocabulary.get(first, [])

    def closest_term(self, term: str) -> str | None:
        """A word of the articles spelt nearly like ``term`` ("Moghbelli" → "moghbeli"), or None."""
        from rapidfuzz import fuzz, process

        self.refresh_vocabulary()
        # A misspelt name keeps its first letter ("Moghbelli", "Pesket"): compare with those words only.
        words = self._vocabulary.get(term[:1], [])
        found = process.extractOne(term, words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return found[0] if found else None

    def stats(self) -> dict[str, int]:
        return {"articles": len(self.articles), "sentences": self.live, "terms": len(self.postings)}
