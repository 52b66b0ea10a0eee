"""What a question asks: its language, its type (who, when, how many …), its named things and its words.

Typed the way people type: greetings and fillers before the question ("hey bot, um,", "嗨，请问"),
no question mark, lower case, full-width punctuation, traditional characters. The words become
:class:`~bot.knowledge.retrieval.Concept`s carrying their synonyms and dictionary translations, so
the same question finds an English or a Chinese sentence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

import bot.knowledge.bilingual as bilingual
from bot.knowledge.retrieval import Concept
from bot.knowledge.text import (
    EN_STOPWORDS,
    HAN_RUN_RE,
    ZH_STOPWORDS,
    Term,
    has_han,
    known_word,
    language_of,
    normalise,
    stem,
    terms,
    zh_cut,
    zh_number,
    zh_words,
)

_EN_CHATTER = re.compile(
    r"^(?:(?:hey|hi|hello|yo|ok(?:ay)?|so|um+|uh+|er+m?|hmm+|well|quick question|question|bot|cupola|"
    r"please|pls|sorry|excuse me|i was wondering|i wonder|i'?m curious|just curious|can you tell me|"
    r"could you tell me|can you|could you|do you know|does anyone know|tell me|i want to know|"
    r"i'd like to know|quick one|random question|one more)\b[\s,.:;!?-]*)+",
    re.IGNORECASE,
)
_ZH_CHATTER = re.compile(
    r"^(?:(?:嗨|你好|您好|哈喽|哈罗|喂|请问|问一下|问下|我想问|想问一下|想问|我想知道|请告诉我|告诉我|那个|嗯|呃|额|"
    r"小助手|机器人)[\s,，、:：!！。~～]*)+"
)

_WHEN_TIME_EN = re.compile(r"\b(?:what|which) time\b|\bat what (?:time|hour)\b|\bwhat hour\b", re.I)
_WHEN_YEAR_EN = re.compile(r"\b(?:what|which) year\b|\bin what year\b|\bwhat yr\b", re.I)
_WHEN_EN = re.compile(
    r"\bwhen\b|\bwhat date\b|\b(?:what|which) (?:day|month)\b|\buntil when\b|\bhow soon\b", re.I
)
_WHO_EN = re.compile(
    r"\bwho(?:m|se)?\b|\b(?:which|what) (?:\w+ )?(?:company|agency|astronauts?|cosmonauts?|person|people|"
    r"chief|commander|administrator|official|crew ?members?|spokes(?:man|woman|person)|producer|director|"
    r"billionaire|organi[sz]ation|firm|businessman|entrepreneur)\b",
    re.I,
)
# "which Russian was riding home", "what American flew": a nationality standing for a person
_WHO_NATIONAL_EN = re.compile(
    r"\b(?:which|what) (?:russian|american|japanese|chinese|european|canadian|italian|french|german|indian|"
    r"british)s? (?!module|spacecraft|ship|rocket|capsule|vehicle|segment|agency|company|lab|cosmodrome|"
    r"site|space|cargo|part|side)[a-z]+\b",
    re.I,
)
_WHERE_EN = re.compile(
    r"\bwhere\b|\b(?:what|which) (?:part|region|area) of\b|\b(?:which|what) (?:\w+ )?(?:cosmodrome|site|city|country|place|port|pad|launchpad|"
    r"base|center|centre|location|spaceport|ocean|sea|state|town)\b|\bfrom which\b",
    re.I,
)
_QUANT_EN = re.compile(r"\bhow (?:many|much)\b|\bwhat (?:number|amount)\b", re.I)
_DURATION_EN = re.compile(
    r"\bhow long\b|\bfor how long\b|\bduration\b|\bhow much (?:\w+ )?time\b", re.I
)  # "how much spacewalking time had she logged"
_FAR_EN = re.compile(r"\bhow far\b|\bdistance\b", re.I)
_HIGH_EN = re.compile(r"\bhow (?:high|tall|low)\b|\baltitude\b", re.I)
_HOT_EN = re.compile(r"\bhow (?:hot|cold|warm|chilly)\b|\bwhat temperature\b", re.I)
_OLD_EN = re.compile(r"\bhow old\b|\bage\b", re.I)
_FAST_EN = re.compile(r"\bhow fast\b|\bspeed\b|\bhow quickly\b", re.I)
_WHY_EN = re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat caused\b", re.I)
_OFTEN_EN = re.compile(r"\bhow often\b|\bhow frequently\b", re.I)

_ZH_TIME = re.compile(r"几点|什么时间|几时|哪个时刻|时刻")
_ZH_YEAR = re.compile(r"哪一年|哪年|什么年份|几几年|何年|哪个年代|什么年代")
_ZH_WHEN = re.compile(r"什么时候|何时|哪天|哪一天|几月|哪个月|日期|几号")
_ZH_DURATION = re.compile(
    r"多久|多长时间|多少时间|几天|多少天|几个小时|几小时|多少小时|几分钟|多少分钟|几个月|多少个月|多少年|几年|持续"
)
_ZH_QUANT = re.compile(r"多少|几[个名位块次颗艘架项人条只]?|多重|多大")
_ZH_FAR = re.compile(r"多远|距离")
_ZH_HIGH = re.compile(r"多高|高度")
_ZH_OLD = re.compile(r"几岁|多大年纪|年龄")
_ZH_FAST = re.compile(r"多快|速度")
_ZH_WHO = re.compile(r"谁|哪位|哪些人|什么人|哪名|哪个人")
_ZH_WHERE = re.compile(r"哪里|哪儿|在哪|何处|什么地方|哪个(?:发射场|城市|国家|地方|基地|港口|中心)|哪座")
_ZH_WHY = re.compile(r"为什么|为何|原因|怎么会")
_ZH_UNIT = re.compile(
    r"(?:多少|几)(?:个)?([天日年月周次块名位人颗艘架项条只圈]|小时|分钟|公斤|千克|吨|公里|千米|米|英里|美元|元)"
)

# Question words that name the answer's kind; they are not searched for as words.
_TYPE_WORDS = frozenset(
    stem(w)
    for w in "time year date day month hour number amount much many long far high old fast often "
    "distance altitude speed age duration manyth manyeth big large wide size".split()
)
_ORDINAL = re.compile(
    r"第[一二三四五六七八九十百\d]+次?|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)"
)
ORDINAL_ANY = re.compile(
    r"第[一二三四五六七八九十百\d]+|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))\b",
    re.I,
)
_EN_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()
_ZH_NUMERAL_WORD = re.compile("[零〇一二两三四五六七八九十百千]+")
_DURATION_VERBS = frozenset(stem(w) for w in "last lasted take took taken".split())
_ZH_COUNT_RE = re.compile(r"([零〇一二两三四五六七八九十百千]+|\d+)(?:名|位|个|块|次|艘|颗|架|项|人)")
_EN_FOCUS_RE = re.compile(
    r"^(?:which|what)\s+(?:(?:is|was|are|were|did|does|do|will|has|have)\s+)?(?:the\s+|a\s+|an\s+)?([a-z][a-z-]+)",
    re.I,
)
_ZH_FOCUS_RE = re.compile(r"的([\u4e00-\u9fff]{2,8}?)(?:是|有|为)(?:多少|什么|谁|哪|几)")
# Nouns that name the kind of answer ("which *company*", "哪个*国家*") rather than the thing asked about.
_CLASS_NOUNS = frozenset(
    stem(w)
    for w in "company agency organization organisation firm person people astronaut astronauts cosmonaut "
    "country city place site spacecraft capsule rocket ship vehicle craft thing one kind type name".split()
)
_ZH_CLASS_NOUNS = frozenset("公司 机构 国家 城市 地方 人 宇航员 航天员 飞船 火箭 名字 东西".split())
_ROLE_RE = re.compile(
    r"\b(?:commander|administrator|chief|producer|spokes(?:man|woman|person)|pilot|director|photographer|"
    r"founder|ceo|president|(?<=the )head(?! out| off| back| home)|leader|captain|minister|filmmaker)\b",
    re.I,
)
_MASS_EN = re.compile(
    r"\bhow (?:much|heavy)\b.*\bweigh|\bhow heavy\b|\bmass of\b|\bweight of\b|"
    r"\bhow much (?:cargo|supplies|food|water|propellant|fuel|equipment|gear)\b",  # cargo is weighed
    re.I,
)
_WEIGHT_WORD_RE = re.compile(r"weigh|mass|heavy|多重|重量|质量", re.I)
_MASS_ZH = re.compile(r"多重|重量|质量|多少吨|多少公斤")
_MEASURE_EN = re.compile(
    r"^(?:what|which)(?:'s| is| was| are| were| will be)? (?:the |its |their )?(?:\w+ )?"
    r"(temperature|altitude|height|mass|weight|speed|distance|cost|price|length|duration|population|age)\b",
    re.I,
)
_EN_UNIT_RE = re.compile(r"\bhow (?:many|much)\s+(?:of\s+)?(?:the\s+)?([a-z][a-z-]+)", re.I)


@dataclass
class Question:
    text: str  # cleaned
    language: str
    qtype: str  # who when where why quantity duration distance height age speed what
    detail: str | None  # "time", "year", "money", "company" …
    unit: str | None  # the counted thing: "day", "orbit", 天 …
    concepts: list[Concept] = field(default_factory=list)
    words: set[str] = field(default_factory=set)  # terms of the question itself


def clean(question: str) -> str:
    text = normalise(question).strip()
    letters = [c for c in text if c.isascii() and c.isalpha()]
    if len(letters) > 12 and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        text = text.lower()  # A QUESTION TYPED IN CAPITALS: every word would look like a name
    for _ in range(3):
        stripped = _ZH_CHATTER.sub("", _EN_CHATTER.sub("", text)).strip()
        if stripped == text:
            break
        text = stripped
    return text.strip(" \t?？!！。.,，") or normalise(question).strip()


# "she became the how-manyth woman", "what number spacewalk was it": an ordinal is asked
_WHICH_NTH_EN = re.compile(r"\bhow[- ]many(?:e)?th\b|\bwhat number\b(?! of)", re.I)
_SIZE_EN = re.compile(r"\bhow (?:big|large|wide)\b|\bwhat size\b", re.I)
_REGION_EN = re.compile(r"\b(?:what|which) (?:part|region|area) of the (?:world|earth|globe|planet)\b", re.I)
_LEADING_WH = re.compile(r"\s*(where|when|who(?:m|se)?)\b", re.I)


def _qtype_en(text: str) -> tuple[str, str | None]:
    if _WHY_EN.search(text):
        return "why", None
    if _WHICH_NTH_EN.search(text):
        return "quantity", "ordinal"
    if _SIZE_EN.search(text):
        return "distance", "size"
    leading = _LEADING_WH.match(text)  # "Where will they land when they come home": the first word asks
    if (leading and leading.group(1).lower() == "where") or _REGION_EN.search(text):
        return "where", None
    if leading and leading.group(1).lower().startswith("who"):
        return "who", None
    if _WHEN_TIME_EN.search(text):
        return "when", "time"
    if _WHEN_YEAR_EN.search(text):
        return "when", "year"
    if _HOT_EN.search(text):
        return "quantity", "temperature"
    if _OLD_EN.search(text):
        return "age", None
    if _FAR_EN.search(text):
        return "distance", None
    if _HIGH_EN.search(text):
        return "height", None
    if _FAST_EN.search(text):
        return "speed", None
    if _OFTEN_EN.search(text):
        return "quantity", "often"
    if _DURATION_EN.search(text):
        # "How long is the arm?" may ask a length; "How long did the spacewalk last?" a time.
        return "duration", (
            "or_length" if re.search(r"\bhow long (?:is|was|are|were)\b", text, re.I) else None
        )
    if _MASS_EN.search(text):
        return "quantity", "mass"
    if _QUANT_EN.search(text):
        if re.search(r"\bhow much\b.*\b(?:cost|costs|pay|paid|price|money|worth|spend)\b", text, re.I):
            return "quantity", "money"
        return "quantity", None
    measure = _MEASURE_EN.search(text)
    if measure:
        word = measure.group(1).lower()
        return {
            "temperature": "quantity",
            "altitude": "height",
            "height": "height",
            "speed": "speed",
            "distance": "distance",
            "age": "age",
            "length": "distance",
            "duration": "duration",
        }.get(word, "quantity"), (
            "mass" if word in ("mass", "weight") else "money" if word in ("cost", "price") else None
        )
    if _WHO_EN.search(text) or _WHO_NATIONAL_EN.search(text):
        detail = "company" if re.search(r"\b(?:company|agency|organi[sz]ation|firm)\b", text, re.I) else None
        return "who", detail
    when = _WHEN_EN.search(text)
    # "what other crew ship was parked there when Starliner arrived": a what-question, "when" joins a clause
    if when and not (when.group(0).lower() == "when" and re.match(r"\s*(?:what|which)\b", text, re.I)):
        return "when", None
    if _WHERE_EN.search(text):
        return "where", None
    return "what", None


def _qtype_zh(text: str) -> tuple[str, str | None]:
    if _ZH_WHY.search(text):
        return "why", None
    if re.search(r"第几", text):  # 第几次, 第几位: an ordinal is asked
        return "quantity", "ordinal"
    if _ZH_TIME.search(text):
        return "when", "time"
    if _ZH_YEAR.search(text):
        return "when", "year"
    if _ZH_WHEN.search(text):
        return "when", None
    if re.search(r"多热|多冷|多少度|温度", text):
        return "quantity", "temperature"
    if _ZH_OLD.search(text):
        return "age", None
    if _ZH_FAR.search(text):
        return "distance", None
    if _ZH_HIGH.search(text):
        return "height", None
    if _ZH_FAST.search(text):
        return "speed", None
    if _ZH_DURATION.search(text):
        return "duration", None
    if _ZH_WHO.search(text):
        return "who", None
    if _ZH_WHERE.search(text):
        return "where", None
    if _MASS_ZH.search(text):
        return "quantity", "mass"
    if _ZH_QUANT.search(text):
        if re.search(r"钱|费用|花费|成本|造价|价格", text):
            return "quantity", "money"
        return "quantity", None
    return "what", None


def _unit(text: str, language: str) -> str | None:
    if language == "zh":
        match = _ZH_UNIT.search(text)
        if match:
            return match.group(1)
        counted = re.search(r"(?:多少|几)个([\u4e00-\u9fff]+)", text)  # 多少个舱段: 舱段 are counted
        if counted:
            words = [w for w in zh_cut(counted.group(1)) if w.strip()]
            return words[0] if words and len(words[0]) >= 2 else None
        return None
    match = _EN_UNIT_RE.search(text)
    if match and match.group(1).lower() not in EN_STOPWORDS:
        return stem(match.group(1).lower())
    return None


def _alternatives_en(term: str) -> tuple[set[str], set[str]]:
    """(the word and its synonyms, its Chinese renderings)."""
    book = bilingual.load()
    same = {term, *book.synonyms.get(term, ())}
    other: set[str] = set()
    for word in list(same):
        for zh in book.en_zh.get(word, ())[:_TRANSLATIONS]:
            other.add(zh)
            other.update(book.synonyms.get(zh, ()))
    return same, other - same


def _alternatives_zh(word: str) -> tuple[set[str], set[str]]:
    """(the word, its parts and synonyms, its English renderings)."""
    book = bilingual.load()
    same = {word, *book.synonyms.get(word, ())}
    for part in zh_words(word):
        if len(part) >= 2 and part != word and part not in ZH_STOPWORDS:
            same.add(part)
            same.update(book.synonyms.get(part, ()))
    number = _ZH_COUNT_RE.fullmatch(word)
    if number and zh_number(number.group(1)) is not None:
        same.add(str(zh_number(number.group(1))))
    other: set[str] = set()
    for zh in list(same):
        for en in book.zh_en.get(zh, ())[:_TRANSLATIONS]:
            if en not in EN_STOPWORDS:
                other.add(en)
                other.update(book.synonyms.get(en, ()))
    return same, other - same


_TRANSLATIONS = 4


CALENDAR = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday".split()
)


def _proper_en(original: str, phrases: set[str]) -> tuple[set[str], set[str]]:
    """Terms of capitalised words after the first: (names that must be in the article, given names).

    In "Tom Marshburn" only the surname must be found ("Thomas Marshburn", "Marshburn" in the article);
    the given name helps the ranking but is not required.
    """
    required: set[str] = set()
    given: set[str] = set()
    phrases.clear()
    for match in re.finditer(
        r"(?<![A-Za-z0-9'])[A-Z][A-Za-z0-9'’.-]*(?:\s+[A-Z][A-Za-z0-9'’.-]*)*", original
    ):
        words = match.group(0).split()
        before = original[: match.start()].strip()
        if not before and not re.search(r"\d", words[0]) and not words[0].isupper():
            words = words[1:]  # the question's first word is capitalised anyway
        found = [
            t.term
            for w in words
            if w.lower().strip(".") not in CALENDAR  # "the March spacewalk": a month, not a name
            for t in terms(normalise(w))
            if t.term not in EN_STOPWORDS
        ]
        if not found:
            continue
        people_like = len(found) >= 2 and all(
            w[:1].isupper() and w[1:].islower() and w.isalpha() for w in words[-2:]
        )  # "Tom Marshburn", not "Crew-1 Dragon"
        if people_like:
            given.update(found[:-1])
            required.add(found[-1])
        else:
            required.update(found)
        if len(found) >= 2:
            phrases.update(found)
    return required - given, given


# Characters that start or end a phrase jieba's HMM glued together ("上待"), never a name.
_ZH_PARTICLES = frozenset(
    "上下里中内外在待了的着过把被将和与给对从向是有要会能就都也又还去来到按没不可应该已曾再才让使往为因由自以及或"
    "而且但并总共每各全支位个次迎这那此该本其某"
)


def _proper_zh(run: str) -> set[str]:
    """Names in a Chinese question: dictionary words tagged as names (and not also common words), and
    words the dictionary doesn't know at all (jieba's HMM finds them: usually transliterated names)."""
    book = bilingual.load()
    found: set[str] = set()
    for word in zh_cut(run):
        if len(word) < 2 or word in ZH_STOPWORDS or not has_han(word):
            continue
        tagged = book.zh_tags.get(word, ("",))[0] != ""
        unknown = not known_word(word) and word[0] not in _ZH_PARTICLES and word[-1] not in _ZH_PARTICLES
        if (tagged and (word not in book.zh_en or word in book.zh_proper)) or unknown:
            found.add(word)
    return found


def analyse(question: str) -> Question:
    """The question's analysis: a copy of the remembered one (answering may add spellings to concepts)."""
    known = _analysed(question)
    return replace(known, concepts=[replace(c) for c in known.concepts], words=set(known.words))


