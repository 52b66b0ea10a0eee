"""From a question to an answer: rank sentences, check the named things, read out the value, or abstain.

The rules that keep answers honest:
- every named thing of the question (a mission such as Crew-7 or 神舟十三号, a person, a module) must be
  in the supporting article; a designator must be in the sentence, its paragraph neighbours or the
  title, so a number stated about Crew-8 is never given for Crew-7;
- a typed question (how many, when, who, where …) needs a value of that type in the sentence;
- the sentence must itself carry some of the question's words, and the weighted share of the
  question it covers must pass :data:`THRESHOLD`. Otherwise: "not in my articles".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import bot.knowledge.bilingual as bilingual
from bot.knowledge.extract import about_something_else
from bot.knowledge.extraction import (
    Extracted,
    _unit_key,
    chinese_names,
    dates,
    people_en,
    proper_phrases,
    quantities,
    quoted_zh,
)
from bot.knowledge.question import (
    CALENDAR,
    ORDINAL_ANY,
    Question,
    analyse,
    event_words_zh,
    is_event,
    is_people_word,
    vehicles_named,
)
from bot.knowledge.retrieval import (
    NEIGHBOUR_CREDIT,
    TRANSLATION_CREDIT,
    ArticleEntry,
    Concept,
    Hit,
    Scope,
    SentenceIndex,
)
from bot.knowledge.text import (
    EN_STOPWORDS,
    HAN_RE,
    QUOTED_NAME_RE,
    designator_numbers,
    language_of,
    normalise,
    simplified,
    stem,
    terms,
)

THRESHOLD = 0.56
UNCHECKED_PENALTY = (
    0.15  # a name that cannot be looked for in the article's language makes the rest count less
)
_EXAMINED = 15  # best-ranked sentences checked for entities, subject and a value
_TYPED = {"quantity", "duration", "distance", "height", "age", "speed", "when", "who", "where"}
_VALUE_TYPES = {"quantity", "duration", "distance", "height", "age", "speed", "when"}
_ZH_COUNTERS = frozenset("名位个次架艘颗项块条只人舱船")
_ZH_NUMERALS = "零〇一二两三四五六七八九十百千万"
_TIME_UNITS = {"day", "hour", "minut", "month", "year", "week", "second", "time"}
_DISTANCE_UNITS = {
    "kilomet",
    "mile",
    "meter",
    "metr",
    "feet",
    "foot",
    "km",
    "mi",
    "m",
    "ft",
    "yard",
    "inch",
    "centimet",
}


@dataclass(frozen=True)
class Found:
    """The best supported sentence with the value read out of it (``lead``), in the question's language."""

    hit: Hit
    question: Question
    lead: str | None
    quote: str
    quote_language: str
    score: float


def _value_terms(surface: str) -> set[str]:
    return {t.term for t in terms(normalise(surface))}


def _fresh(cands: Sequence[Extracted], question: Question) -> list[Extracted]:
    """Candidates that are not just words of the question back again."""
    out = []
    for cand in cands:
        words = _value_terms(cand.surface)
        if words and words <= question.words:
            continue
        out.append(cand)
    return out


def _quantity_pick(cands: list[Extracted], question: Question) -> list[Extracted]:
    qtype, unit = question.qtype, question.unit
    unit_key = _unit_key(unit) if unit else None
    ranked = []
    for cand in cands:
        bare_year = cand.unit is None and re.fullmatch(r"(?:19|20)\d{2}", cand.surface.strip())
        if bare_year:
            continue
        score = 0
        if unit_key and cand.unit == unit_key:
            score += 3
        if qtype == "duration" and cand.unit in _TIME_UNITS:
            score += 2
        if qtype == "age" and (cand.unit == "year" or "old" in cand.surface or "岁" in cand.surface):
            score += 2
        if qtype in ("distance", "height") and cand.unit in _DISTANCE_UNITS:
            score += 2
        if (
            qtype == "quantity"
            and question.detail == "money"
            and re.search(r"\$|dollar|美元|元|euro|亿|million|billion", cand.surface + cand.en, re.I)
        ):
            score += 3
        if qtype == "duration" and cand.unit not in _TIME_UNITS and cand.unit is not None:
            score -= 2
        if cand.unit is not None:
            score += 1
        ranked.append((score, cand))
    ranked = [(score, cand) for score, cand in ranked if _unit_fits(cand, question)]
    ranked.sort(key=lambda x: -x[0])  # stable: among equals, the nearest to the question's words first
    return [c for _, c in ranked]


def _anchors(sentence: str, question: Question) -> list[int]:
    """Where the sentence says words of the question (the thing asked about and its qualifiers)."""
    wanted = {t for c in question.concepts if not c.focus for t in c.every}
    found = [
        m.start() for m in re.finditer(r"[A-Za-z][A-Za-z'-]*", sentence) if stem(m.group(0).lower()) in wanted
    ]
    for word in wanted:
        if HAN_RE.search(word):
            found.extend(m.start() for m in re.finditer(re.escape(word), sentence))
    return found


