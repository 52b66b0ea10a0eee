"""Text into index terms, the same way for articles and questions, in English and Chinese.

English words are lower-cased and stemmed (Snowball, PyStemmer); Chinese runs are segmented with
jieba's dictionary. Mission and vehicle designators ("Crew-7", "Soyuz MS-25", "神舟十三号") become one
term each ("crew-7", "ms-25", "神舟-13"), so "Crew-7" never matches "Crew-8". Numbers are kept as terms.
Traditional characters are folded to simplified (through CC-CEDICT's character pairs) and full-width
forms to ASCII before anything else, so 太空站 and 太空站, ＩＳＳ and ISS are the same words.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import Stemmer

log = logging.getLogger(__name__)

# Bump when the terms a text yields change: stored parses with another version are analysed again.
TERMS_VERSION = 7

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
HAN_RUN_RE = re.compile(f"[{HAN}]+")
ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千"

EN_STOPWORDS = frozenset(
    """roughly approximately basically exactly anymore
    can't cannot won't don't doesn't didn't isn't wasn't aren't weren't couldn't wouldn't shouldn't
    haven't hasn't hadn't a an the and or but if of to in on at by for with from into onto about as is are was were be been being
    am do does did doing done have has had having will would shall should can could may might must it its this
    that these those there their them they he she his her him we our us you your i me my mine what which who
    whom whose when where why how much many long far high old often not no so than then too very just also
    any some all each every both either neither other such only own same s t ever yet still again more most
    much up down out off over under after before during while until since between through per via than
    tell know please let like want need get got say said says one's bot hey hi hello um uh er hmm okay ok go
    going
    quick question questions wondering curious anyone somebody kind thanks thank actually really so
    """.split()
)
# Question words that do not name the thing asked about (the answer type is read separately).
ZH_STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 还 又 把 被 让 给 对 从 向 于 为 以 之 其 这 那 这个 那个 这些 那些 这次
    那次 哪 哪个 哪些 哪里 哪儿 哪位 哪天 哪年 什么 怎么 怎样 如何 多少 几 几个 多 多久 多长 吗 呢 吧 啊 呀 嘛
    么 谁 请问 请 你好 您好 嗨 哈喽 喂 我 你 他 她 它 我们 你们 他们 她们 想 知道 告诉 一下 一共 总共 一 个
    名 位 会 要 将 能 可以 有 没有 没 不 着 过 地 得 所 等 即 该 此 每 各 某 而 但 并 且 则 啦 嗯 呃 那么 这么
    一起 曾 已 已经 正在 最后 据 称 表示 说 到底 究竟
    """.split()
)
_LATIN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*(?:[-./][A-Za-z0-9]+)*")
_DESIGNATOR_RE = re.compile(r"^(?P<name>[a-z]+)-?(?P<num>\d{1,3}[a-z]?)$")
_ZH_DESIGNATOR_RE = re.compile(f"(?P<name>[{HAN}]{{2}})(?P<num>[{_ZH_NUMERAL}]{{1,4}}|\\d{{1,3}})号")

# Irregular English verb forms the stemmer leaves apart (general English, not the space domain).
_IRREGULAR = {
    "spent": "spend",
    "flew": "fli",
    "flown": "fli",
    "took": "take",
    "taken": "take",
    "brought": "bring",
    "left": "leav",
    "went": "go",
    "gone": "go",
    "led": "lead",
    "made": "make",
    "met": "meet",
    "saw": "see",
    "seen": "see",
    "began": "begin",
    "begun": "begin",
    "came": "come",
    "found": "found",
    "held": "hold",
    "kept": "keep",
    "built": "build",
    "sent": "send",
    "won": "win",
    "ran": "run",
    "stood": "stand",
    "grew": "grow",
    "grown": "grow",
    "threw": "throw",
    "wrote": "write",
    "written": "write",
    "gave": "give",
    "given": "give",
    "became": "becom",
    "lost": "lose",
    "paid": "pay",
    "bought": "buy",
    "caught": "catch",
    "chose": "choos",
    "chosen": "choos",
    "drove": "drive",
    "fell": "fall",
    "fallen": "fall",
    "felt": "feel",
    "heard": "hear",
    "rose": "rise",
    "risen": "rise",
    "told": "tell",
    "thought": "think",
    "underwent": "undergo",
    "undertook": "undertak",
    "woke": "wake",
}

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
}
_ZH_MEASURE_RE = re.compile(f"([{_ZH_NUMERAL}]+|\\d+)(?:名|位|个|块|次|艘|颗|架|项|人)")
_MONTH_ABBREVIATIONS = {
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
_ACRONYMS = {"us": "usa", "uk": "britain"}
_stemmer_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_stemmer_local, "stemmer", None)
    if stemmer is None:  # Stemmer objects are not thread-safe: one per thread
        stemmer = _stemmer_local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def zh_number(text: str) -> int | None:
    """十三 → 13, 二十 → 20, 一百零五 → 105, 3 → 3 (None if it is not a number)."""
    if text.isdigit():
        return int(text)
    total, current, seen = 0, 0, False
    for ch in text:
        if ch in ZH_DIGITS:
            current = ZH_DIGITS[ch]
            seen = True
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
            seen = True
        else:
            return None
    return total + current if seen else None