@functools.lru_cache(maxsize=512)
def _analysed(question: str) -> Question:
    bilingual.load()
    text = clean(question)
    language = language_of(text)
    qtype, detail = _qtype_zh(text) if language == "zh" else _qtype_en(text)
    unit = _unit(text, language)
    phrase_words: set[str] = set()  # words of a many-word name ("European Robotic Arm")
    proper, given_names = _proper_en(text, phrase_words)
    for run in HAN_RUN_RE.findall(text):
        proper |= _proper_zh(run)
    concepts: list[Concept] = []
    designator_names = {t.term.rpartition("-")[0] for t in terms(text) if "-" in t.term}  # 神舟 of 神舟-13
    first_of = {stem(m.group(1).lower()) for m in re.finditer(r"\b(?:first|last) ([a-z]+)", text, re.I)}
    seen: set[str] = set()
    words: set[str] = set()

    def add(term: Term, alternatives: tuple[set[str], set[str]]) -> None:
        if term.term in seen:
            return
        seen.add(term.term)
        words.add(term.term)
        strict = bool(re.search(r"-\d", term.term))
        # an ordinal ("第二次", "second") tells one event from another like a designator: it must be there
        # (unless the question offers several: "her first, second or third?")
        ordinal = bool(_ORDINAL.fullmatch(term.term)) and len(ORDINAL_ANY.findall(text)) == 1
        named = term.term in proper or (
            term.zh and term.term in _vehicles() and term.term not in designator_names
        )
        entity = strict or (named and term.term not in _peoples()) or ordinal
        cap = 1.0 if term.term in given_names or term.term in _light() else None
        same, other = alternatives
        if ordinal and term.zh:
            number = zh_number(re.sub("[第次]", "", term.term))
            if number is not None and 1 <= number <= len(_EN_ORDINALS):
                other = {*other, _EN_ORDINALS[number - 1]}  # 第九次 ↔ ninth
        concepts.append(
            Concept(
                term.term,
                frozenset(same),
                entity=entity,
                strict=strict,
                weight_cap=cap,
                translations=frozenset(other),
                # an ordinal tells one event of several ("the first woman to walk in space"): said in the sentence
                phrase=term.term in phrase_words,
                selector=ordinal
                # "who was the first woman to …": first, and what it was the first of, in the sentence
                or (qtype == "who" and (term.term in ("first", "last") or term.term in first_of))
                or term.term in _selectors()
                or (term.term in _sides() and _asks_a_measure(text)),
            )
        )

    pos = 0
    pieces: list[tuple[bool, str]] = []
    for match in HAN_RUN_RE.finditer(text):
        pieces.append((False, text[pos : match.start()]))
        pieces.append((True, match.group(0)))
        pos = match.end()
    pieces.append((False, text[pos:]))
    for is_han, piece in pieces:
        if not piece.strip():
            continue
        if is_han:
            designated = False
            for t in terms(piece):  # designators first (神舟-13), then words
                if "-" in t.term:
                    add(t, (_designator_alternatives(t.term), set()))
                    designated = True
            book = bilingual.load()
            for word in zh_cut(piece):
                if word in ZH_STOPWORDS or not word.strip() or _is_question_zh(word):
                    continue
                if designated and (word == "号" or _ZH_NUMERAL_WORD.fullmatch(word)):
                    continue  # the number of 神舟十三号 is in its designator
                if len(word) == 1 and word not in book.synonyms and word != unit:
                    continue  # 上, 待, 去: single characters are too ambiguous to search for
                add(Term(word, word, True), _alternatives_zh(word))
            if unit and unit not in seen and has_han(unit):
                add(Term(unit, unit, True), _alternatives_zh(unit))
        else:
            found = terms(piece)
            # "Hermes 6" is its designator (hermes-6), not the words "hermes" and "6" besides
            parts = {w for t in found if "-" in t.term and " " in t.surface for w in t.surface.split()}
            region = _REGION_EN.search(piece)  # "over what part of the world": the type, not the topic
            asked_kind = {t.term for t in terms(region.group(0))} if region else set()
            for t in found:
                if t.surface in parts or t.term in asked_kind:
                    continue
                if t.term in _TYPE_WORDS and t.term != unit:
                    continue
                if qtype == "duration" and t.term in _DURATION_VERBS:
                    continue  # "how long did it *last* / *take*": the question's type, not its topic
                if "-" in t.term:
                    add(t, (_designator_alternatives(t.term), set()))
                else:
                    add(t, _alternatives_en(t.term))
    focus = _focus(text, language, qtype, detail, unit)
    if focus is not None:
        for concept in concepts:
            if concept.label == focus or focus in concept.every:
                concept.focus = True
                break
        else:
            if focus == "weigh":
                same, other = _alternatives_en("weigh")
                concepts.append(Concept("weigh", frozenset(same), focus=True, translations=frozenset(other)))
    measure = _MEASURE_OF.get(qtype)
    if measure is not None and not any(measure in c.every for c in concepts):
        # "how high does it fly": a sentence saying "altitude" says what is asked; it helps, never required
        same, other = _alternatives_en(measure)
        concepts.append(Concept(measure, frozenset(same), weight_cap=1.0, translations=frozenset(other)))
    return Question(text, language, qtype, detail, unit, concepts, words)