_CREW_WORDS = frozenset({"astronaut", "cosmonaut", "crew", "航天员", "宇航员", "乘组", "乘员"})
_ZH_OTHER_ROLE = re.compile(
    r"(?:总指挥长|总指挥|指挥长|主任|局长|发言人|部长|主席|总统|总理|总设计师|署长|记者)$"
)


def _nearest_role(people: list[Extracted], sentence: str, question: Question) -> list[Extracted]:
    """ "Who is the payload specialist": of the names listed, the one next to that role first."""
    role = next((c for c in question.concepts if c.focus), None)
    if role is None:  # "which Russian …": the person next to the nationality
        role = next((c for c in question.concepts if is_people_word(c.label)), None)
    crew = next((c for c in question.concepts if c.label in _CREW_WORDS), None)
    asks_crew = crew is not None and (role is None or role.label in _CREW_WORDS)  # not "哪位美国总统"
    if asks_crew and HAN_RE.search(sentence):
        # "三名航天员 … 向总指挥长李尚福报告": asked for astronauts, a commander-in-chief is not one
        people = [p for p in people if not _ZH_OTHER_ROLE.search(sentence, max(0, p.start - 6), p.start)]
    role = role or crew
    if role is None or len(people) < 2:
        return people
    low = sentence.lower()
    spots = [m.end() for w in role.every if len(w) >= 2 for m in re.finditer(re.escape(w), low)]
    if not spots:
        return people
    return sorted(people, key=lambda c: min(abs(c.start - spot) for spot in spots))


def _by_nearness(cands: list[Extracted], sentence: str, question: Question) -> list[Extracted]:
    """Values ordered by their distance to the question's words: "flights in 1996, 2000 and 2009, and a
    Russian Soyuz flight in 2013" answers "when did he fly a Soyuz" with 2013."""
    anchors = _anchors(sentence, question)
    if not anchors or len(cands) < 2:
        return cands
    return sorted(cands, key=lambda c: min(abs(c.start - a) for a in anchors))


_ANGLE_ASKED = re.compile(r"attitude|angle|tilt|rotat|turn|spin|pitch|yaw|roll|姿态|角度|偏转|旋转", re.I)
_OFTEN_RE = re.compile(
    r"\b(?:once|twice|thrice|(?:\w+|\d+) times)(?: (?:a|per|each|every) (?:year|month|week|day))?\b"
    r"|\bevery (?:\w+ )?(?:years?|months?|weeks?|days?)\b|每年\S{0,3}次|一年\S{0,3}次",
    re.I,
)
_MASS_UNITS = {"kilogram", "kg", "ton", "tonn", "t", "pound", "lb", "吨", "gram"}
_SPEED_UNITS = {"mph", "kph", "km/h", "kilomet", "mile", "knot"}
_MONEY_RE = re.compile(r"\$|dollar|美元|元|euro|€|£|pound|yen|rubl|亿|million|billion", re.I)


def _strength(cand: Extracted, question: Question) -> int:
    """2: the value carries the unit asked for ("how many orbits" → "3,184 orbits"); 1: it has a unit; 0."""
    if question.unit and cand.unit == _unit_key(question.unit):
        return 2
    if question.qtype == "when" and question.detail == "time":
        return 2 if cand.unit == "time" else -2
    return 1 if cand.unit else 0


def _unit_fits(cand: Extracted, question: Question) -> bool:
    """A duration needs a time unit, a distance a length unit …: "two NASA astronauts" is no duration."""
    qtype, detail = question.qtype, question.detail
    unit = cand.unit
    if qtype == "duration":  # "3 times" / "一次" and a clock time are no durations
        return (unit in _TIME_UNITS and unit != "time") or (detail == "or_length" and unit in _DISTANCE_UNITS)
    if qtype in ("distance", "height"):
        if unit in ("degre", "°") and _ANGLE_ASKED.search(question.text):
            return True  # "how far did it knock the station out of its attitude": by 45 degrees
        return unit in _DISTANCE_UNITS
    if qtype == "speed":
        return unit in _SPEED_UNITS or "per" in cand.surface or "/" in cand.surface
    if qtype == "age":
        return unit == "year" or "old" in cand.surface or "岁" in cand.surface or unit == "age"
    if detail == "mass":
        return unit in _MASS_UNITS
    if detail == "temperature":
        return unit in ("c", "f", "degre", "度", "摄氏度", "华氏度") or "°" in cand.surface
    if qtype == "quantity" and question.unit and _unit_key(question.unit) not in _TIME_UNITS:
        return unit not in _TIME_UNITS  # "how many modules" is never "7 hours"
    if detail == "money":
        return bool(_MONEY_RE.search(cand.surface + " " + cand.en))
    return True