# --- normalisation ------------------------------------------------------------------------------
_PUNCT = str.maketrans(
    # an em dash sets words apart ("MS-06—identified by NASA"): a space, not a hyphen that would join them
    {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": " ", "\u2212": "-", "\u00a0": " "}
)
_traditional: dict[int, str] = {}


def configure(traditional: dict[str, str], words: list[str], jieba_dictionary: str | None = None) -> None:
    """Install the traditional → simplified character pairs, jieba's word list (a trimmed copy: a third
    of the memory) and the domain words jieba must cut whole.

    Called once by ``bilingual.load()`` (which owns the dictionaries), before any text is cut.
    """
    global _traditional, _jieba_dictionary
    _traditional = {ord(t): s for t, s in traditional.items()}
    _jieba_dictionary = jieba_dictionary
    jieba = _jieba()
    for word in words:
        jieba.add_word(word, freq=50000)


def normalise(text: str) -> str:
    """Full-width to ASCII, typographic quotes and dashes to plain ones, traditional to simplified."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT)
    if HAN_RE.search(text):
        text = text.translate(_traditional)
    return text


def simplified(text: str) -> str:
    """Traditional characters as simplified ones, one for one (offsets into ``text`` stay valid)."""
    return text.translate(_traditional) if HAN_RE.search(text) else text


def has_han(text: str) -> bool:
    return HAN_RE.search(text) is not None


def language_of(text: str) -> str:
    han = len(HAN_RE.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if han * 3 >= latin else "en"


# --- segmentation --------------------------------------------------------------------------------
_jieba_lock = threading.Lock()
_jieba_ready = False
_jieba_dictionary: str | None = None


def _jieba() -> Any:
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                if _jieba_dictionary:
                    jieba.set_dictionary(_jieba_dictionary)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def zh_words(run: str) -> list[str]:
    """A run of Chinese characters as dictionary words (jieba, search mode: long words and their parts)."""
    return _jieba().lcut_for_search(run, HMM=True)


def known_word(word: str) -> bool:
    """Whether jieba's dictionary has the word (words found only by its HMM are new: often names)."""
    return bool(_jieba().dt.FREQ.get(word))


@lru_cache(maxsize=4096)
def zh_cut(run: str) -> tuple[str, ...]:
    """A run of Chinese as words without the search-mode sub-words (for reading candidates)."""
    return tuple(_jieba().lcut(run, HMM=True))


@dataclass(frozen=True)
class Term:
    """One index term with the text it came from (for reading answers out of a sentence)."""

    term: str
    surface: str
    zh: bool


def _accent_table() -> dict[int, str]:
    """Latin letters with accents to their plain letter, one for one ("López-Alegría" → "Lopez-Alegria")."""
    table = {}
    for code in range(0xC0, 0x250):
        plain = unicodedata.normalize("NFKD", chr(code))
        if len(plain) > 1 and plain[0].isascii() and plain[0].isalpha():
            table[code] = plain[0]
    return table


_ACCENTS = _accent_table()


def latin_terms(text: str) -> list[Term]:
    out: list[Term] = []
    folded = text.translate(_ACCENTS)  # the same length: spans still point into ``text``
    for match in _LATIN_RE.finditer(folded):
        raw = text[match.start() : match.end()].strip(".")  # as written, for reading answers
        low = match.group(0).strip(".").lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        low = low.strip("'")
        if not low:
            continue
        designator = _DESIGNATOR_RE.match(low)
        if designator and ("-" in low or len(low) <= 12):  # "Crew-7", "MS22", "Canadarm2"
            out.append(Term(f"{designator['name']}-{designator['num']}", raw, False))
            continue
        if re.fullmatch(r"\d[\d,]*(?:\.\d+)?", low):
            out.append(Term(low.replace(",", ""), raw, False))
            continue
        if re.fullmatch(r"(?:[a-z]\.)+[a-z]", low) or (raw.isupper() and low in _ACRONYMS):
            acronym = low.replace(".", "")
            out.append(Term(_ACRONYMS.get(acronym, acronym), raw, False))  # U.S., US, U.K.
            continue
        for part in re.split(r"[-./]", low):
            if not part or part in EN_STOPWORDS:
                continue
            if part.isdigit():
                out.append(Term(part, raw, False))
            elif part in _NUMBER_WORDS:
                out.append(Term(_NUMBER_WORDS[part], raw, False))
            elif part in _MONTH_ABBREVIATIONS:
                out.append(Term(stem(_MONTH_ABBREVIATIONS[part]), raw, False))
            elif part in _IRREGULAR:
                out.append(Term(_IRREGULAR[part], raw, False))
            elif len(part) >= 2 or (part.isalpha() and raw[:1].isupper()):
                out.append(Term(stem(part), raw, False))
    return out


def zh_terms(run: str) -> list[Term]:
    out: list[Term] = []
    for match in _ZH_DESIGNATOR_RE.finditer(run):
        number = zh_number(match["num"])
        if number is not None:
            out.append(Term(f"{match['name']}-{number}", match.group(0), True))
    for match in _ZH_MEASURE_RE.finditer(run):
        number = zh_number(match.group(1))
        if number is not None:
            out.append(Term(str(number), match.group(0), True))
    for word in zh_words(run):
        if word in ZH_STOPWORDS or not word.strip():
            continue
        out.append(Term(word, word, True))
    return out


# "Kounotori 7", "Progress 42", "Expedition 66": a name and its number are one designator, as "Crew-7" is.
# Not a month or weekday with a day ("March 23"), not a quantity ("About 400"), not a date ("Sept. 27, 2018").
_NAMED_NUMBER_RE = re.compile(
    r"\b([A-Z][a-z]{2,})[ \u00a0](\d{1,3}[A-Za-z]?)\b(?![.,:]?\d)(?!\s*(?:st|nd|rd|th)\b)"
)
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday about nearly "
    "almost around roughly some over under only just approximately more less than at by in on for from of "
    "the and after before since until within page chapter section figure table number".split()
)
# "神舟15号": the digits break the run of characters, so the Han-only pattern never sees it.
_ZH_ARABIC_DESIGNATOR_RE = re.compile(f"([{HAN}]{{2}})(\\d{{1,3}})号")