_MEASURE_OF = {"height": "altitud", "speed": "speed", "distance": "distanc"}


def _focus(text: str, language: str, qtype: str, detail: str | None, unit: str | None) -> str | None:
    """The thing asked about ("which *module*", "the *weather*", "how many *orbits*"): it must be matched."""
    if detail == "mass" and _WEIGHT_WORD_RE.search(text):
        return "weigh"
    if unit:
        return unit
    if language == "zh":
        if qtype in ("when", "where"):
            return _event_of(text, language)
        match = _ZH_FOCUS_RE.search(text)
        if not match:
            return None
        words = [w for w in zh_cut(text[: match.end(1)]) if w.strip()]
        word = words[-1] if words else None
        return word if word and len(word) >= 2 and word not in _ZH_CLASS_NOUNS else None
    if qtype in ("when", "where"):
        event = _event_of(text, language)
        if event is not None:
            return event
    if qtype == "who":
        role = _ROLE_RE.search(text)
        return stem(role.group(0).lower()) if role else None
    match = _EN_FOCUS_RE.match(text)
    if not match:
        return None
    word = match.group(1).lower()
    if word in EN_STOPWORDS or re.search(r"\d", word):
        return None
    term = stem(word)
    if term in _peoples():  # "which *Russian* module": the module is asked about
        after = re.match(r"\s*([a-z][a-z-]+)", text[match.end(1) :], re.I)
        if after is None or after.group(1).lower() in EN_STOPWORDS:
            return None
        term = stem(after.group(1).lower())
    return None if term in _TYPE_WORDS or term in _CLASS_NOUNS else term