_ZH_WHICH_RE = re.compile(r"哪[个座一]?(发射场|着陆场|航天中心|中心|基地|城市|国家|港口)")
_ZH_PLACE_KINDS = {
    "着陆场": "landing site",
    "发射场": "launch site",
    "发射中心": "launch center",
    "航天中心": "space center",
    "训练中心": "training center",
    "中心": "center",
    "基地": "base",
    "港": "port",
    "频道": "channel",
    "海域": "waters",
    "海": "sea",
}
_ZH_PLACE_RE = re.compile(
    f"[\u4e00-\u9fff]{{2,12}}?({'|'.join(sorted(_ZH_PLACE_KINDS, key=len, reverse=True))})"
)
# what comes before a place name in a Chinese sentence ("返回东风着陆场", "于文昌发射场"): not part of it
_ZH_BEFORE_PLACE = re.compile(
    r".*(?:返回|抵达|到达|降落|着陆|飞往|前往|运抵|位于|在|于|到|至|从|自|的|月|日)"
)


def _zh_places(sentence: str) -> list[Extracted]:
    """ "东风着陆场", "文昌发射场": a name and the kind of place, in English "Dongfeng landing site"."""
    out = []
    for match in _ZH_PLACE_RE.finditer(sentence):
        head = _ZH_BEFORE_PLACE.match(match.group(0)[: -len(match.group(1))])
        start = match.start() + (head.end() if head else 0)
        name = sentence[start : match.start(1)]
        if len(name) < 2:
            continue
        surface = sentence[start : match.end()]
        reading = bilingual.name_pinyin(name)  # a place is read as one word: "Dongfeng", not "Dong Feng"
        en = f"{reading.replace(' ', '').capitalize() if reading else name} {_ZH_PLACE_KINDS[match.group(1)]}"
        out.append(Extracted(surface, en, surface, start))
    return out


def _place_candidates(sentence: str, question: Question) -> list[Extracted]:
    out: list[Extracted] = []
    if HAN_RE.search(sentence):
        out.extend(chinese_names(sentence, ("ns",)))
        out.extend(_zh_places(sentence))
        out.extend(c for c in quoted_zh(sentence) if re.fullmatch(r"[A-Za-z][\w .'-]+", c.surface))
    for match in re.finditer(
        r"\b(?:in|at|from|off|near|to|into|on|over|above|across) (?:the )?"
        r"(?:(?:north|south|east|west)(?:ern)?\s+|central\s+)?"  # "over eastern China"
        r"((?:[A-Z][\w’'.-]*)(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w’'.-]*)*)",
        sentence,
    ):
        surface = match.group(1).strip(" .,")
        if surface.lower().rstrip(".") in CALENDAR:  # "in September", "on Monday": a time, not a place
            continue
        out.append(Extracted(surface, surface, surface, match.start(1)))
    return sorted(out, key=lambda c: c.start)


# "90 minutes ahead of schedule", "提前90分钟": how much earlier or later, not how long something took.
_OFFSET_AFTER = re.compile(
    r"\s*(?:ahead\b|behind\b|early\b|earlier\b|late\b|later\b|ago\b|before\b|sooner\b)", re.I
)
_OFFSET_BEFORE = re.compile(r"(?:提前|推迟|延迟|晚了|早了|提早)\s*$")
# question words asking an offset; the Chinese 晚了/早了 are read off the question's text (_OFFSET_ASKED)
_OFFSET_WORDS = frozenset(
    {"ahead", "behind", "earli", "late", "later", "ago", "before", "提前", "推迟", "延迟"}
)


# "对接晚了多少分钟", "how long after docking did they open the hatch": the offset is asked
_OFFSET_ASKED = re.compile(
    r"晚了|早了|提前了|推迟了|晚点|后多久|多久后|多久之后|\bhow (?:long|soon) (?:after|before)\b", re.I
)
_CLOCK_AFTER = re.compile(r"[:：]\d")


def _is_offset(sentence: str, cand: Extracted) -> bool:
    end = cand.start + len(cand.surface)
    return bool(_OFFSET_AFTER.match(sentence, end) or _OFFSET_BEFORE.search(sentence, 0, cand.start))


_DATELINE = re.compile(r"\s*(?:电|電|讯|訊|消息)|\s*\((?:UPI|Reuters|AP|AFP|ANI|Xinhua|TASS)\)", re.I)