def designator_numbers(text: str) -> list[tuple[int, int]]:
    """Where the numbers of "Kounotori 6", "Expedition 66" are: part of a name, not a quantity."""
    return [
        m.span(2)
        for m in _NAMED_NUMBER_RE.finditer(text)
        if m.group(1).lower() not in _NOT_NAMES and m.group(1).lower() not in EN_STOPWORDS
    ]


def _spaced_designators(text: str) -> list[Term]:
    out = []
    for match in _NAMED_NUMBER_RE.finditer(text):
        name = match.group(1).lower()
        if name not in _NOT_NAMES and name not in EN_STOPWORDS:
            out.append(Term(f"{name}-{match.group(2).lower()}", match.group(0), False))
    for match in _ZH_ARABIC_DESIGNATOR_RE.finditer(text):
        out.append(Term(f"{match.group(1)}-{int(match.group(2))}", match.group(0), True))
    return out


# A name in quotes ('the Dragon "Resilience"', “梦天”号) says the sentence names something: it counts as the
# word "name" (名字), so "what did they name it" finds the sentence that gives the name.
QUOTED_NAME_RE = re.compile(r"[\"‘']([A-Z][\w-]*(?: [A-Z][\w-]*){0,3})[\"’']")
_QUOTED_ZH_RE = re.compile(f'["「『]([{HAN}A-Za-z0-9-]{{1,10}})["」』]')


def _quoted_names(text: str) -> list[Term]:
    out = [Term("name", m.group(0), False) for m in QUOTED_NAME_RE.finditer(text)]
    out.extend(Term("名字", m.group(0), True) for m in _QUOTED_ZH_RE.finditer(text))
    return out


def terms(text: str) -> list[Term]:
    """Index terms of a normalised text, in order (duplicates kept); designators written with a space
    or with Arabic digits in Chinese come last, besides their parts, and a quoted name as "name"."""
    out: list[Term] = []
    pos = 0
    for match in HAN_RUN_RE.finditer(text):
        if match.start() > pos:
            out.extend(latin_terms(text[pos : match.start()]))
        out.extend(zh_terms(match.group(0)))
        pos = match.end()
    if pos < len(text):
        out.extend(latin_terms(text[pos:]))
    out.extend(_spaced_designators(text))
    out.extend(_quoted_names(text))
    return out


def term_set(text: str) -> set[str]:
    """Index terms of a text. Call ``bilingual.load()`` once before (articles and questions must be cut
    with the same dictionary)."""
    return {t.term for t in terms(normalise(text))}