@functools.cache
def _light() -> frozenset[str]:
    return frozenset(stem(w) for w in bilingual.word_list("light"))


@functools.cache
def _peoples() -> frozenset[str]:
    return frozenset(w if has_han(w) else stem(w.lower()) for w in bilingual.word_list("peoples"))


def is_people_word(term: str) -> bool:
    """A country or its people ("russian", "俄罗斯")."""
    return term in _peoples()


@functools.cache
def _selectors() -> frozenset[str]:
    return frozenset(w if has_han(w) else stem(w) for w in bilingual.word_list("selectors"))


@functools.cache
def _sides() -> frozenset[str]:
    return frozenset(w if has_han(w) else stem(w) for w in bilingual.word_list("sides"))


_MEASURE_WORDS = re.compile(
    r"temperature|pressure|altitude|height|speed|weigh|mass|温度|气温|压力|气压|高度|速度|重量|质量", re.I
)


def _asks_a_measure(text: str) -> bool:
    return bool(_MEASURE_WORDS.search(text))


@functools.cache
def _vehicles() -> frozenset[str]:
    """Chinese names of spacecraft and modules."""
    return frozenset(w for w in bilingual.word_list("vehicles") if has_han(w))


@functools.cache
def _latin_vehicles() -> frozenset[str]:
    return frozenset(w for w in bilingual.word_list("vehicles") if not has_han(w))