def _another_event(sentence: str, date: Extracted, question: Question) -> bool:
    """The date is told of another event than the one asked about: "launched … on June 14 has docked"
    (in English the event comes before its date), "计划于今年11月返回" (in Chinese after it)."""
    asked = next((c for c in question.concepts if c.focus), None)
    if asked is None or not is_event(asked.label):
        return False
    same = asked.every | {asked.label}
    if HAN_RE.search(sentence[date.start : date.start + len(date.surface)]):
        after = sentence[date.start + len(date.surface) :]
        # the first event told after the date ("返回舱" is the return capsule, no event)
        told = [
            (m.start(), w)
            for w in event_words_zh()
            for m in re.finditer(re.escape(w), after)
            if not (w == "返回" and after.startswith("舱", m.end()))
        ]
        event = min(told)[1] if told else None
    else:
        before = sentence[: date.start]
        told_en = [(m.start(), stem(m.group(0).lower())) for m in re.finditer(r"[A-Za-z]+", before)]
        events = [word for _, word in told_en if is_event(word)]
        event = events[-1] if events else None
    return event is not None and event not in same


def candidates(sentence: str, question: Question) -> list[Extracted]:
    qtype = question.qtype
    if question.detail == "often":  # "twice a year", "every six months", "每年两次"
        found = [
            Extracted(m.group(0), m.group(0), m.group(0), m.start(), "time")
            for m in _OFTEN_RE.finditer(sentence)
        ]
        if found:
            return found
    if question.detail == "ordinal":  # "the 15th woman", "第三次", "his fifth spaceflight"
        return [
            Extracted(m.group(0), m.group(0), m.group(0), m.start(), "ordinal")
            for m in ORDINAL_ANY.finditer(sentence)
        ]
    if qtype in ("quantity", "duration", "distance", "height", "age", "speed"):
        named = designator_numbers(sentence)
        if qtype == "quantity":  # the 17 of "Nov. 17" counts nothing
            named += [(d.start, d.start + len(d.surface)) for d in dates(sentence) if d.unit != "time"]
        found = [
            c
            for c in _quantity_pick(
                _by_nearness(_fresh(quantities(sentence), question), sentence, question), question
            )
            if not any(start <= c.start < end for start, end in named)  # the 6 of "Kounotori 6"
            and not _CLOCK_AFTER.match(sentence, c.start + len(c.surface))  # the 3 of "3:24 a.m."
        ]
        if (
            qtype == "duration"
            and not question.words & _OFFSET_WORDS
            and not _OFFSET_ASKED.search(question.text)
        ):
            # how long something lasted: not an offset ("ahead of schedule"), not an age ("21-year-old")
            found = [c for c in found if not _is_offset(sentence, c) and not c.surface.endswith("old")]
        return found
    if qtype == "when":
        found = [
            d
            for d in _fresh(dates(sentence), question)
            if not _another_event(sentence, d, question)
            and not (d.start and re.match(r"[A-Za-z-]", sentence[d.start - 1]))  # the 10号 of "联盟MS-10号"
            and not _DATELINE.match(sentence, d.start + len(d.surface))  # "北京9月3日电": the report's date
        ]
        found = _by_nearness(found, sentence, question)
        if question.detail == "time":
            found = [c for c in found if c.unit == "time"]
        elif question.detail == "year":
            found = [c for c in found if re.search(r"(?:19|20)\d{2}|\d0年代", c.surface)]
        else:
            found.sort(key=lambda c: c.unit == "time")
        return found
    if qtype == "who":
        if HAN_RE.search(sentence):
            tags = ("nr", "nrfg", "nrt", "nt") if question.detail == "company" else ("nr", "nrfg", "nrt")
            people = _fresh(chinese_names(sentence, tags), question)
        else:
            exclude = {w for w in question.words}
            people = [
                c
                for c in people_en(sentence, exclude)
                if not (_value_terms(c.surface) & question.words) and not vehicles_named(c.surface)
            ]  # "docked with Zvezda": a module is no one
            if question.detail == "company":
                people = [c for c in _fresh(proper_phrases(sentence), question) if " " in c.surface] + people
        return _nearest_role(people, sentence, question)
    if qtype == "where":
        places = _fresh(_place_candidates(sentence, question), question)
        kind = _ZH_WHICH_RE.search(question.text)  # "哪个发射场": a place of that kind (in Chinese, said so)
        if kind and HAN_RE.search(sentence):
            return [c for c in places if c.surface.endswith(kind.group(1))]
        return places
    if qtype == "what":
        if HAN_RE.search(sentence):
            return _fresh(quoted_zh(sentence) + chinese_names(sentence, ("nz", "nt", "ns", "nr")), question)
        found = [c for c in _fresh(proper_phrases(sentence), question) if c.start > 0]
        found = [c for c in found if not (_value_terms(c.surface) <= question.words)]
        if question.words & {"name", "call"}:  # "what did they name it": the name given in quotes first
            quoted = [
                Extracted(m.group(1), m.group(1), m.group(1), m.start(1), "name")
                for m in QUOTED_NAME_RE.finditer(normalise(sentence))
                if not (_value_terms(m.group(1)) <= question.words)
            ]
            found = quoted + found
        return _next_to_class_noun(sentence, question, found) + found
    return []


