"""Turn passages and questions into index terms, the same way for both sides.

Terms are: English light stems ("orbit"), Chinese characters and bigrams ("轨道", "轨"), and
language-neutral concepts ("@orbit") from the bilingual lexicon.  Concepts are what let a Chinese
question find an English sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge.lexicon import (
    EN_STOPWORDS,
    FRAME_CONCEPTS,
    HAN_RE,
    LATIN_WORD_RE,
    LEXICON,
    ZH_STOPWORDS,
    concept_parents,
    detect_language,
    normalize_text,
    stem,
)

_HAN_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ZH_STOP_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _w in ZH_STOPWORDS:
    _ZH_STOP_BY_FIRST.setdefault(_w[0], ())
    _ZH_STOP_BY_FIRST[_w[0]] = (*_ZH_STOP_BY_FIRST[_w[0]], _w)
_ZH_EXTRA_STOP_CHARS = frozenset("做来去很更才再用出到最啦嘞咯么样种面")


def concept_term(concept: str) -> str:
    return "@" + concept


@dataclass(frozen=True)
class Token:
    """One English word of a text, with its stem and (if any) the concept it belongs to."""

    text: str
    stem: str
    concept: str | None
    start: int
    capitalised: bool
    stop: bool


def _latin_tokens(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for match in LATIN_WORD_RE.finditer(text):
        raw = match.group(0).replace("’", "'")
        start = match.start()
        low = raw.lower()
        if low.endswith("'s"):
            raw, low = raw[:-2], low[:-2]
        if "-" in low:
            parts = low.split("-")
            if len(parts) == 2 and parts[0].isalpha() and parts[1].isdigit():
                out.append((raw, start))
                continue
            offset = 0
            for part in raw.split("-"):
                if part:
                    out.append((part, start + offset))
                offset += len(part) + 1
            continue
        if raw:
            out.append((raw.strip("'"), start))
    return [(t, s) for t, s in out if t]


def en_analyse(text: str) -> list[Token]:
    """Greedy longest phrase match of English words onto concepts; other words keep their stem."""
    raw = _latin_tokens(text)
    stems = [stem(t) for t, _ in raw]
    out: list[Token] = []
    i = 0
    n = len(raw)
    max_len = LEXICON.en_max_len
    while i < n:
        matched = 0
        concept = None
        for length in range(min(max_len, n - i), 1, -1):
            key = tuple(stems[i : i + length])
            hit = LEXICON.en_phrases.get(key)
            if hit is not None:
                matched, concept = length, hit
                break
        if matched:
            words = " ".join(t for t, _ in raw[i : i + matched])
            out.append(
                Token(
                    words,
                    " ".join(stems[i : i + matched]),
                    concept,
                    raw[i][1],
                    raw[i][0][:1].isupper(),
                    False,
                )
            )
            i += matched
            continue
        word, start = raw[i]
        low = word.lower()
        concept = LEXICON.en_phrases.get((stems[i],))
        is_stop = low in EN_STOPWORDS
        if is_stop and concept not in LEXICON.question_concepts:
            concept = None
        out.append(Token(word, stems[i], concept, start, word[:1].isupper(), is_stop and concept is None))
        i += 1
    return out


def zh_segment(run: str) -> list[tuple[str, str | None, bool]]:
    """Forward maximum matching of a Han run: (text, concept or None, is_stopword) pieces."""
    out: list[tuple[str, str | None, bool]] = []
    i = 0
    while i < len(run):
        ch = run[i]
        best_word, best_concept = "", None
        for word in LEXICON.zh_by_first.get(ch, ()):
            if run.startswith(word, i):
                best_word, best_concept = word, LEXICON.zh_words[word]
                break
        best_stop = ""
        for word in _ZH_STOP_BY_FIRST.get(ch, ()):
            if run.startswith(word, i) and len(word) > len(best_stop):
                best_stop = word
        if best_word and len(best_word) >= len(best_stop):
            out.append((best_word, best_concept, False))
            i += len(best_word)
        elif best_stop:
            out.append((best_stop, None, True))
            i += len(best_stop)
        else:
            out.append((ch, None, ch in _ZH_EXTRA_STOP_CHARS))
            i += 1
    return out


def han_ngrams(run: str) -> set[str]:
    grams = set(run)
    grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def index_terms(text: str) -> set[str]:
    """Every term a passage should be found by: stems, concepts, Han unigrams and bigrams."""
    text = normalize_text(text)
    terms: set[str] = set()
    for tok in en_analyse(text):
        if tok.concept:
            terms.update(concept_term(c) for c in concept_parents(tok.concept))
        elif not tok.stop:
            terms.add(tok.stem)
    for match in _HAN_RUN_RE.finditer(text):
        run = match.group(0)
        terms.update(han_ngrams(run))
        for i, ch in enumerate(run):
            for word in LEXICON.zh_by_first.get(ch, ()):
                if run.startswith(word, i):
                    terms.update(concept_term(c) for c in concept_parents(LEXICON.zh_words[word]))
    return terms


@dataclass(frozen=True)
class Unit:
    """One thing the question asks to be present: a concept, an English stem or a Chinese chunk.

    A passage has the unit when it has every term in ``terms``.
    """

    label: str
    terms: tuple[str, ...]
    concept: str | None = None
    is_name: bool = False


@dataclass
class QuestionAnalysis:
    """What a question is made of, computed once per question."""

    text: str
    language: str
    concepts: set[str] = field(default_factory=set)
    units: list[Unit] = field(default_factory=list)
    stations: set[str] = field(default_factory=set)
    agencies: set[str] = field(default_factory=set)
    latin_words: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    def content_units(self) -> list[Unit]:
        """Units that carry meaning (frame concepts such as 'who' or 'the station' dropped)."""
        return [u for u in self.units if u.concept is None or u.concept not in FRAME_CONCEPTS]


def analyse_question(question: str) -> QuestionAnalysis:
    text = normalize_text(question).strip()
    qa = QuestionAnalysis(text=text, language=detect_language(text))
    seen: set[tuple[str, ...]] = set()

    def add_unit(unit: Unit) -> None:
        if unit.terms in seen:
            return
        seen.add(unit.terms)
        qa.units.append(unit)

    def add_concept(concept: str, label: str) -> None:
        qa.concepts.update(concept_parents(concept))
        if concept.startswith("station:"):
            qa.stations.add(concept.split(":", 1)[1])
            concept_for_unit = "station"
        else:
            concept_for_unit = concept
        if concept.startswith("agency:"):
            qa.agencies.add(concept.split(":", 1)[1])
        add_unit(Unit(label, (concept_term(concept),), concept_for_unit))

    tokens = en_analyse(text)
    for idx, tok in enumerate(tokens):
        if tok.concept:
            add_concept(tok.concept, tok.text)
            continue
        if tok.stop:
            continue
        if tok.stem.isdigit():
            qa.numbers.append(tok.stem)
        qa.latin_words.append(tok.text)
        first_word = idx == 0 or text[: tok.start].rstrip().endswith(("?", ".", "!"))
        is_name = (tok.capitalised and not first_word) or (qa.language == "zh" and tok.text.isalpha())
        add_unit(Unit(tok.text, (tok.stem,), None, is_name))
    for match in _HAN_RUN_RE.finditer(text):
        chunk = ""
        for piece, concept, is_stop in [*zh_segment(match.group(0)), ("", None, True)]:
            if concept:
                add_concept(concept, piece)
            if concept or is_stop:
                if chunk:
                    grams = sorted({chunk[i : i + 2] for i in range(len(chunk) - 1)} or {chunk})
                    add_unit(Unit(chunk, tuple(grams)))
                chunk = ""
                continue
            chunk += piece
    # Latin words that are also question words only frame the question.
    qa.latin_words = [w for w in qa.latin_words if w.lower() not in EN_STOPWORDS]
    return qa


def has_han(text: str) -> bool:
    return bool(HAN_RE.search(text))