def vehicles_named(sentence: str) -> set[str]:
    """The spacecraft and modules a sentence names (Latin ones only when capitalised)."""
    found = {w for w in re.findall(r"\b[A-Z][A-Za-z]+\b", sentence) if w in _latin_vehicles()}
    text = normalise(sentence)
    found.update(w for w in _vehicles() if w in text)
    return found


@functools.cache
def _events() -> tuple[frozenset[str], tuple[str, ...]]:
    words = bilingual.word_list("events")
    return frozenset(stem(w) for w in words if not has_han(w)), tuple(w for w in words if has_han(w))


def is_event(word: str) -> bool:
    """Whether a (stemmed) word names what happens to a mission: launch, dock, 发射 …"""
    latin, chinese = _events()
    return word in latin or word in chinese


def event_words_zh() -> tuple[str, ...]:
    return _events()[1]


def _event_of(text: str, language: str) -> str | None:
    """The event a when/where question asks about ("When did Crew-8 *dock*"), if it names one."""
    latin, chinese = _events()
    if language == "zh":
        return next((w for w in zh_cut(text) if w in chinese), None)
    return next((t.term for t in terms(normalise(text)) if t.term in latin), None)


def _designator_alternatives(term: str) -> set[str]:
    """crew-7 ↔ crew-7; shenzhou-13 ↔ 神舟-13; 联盟-20 (rare) ↔ soyuz-20."""
    name, _, number = term.rpartition("-")
    book = bilingual.load()
    found = {term}
    for other in book.synonyms.get(name, ()):
        found.add(f"{other}-{number}")
    return found


_ZH_QUESTION_WORDS = frozenset(
    "多少 几 多久 多长 多长时间 什么 哪 哪个 哪些 哪里 哪儿 谁 为什么 为何 怎么 怎样 如何 何时 哪天 哪年 几点 "
    "什么时候 什么样 多大 多高 多远 多快 几岁 几天 几个 一共 总共 时间".split()
)


def _is_question_zh(word: str) -> bool:
    # 多少钱, 多少次, 几个人: the question's own words, never a thing to look for
    return word in _ZH_QUESTION_WORDS or bool(re.fullmatch(r"(?:多少|[几多哪])[\u4e00-\u9fff]{0,2}", word))