def _article_people(index: SentenceIndex, entry: ArticleEntry) -> dict[str, Extracted]:
    """The people an English article names in full, by surname: "Glover is the pilot" is Victor Glover."""
    derived = index.derived.setdefault(entry.article_id, {})
    found: dict[str, Extracted] | None = derived.get("people")
    if found is None:
        found = {}
        for text in index.texts[entry.first : entry.last]:
            for person in people_en(text or "", set()):
                words = person.surface.split()
                if len(words) >= 2:
                    found.setdefault(words[-1], person)
        derived["people"] = found
    return found


def _surnames(sentence: str, question: Question, people: dict[str, Extracted]) -> list[Extracted]:
    out = []
    for match in re.finditer(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b", sentence):
        person = people.get(match.group(0))
        if person is not None and not (_value_terms(person.surface) & question.words):
            out.append(Extracted(person.surface, person.en, person.zh, match.start()))
    return out


def _respell(index: SentenceIndex, question: Question) -> None:
    """A name no article uses may be misspelt: match it to the nearest word the articles do use."""
    for concept in question.concepts:
        label = concept.label
        if (
            len(label) < 5
            or not label.isascii()
            or not label.isalpha()
            or any(index.df(t) for t in concept.every)
        ):
            continue
        near = index.closest_term(label)
        if near is not None:
            concept.alternatives = concept.alternatives | {near}


_CALENDAR_TERMS = frozenset(stem(w) for w in CALENDAR)
_USAGE_SAMPLE = 4
_RARE_NAME_DF = 50


def _names_by_usage(index: SentenceIndex, question: Question) -> None:
    """A word typed in lower case ("what did yui do") is a name when the articles write it only with a
    capital inside a sentence: then it must be in the supporting article, as if typed "Yui"."""
    for concept in question.concepts:
        label = concept.label
        if concept.entity or concept.weight_cap is not None:
            continue  # a given name ("Tom" for "Thomas") stays optional
        if not label.isascii() or not label.isalpha() or len(label) < 3:
            continue
        if label in _STATION_TERMS or label in EN_STOPWORDS or label in _CALENDAR_TERMS:
            continue  # "March" is always written with a capital, and is no name
        posting = index.postings.get(label)
        if not posting or len(posting) > _RARE_NAME_DF:
            continue
        seen = capitalised = 0
        for sid in posting[:_USAGE_SAMPLE]:
            text = index.texts[sid] or ""
            for match in re.finditer(r"(?<![\w.])([A-Za-z][\w'’-]*)", text):
                if match.start() == 0 or stem(match.group(1).lower().split("'")[0].split("’")[0]) != label:
                    continue
                seen += 1
                capitalised += match.group(1)[0].isupper()
        if seen and capitalised == seen:
            concept.entity = True


# Pinyin spelt the way transliterated names come out in English: 科诺年科 kenuonianke → kenonyanke ~ Kononenko.
_PINYIN_TO_LATIN = [
    ("uo", "o"),
    ("ei", "e"),
    ("er", "r"),
    ("ian", "en"),
    ("ia", "ya"),
    ("fu$", "v"),
    ("x", "s"),
]
_FIRST_LETTERS = {
    "k": "kc",
    "g": "gk",
    "h": "hk",
    "f": "fv",
    "w": "wv",
    "l": "lr",
    "j": "jgz",
    "q": "chk",
    "x": "s",
    "b": "bp",
    "p": "pb",
    "d": "dt",
    "t": "td",
}
_TRANSLITERATION_CUTOFF = 60


def _transliterations(index: SentenceIndex, question: Question) -> None:
    """A foreign name written in Chinese characters ("帕达尔卡", "培斯科夫") gets the name of the articles it
    sounds like ("padalka"), so an English article can be checked for it and found by it."""
    from rapidfuzz import fuzz, process

    def foreign(c: Concept) -> bool:
        return (
            c.entity
            and not c.strict
            and bool(HAN_RE.search(c.label))
            and not any(a.isascii() for a in c.every)
        )

    # jieba often cuts a transliteration in two (科诺 | 年科): the pieces written together are one name
    names: list[list[Concept]] = []
    for concept in question.concepts:
        if not foreign(concept):
            continue
        if names and names[-1][-1].label + concept.label in question.text:
            names[-1].append(concept)
        else:
            names.append([concept])
    for parts in names:
        spelt = bilingual.reading("".join(c.label for c in parts))
        if not spelt or len(spelt) < 4:
            continue
        for pattern, latin in _PINYIN_TO_LATIN:
            spelt = re.sub(pattern, latin, spelt)
        words = [w for first in _FIRST_LETTERS.get(spelt[0], spelt[0]) for w in index.vocabulary(first)]
        best = process.extractOne(spelt, words, scorer=fuzz.ratio, score_cutoff=_TRANSLITERATION_CUTOFF)
        if best is not None and _written_as_name(index, best[0]):
            for concept in parts:
                concept.alternatives = concept.alternatives | {best[0]}


def _written_as_name(index: SentenceIndex, term: str) -> bool:
    posting = index.postings.get(term)
    if not posting:
        return False
    text = index.texts[posting[0]] or ""
    return any(w[:1].isupper() and stem(w.lower()) == term for w in re.findall(r"[A-Za-z][\w'-]*", text))


def _by_label(question: Question, label: str) -> Concept:
    return next(c for c in question.concepts if c.label == label)


_MEASURES = frozenset(
    stem(w)
    for w in "mass weigh weight heavy altitude height high long length size big large speed fast temperature "
    "cold hot wide volume cost price old age far distance physically".split()
)


def _other_subject(
    sentence: str,
    question: Question,
    value: Extracted | None = None,
    coverage: dict[str, float] | None = None,
) -> bool:
    """A question about the station itself gets no value from a sentence about a mission or a person."""
    if not any(_is_station(c) for c in question.concepts):
        return False
    if any(c.entity and not _is_station(c) for c in question.concepts):
        return False
    if coverage and any(
        coverage.get(c.label, 0.0) >= 1.0
        for c in question.concepts
        if not _is_station(c) and c.label not in _MEASURES and c.weight_cap is None and not c.focus
    ):
        return False  # "how long will the *visitors* stay aboard the station": about them, said here
    found = {t.term for t in terms(normalise(sentence))}
    if any(re.search(r"-\d", term) for term in found - question.words):
        return True
    if value is not None and about_something_else(sentence, value.start):
        return True  # "the module has a mass of 20 t": the nearest thing named is not the station
    if HAN_RE.search(sentence):
        return bool(_fresh(chinese_names(sentence), question))
    return bool(people_en(sentence, set()))


_STATION_TERMS = frozenset(
    {
        "iss",
        "国际空间站",
        "station",
        "空间站",
        "intern",
        "space",
        "国际",
        "空间",
        "earth",
        "地球",
        "sun",
        "太阳",
        "moon",
        "月球",
    }
)


def _is_station(concept: Concept) -> bool:
    return concept.label in _STATION_TERMS


def _next_to_class_noun(sentence: str, question: Question, found: list[Extracted]) -> list[Extracted]:
    """ "Which *module* …": the name written next to that word ("the Harmony module", "module Poisk")."""
    words = question.text.split()
    if len(words) < 2 or words[0].lower() not in ("which", "what"):
        return []
    # "which russian module": the noun, not the nationality before it
    match = next(
        (w for w in words[1:4] if w.islower() and w not in EN_STOPWORDS and not is_people_word(stem(w))), None
    )
    if match is None:
        return []
    noun = re.escape(match.rstrip("s"))
    out = []
    for cand in found:
        after = sentence[cand.start + len(cand.surface) : cand.start + len(cand.surface) + 25].lower()
        before = sentence[max(0, cand.start - 30) : cand.start].lower()
        if re.match(rf"\s*{noun}", after) or re.search(rf"{noun}s?(?:,| named| called)?\s*$", before):
            first, _, rest = cand.surface.partition(" ")
            if rest and is_people_word(stem(first.lower())):  # "the Russian Rassvet module": Rassvet
                cand = Extracted(rest, rest, rest, cand.start + len(first) + 1)
            out.append(Extracted(cand.surface, cand.en, cand.zh, cand.start, "name"))  # a name of that kind
    return out


def _entity_ok(concept: Concept, hit: Hit, index: SentenceIndex) -> bool | None:
    """True: present where it must be; False: absent; None: cannot be checked in this language."""
    if concept.strict:
        return hit.coverage.get(concept.label, 0.0) > 0
    if index.in_article(concept.every, hit.article):
        return True
    latin = not HAN_RE.search(concept.label)
    if (
        latin
        and hit.article.language == "zh"
        and (concept.phrase or not any(HAN_RE.search(a) for a in concept.every))
    ):
        return None  # a Latin name in a Chinese article is written in characters we cannot derive (and a
        # word of a many-word name, "Arm" of "European Robotic Arm", is translated with the whole: 机械臂)
    if not latin and hit.article.language == "en" and all(HAN_RE.search(a) for a in concept.every):
        return None  # and a Chinese name with no English rendering ("戈尔布诺夫") in an English one
    return False


def _lead_text(picked: Sequence[Extracted], question: Question) -> str | None:
    if not picked:
        return None
    zh = question.language == "zh"
    if question.qtype == "who" and len(picked) > 1 and not any(c.focus for c in question.concepts):
        names = []
        for cand in picked[:4]:
            name = cand.zh if zh else cand.en
            if name not in names:
                names.append(name)
        return ("、" if zh else ", ").join(names)
    first = picked[0]
    return first.zh if zh else first.en


def find(index: SentenceIndex, question: str, scopes: tuple[Scope, ...]) -> Found | None:
    return find_or_nearest(index, question, scopes)[0]


def find_or_nearest(
    index: SentenceIndex, question: str, scopes: tuple[Scope, ...], trace: list[str] | None = None
) -> tuple[Found | None, list[int]]:
    """The supported answer, or None and the articles nearest to the question (one search for both).

    ``trace``, when given, receives why each examined sentence was refused or how it scored."""
    q = analyse(question)
    if not q.concepts:
        return None, []
    _respell(index, q)
    _names_by_usage(index, q)
    _transliterations(index, q)
    hits = index.search(q.concepts, scopes)
    found = _best(index, q, hits, trace)
    if found is not None:
        return found, []
    near: list[int] = []
    for hit in hits:
        if hit.score >= NEAREST_SCORE and hit.article.article_id not in near:
            near.append(hit.article.article_id)
    return None, near


def _best(index: SentenceIndex, q: Question, hits: list[Hit], trace: list[str] | None = None) -> Found | None:
    best: Found | None = None
    unchecked: Found | None = None

    def refuse(hit: Hit, why: str) -> None:
        if trace is not None:
            trace.append(f"{hit.sentence}: {why}")

    weights = {c.label: index.concept_weight(c) for c in q.concepts}
    total_weight = sum(weights.values()) or 1.0
    plain = [c for c in q.concepts if not c.entity]
    # what the sentence itself must say one of: a word of the question, or a person or thing it names
    # ("Hopkins, 51, is on his second spaceflight"), not only a mission's designator
    carriers = [c for c in q.concepts if not c.strict]

    def measured(concept: Concept) -> bool:  # a word naming the measure asked for (its value must be here)
        return q.qtype in _VALUE_TYPES and concept.label in _MEASURES

    def counted(concept: Concept, sentence: str) -> bool:  # "多少名" answered by "228名": the counter is said
        return (
            concept.label == q.unit
            and concept.label in _ZH_COUNTERS
            and bool(re.search(rf"[\d{_ZH_NUMERALS}]\s*{re.escape(concept.label)}", sentence))
        )

    for hit in hits[:_EXAMINED]:
        verdicts = {c.label: _entity_ok(c, hit, index) for c in q.concepts if c.entity or c.weight_cap}
        missing = [label for label, ok in verdicts.items() if ok is False and _by_label(q, label).entity]
        if missing:
            refuse(hit, f"a named thing is not in the article: {', '.join(missing)}")
            continue
        unknown = [label for label, ok in verdicts.items() if ok is None]
        score = hit.score
        if unknown:  # judge the article on the rest of the question, more strictly
            drop = sum(weights[label] for label in unknown)
            score = min(1.0, score * total_weight / max(total_weight - drop, 1e-6)) - UNCHECKED_PENALTY
        if plain and not any(hit.coverage.get(c.label, 0) >= TRANSLATION_CREDIT for c in carriers):
            refuse(hit, "no word of the question in the sentence itself")
            continue  # the sentence itself must say something the question asks about
        sentence = index.texts[hit.sentence] or ""
        if any(
            c.focus
            and hit.coverage.get(c.label, 0) < NEIGHBOUR_CREDIT
            and not measured(c)
            and not counted(c, sentence)
            for c in q.concepts
        ):
            refuse(hit, "the focus is missing")
            continue  # the thing asked about is not what this sentence is about
        if any(c.selector and hit.coverage.get(c.label, 0) < TRANSLATION_CREDIT for c in q.concepts):
            refuse(hit, "a word choosing one value (inside, longest …) is not in the sentence")
            continue
        if _names_another(sentence, q, hit):
            refuse(hit, "names another designator")
            continue  # a sentence about Crew-9 does not answer for Crew-8 named in the sentence before
        picked = candidates(simplified(sentence), q)  # "6個月" read as "6个月"
        if q.qtype == "who" and hit.article.language == "en" and not HAN_RE.search(sentence):
            named = {c.surface for c in picked}
            more = [
                c
                for c in _surnames(sentence, q, _article_people(index, hit.article))
                if c.surface not in named
            ]
            picked = sorted(picked + more, key=lambda c: c.start)
        if q.qtype in _VALUE_TYPES and not picked:
            refuse(hit, "no value of the asked type")
            continue  # "how many" / "when" with no number or date here: this sentence cannot answer
        if q.qtype in _VALUE_TYPES and _another_vehicle(index, sentence, q, hit, picked[0]):
            refuse(hit, "the value is another spacecraft's")
            continue
        if q.qtype in _VALUE_TYPES and _other_subject(sentence, q, picked[0], hit.coverage):
            refuse(hit, "the value is another subject's")
            continue  # a number about a module, a spacecraft or a person is not the station's
        if q.qtype in _VALUE_TYPES:
            # "how heavy" / "how long is it": a value in the unit asked for says the measure itself
            score += (
                sum(
                    weights[c.label] * (1.0 - hit.coverage.get(c.label, 0.0))
                    for c in q.concepts
                    if measured(c)
                )
                / total_weight
            )
        if q.qtype in _TYPED:
            score += (0.1 + 0.05 * _strength(picked[0], q)) if picked else -0.3
        if (
            picked
            and q.qtype == "duration"
            and _OFFSET_ASKED.search(q.text)
            and _is_offset(sentence, picked[0])
        ):
            score += 0.1  # "how long after docking …" answered by "two hours later"
        elif picked and picked[0].unit == "name":
            score += 0.1  # a name asked for, and given in quotes
        if q.qtype == "why":
            sentence, score = _cause(index, hit, sentence, score)
        refuse(hit, f"score {score:.2f} value {picked[0].surface if picked else None!r}")
        found = Found(hit, q, _lead_text(picked, q), sentence, language_of(sentence), score)
        if unknown:  # kept apart: an article where every name was found beats one where some could not be
            if unchecked is None or score > unchecked.score:
                unchecked = found
        elif best is None or score > best.score:
            best = found
    if best is None or best.score < THRESHOLD:
        best = unchecked
    if best is None or best.score < THRESHOLD:
        return None
    return best


_CAUSE_RE = re.compile(
    r"\b(?:because|due to|caused by|after|since|as a result|so that|in order to|thanks to|owing to|"
    r"leak|failure|fail|failed|problem|malfunction|damage|destroyed|grounded)\b|因为|由于|因|导致|造成|所以|为了|故障|失灵|泄漏|损坏",
    re.I,
)


def _cause(index: SentenceIndex, hit: Hit, sentence: str, score: float) -> tuple[str, float]:
    """A "why" is answered by a sentence giving a cause: this one, else the next one of the paragraph
    ("… will send up an empty Soyuz." → "… a coolant leak caused by a micrometeoroid strike …")."""
    if _CAUSE_RE.search(sentence):
        return sentence, score + 0.1
    following = hit.sentence + 1
    entry = hit.article
    if entry.first <= following < entry.last:
        after = index.texts[following] or ""
        if entry.paragraphs[following - entry.first] == entry.paragraphs[hit.sentence - entry.first] and (
            _CAUSE_RE.search(after)
        ):
            return after, score
    return sentence, score - 0.1


def _another_vehicle(
    index: SentenceIndex, sentence: str, question: Question, hit: Hit, value: Extracted
) -> bool:
    """The question's designator is only next to the sentence or somewhere in the article, and the sentence
    names another spacecraft before the value, as its subject: the value is that one's ("夢天實驗艙將於10月發射" in an article that
    mentions 天舟五號 further on)."""
    if not any(c.strict and hit.coverage.get(c.label, 0.0) < 1.0 for c in question.concepts):
        return False
    asked = " ".join(t for c in question.concepts for t in c.every) + " " + question.text.lower()
    head = sentence[: value.start]
    designators = [t for c in question.concepts if c.strict for t in c.alternatives]
    for name in vehicles_named(head):
        if name.lower() in asked or _OBJECT_BEFORE.search(head[: head.find(name)]):
            continue  # asked about, or what the subject docked *with* ("docked with Zvezda")
        texts = [t or "" for t in index.texts[hit.article.first : hit.article.last]]
        if _family_of(texts, name, designators):
            continue  # "Soyuz" of "Soyuz MS-09": the asked mission's own name
        return True
    return False


_OBJECT_BEFORE = re.compile(
    r"(?:\b(?:with|to|at|onto|into|from|on|of|by|toward|towards)\s+(?:the\s+|its\s+)?(?:\w+\s+)?|[与和向从在于])$",
    re.I,
)


def _family_of(texts: list[str], name: str, designators: list[str]) -> bool:
    numbers = {d.rpartition("-")[2] for d in designators}
    pattern = re.compile(
        rf"{re.escape(name)}\s*[-\w]*?[- ]?0*(?:{'|'.join(map(re.escape, numbers))})\b", re.I
    )
    return any(pattern.search(t) for t in texts)


def _names_another(sentence: str, question: Question, hit: Hit) -> bool:
    """The question's designator is only next to this sentence, which names a designator of its own."""
    borrowed = [c for c in question.concepts if c.strict and hit.coverage.get(c.label, 0.0) < 1.0]
    if not borrowed:
        return False
    asked = {t for c in question.concepts if c.strict for t in c.every}
    names = {t.rpartition("-")[0] for t in asked}
    return any(
        t.term.rpartition("-")[0] in names and t.term not in asked for t in terms(normalise(sentence))
    )  # "Crew-9 …" next to a sentence naming Crew-8 (a "Falcon 9" is another kind of thing: allowed)


def names_a_mission(question: str) -> bool:
    """Whether the question names a mission or vehicle ("Crew-7", "神舟十三号"): then it is not about
    the station's own figures, whatever words it shares with them."""
    return any(c.strict for c in analyse(question).concepts)


NEAREST_SCORE = 0.25
