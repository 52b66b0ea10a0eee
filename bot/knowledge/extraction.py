"""Reading the answer out of a sentence, by question type: a number with its unit, a date, a name, a place.

Each extractor returns candidates in the sentence's own words with, where it is a value, the same
value in the other language ("199 days" ↔ "199天", "Oct. 16" ↔ "10月16日"), so a reply can state the
answer in the question's language and quote the sentence in its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import bot.knowledge.bilingual as bilingual
from bot.knowledge.lexicon import EN_NUMBER_WORDS
from bot.knowledge.text import HAN, HAN_RE, known_word, stem, zh_cut, zh_number

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME_RE = (
    r"\d{1,2}:\d{2}(?:\s*(?:a\.m\.|p\.m\.|am\b|pm\b))?(?:\s*(?:EDT|EST|CDT|CST|PDT|PST|UTC|GMT|BST|CET|CEST|"
    r"Moscow time|local time|Eastern|Central))?"
)
_EN_DATE = re.compile(
    rf"(?:{_WEEKDAY_RE},?\s+)?{_MONTH_RE}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH_RE}\s+\d{{4}}|\b(?:early|mid|late)[- ]{_MONTH_RE}|\b{_MONTH_RE}(?=[\s,.]|$)"
    rf"|\b(?:in|since|by|until|from) (?:19|20)\d{{2}}\b|\b{_WEEKDAY_RE}\b"
)
_EN_TIME = re.compile(_TIME_RE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_ZH_DATE = re.compile(
    r"(?:(?:\d{4}|今|去|明)年)?(?:\d{1,2}月)?(?:\d{1,2}[日号])?(?:凌晨|上午|下午|晚上|早上|中午)?"
    r"(?:\d{1,2}[时点](?:半|\d{1,2}分)?(?:\d{1,2}秒)?)?"
)
_ZH_WEEKDAY = re.compile(r"(?:周|星期)[一二三四五六日天](?:\s*[(（]\d{1,2}日[)）])?")

# Number words: the lexicon's, plus the vague plurals news writes ("dozens of", "hundreds of").
_WORD_NUMBERS = {**EN_NUMBER_WORDS, "hundred": 100, "dozens": 24, "hundreds": 200, "thousands": 2000}
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_WORDNUM = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
_SCALE = r"(?:\s+(?:million|billion|thousand|trillion))?"
_EN_QUANTITY = re.compile(
    rf"(?<![\w.:-])(?:more than |nearly |about |almost |over |some |around |roughly |up to )?"
    rf"(?P<num>{_NUM}|(?:{_WORDNUM})(?:[- ](?:{_WORDNUM}))?)\b{_SCALE}"
    rf"(?:[- ](?P<unit>(?:[a-zA-Z]+)(?:[- ](?:old|long))?))?",
    re.IGNORECASE,
)
_ZH_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)(?:[万亿])?"
_ZH_QUANTITY = re.compile(
    rf"(?P<num>{_ZH_NUM})(?:多)?(?:个多?(?=小时|星期))?(?P<unit>个多?月|小时|分钟|公斤|千克|公里|千米|英里|美元|新元|欧元|日元|卢布|[天年周次块名位人颗艘架项条只圈岁吨米元倍舱船])(?:(?<=小时)|(?<=天)|(?![0-9]))"
)
_TIME_UNITS = {
    "day": "天",
    "hour": "小时",
    "minut": "分钟",
    "month": "个月",
    "year": "年",
    "week": "周",
    "second": "秒",
}
_ZH_TIME_UNITS = {
    "天": "day",
    "日": "day",
    "小时": "hour",
    "分钟": "minute",
    "个月": "month",
    "年": "year",
    "周": "week",
}
_UNIT_EQUIV = {
    "kg": "kilogram",
    "kilogram": "kilogram",
    "公斤": "kilogram",
    "千克": "kilogram",
    "km": "kilomet",
    "kilomet": "kilomet",
    "公里": "kilomet",
    "千米": "kilomet",
    "mile": "mile",
    "mi": "mile",
    "英里": "mile",
    "天": "day",
    "日": "day",
    "小时": "hour",
    "分钟": "minut",
    "个月": "month",
    "年": "year",
    "岁": "year",
    "周": "week",
    "圈": "orbit",
    "次": "time",
}


@dataclass(frozen=True)
class Extracted:
    """One candidate answer in a sentence: its words there, its value in English and Chinese."""

    surface: str
    en: str
    zh: str
    start: int
    unit: str | None = None


def _en_number(raw: str) -> float | None:
    raw = raw.lower().replace(",", "")
    try:
        return float(raw)
    except ValueError:
        pass
    total = 0
    for part in re.split(r"[- ]", raw):
        if part not in _WORD_NUMBERS:
            return None
        total += _WORD_NUMBERS[part]
    return float(total)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def _unit_key(word: str | None) -> str | None:
    if not word:
        return None
    if re.search("[\u4e00-\u9fff]", word):
        return _UNIT_EQUIV.get(word, word)
    key = stem(word.lower().split("-")[0].split(" ")[0])
    return _UNIT_EQUIV.get(key, key)


def quantities(sentence: str) -> list[Extracted]:
    out: list[Extracted] = []
    for match in _EN_QUANTITY.finditer(sentence):
        value = _en_number(match["num"])
        if value is None:
            continue
        surface = match.group(0).strip()
        unit = match["unit"]
        if unit and unit.lower() in ("a", "the", "and", "of", "in", "on", "at", "to", "for", "with", "from"):
            surface = match["num"]
            unit = None
        key = _unit_key(unit)
        zh_unit = _TIME_UNITS.get(key or "", "")
        scale = re.search(r"million|billion|thousand|trillion", surface, re.I)
        zh_value = _fmt(value)
        if scale:
            factor = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}[
                scale.group(0).lower()
            ]
            total = value * factor
            zh_value = _fmt(total / 1e8) + "亿" if total >= 1e8 else _fmt(total / 1e4) + "万"
        zh = f"{zh_value}{zh_unit}" if zh_unit else (f"{zh_value} {unit}" if unit else zh_value)
        out.append(Extracted(surface, surface, zh, match.start(), key))
    for match in re.finditer(r"[A-Z][a-z]+, (\d{1,3}),", sentence):  # "Kayla Barron, 34,"
        out.append(Extracted(match.group(1), match.group(1), f"{match.group(1)}岁", match.start(1), "age"))
    for match in _ZH_QUANTITY.finditer(sentence):
        raw = match["num"]
        zh_scale = raw[-1] if raw[-1] in "万亿" else ""
        number = raw[:-1] if zh_scale else raw
        value = float(number) if re.fullmatch(r"\d+(?:\.\d+)?", number) else zh_number(number)
        if value is None:
            continue
        unit = match["unit"].replace("多", "")  # "3个多月": more than three months
        en_value = _fmt(float(value))
        if zh_scale:
            total = float(value) * (1e8 if zh_scale == "亿" else 1e4)
            en_value = (_fmt(total / 1e9) + " billion") if total >= 1e9 else (_fmt(total / 1e6) + " million")
        en_unit = _ZH_TIME_UNITS.get(unit)
        if unit == "美元":
            en = f"US${en_value}"
        elif en_unit:
            en = f"{en_value} {en_unit}{'s' if float(value) != 1 else ''}"
        elif unit in ("公斤", "千克"):
            en = f"{en_value} kg"
        elif unit in ("公里", "千米"):
            en = f"{en_value} km"
        else:
            en = en_value
        if "多" in match.group(0) and en_unit:
            en = f"over {en}"  # "17个多小时": more than 17 hours
        out.append(Extracted(match.group(0), en, match.group(0), match.start(), _unit_key(unit)))
    out.sort(key=lambda e: e.start)
    return _joined_durations(sentence, out)


def _joined_durations(sentence: str, found: list[Extracted]) -> list[Extracted]:
    """ "six hours and 32 minutes" is one duration, not two."""
    out: list[Extracted] = []
    for cand in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.unit in _TIME_UNITS
            and cand.unit in _TIME_UNITS
            and re.fullmatch(r"\s*(?:and|,|零)?\s*", sentence[prev.start + len(prev.surface) : cand.start])
        ):
            surface = sentence[prev.start : cand.start + len(cand.surface)]
            # "6小时35分钟" reads "6 hours 35 minutes" in English; "six hours and 32 minutes" stays as written
            en = f"{prev.en} {cand.en}" if re.search(r"[\u4e00-\u9fff]", surface) else surface
            out[-1] = Extracted(surface, en, prev.zh + cand.zh, prev.start, prev.unit)
            continue
        out.append(cand)
    return out


def _month_number(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for i, name in enumerate(_MONTHS, 1):
        if name.startswith(word[:3]) and len(word) >= 3:
            return i
    return None


def _en_date_zh(surface: str) -> str:
    month = re.search(_MONTH_RE, surface)
    day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b(?!:)", surface[month.end() :] if month else "")
    year = _YEAR.search(surface)
    parts = []
    if year:
        parts.append(f"{year.group(0)}年")
    if month:
        number = _month_number(month.group(0))
        if number:
            parts.append(f"{number}月")
    if day and month:
        parts.append(f"{int(day.group(1))}日")
    return "".join(parts) or surface


def _zh_date_en(surface: str) -> str:
    year = re.search(r"(\d{4})年", surface)
    month = re.search(r"(\d{1,2})月", surface)
    day = re.search(r"(\d{1,2})[日号]", surface)
    clock = re.search(r"(\d{1,2})[时点](?:(\d{1,2})分|(半))?", surface)
    parts = []
    if month:
        parts.append(_MONTHS[int(month.group(1)) - 1].capitalize() if 1 <= int(month.group(1)) <= 12 else "")
        if day:
            parts[-1] += f" {int(day.group(1))}"
    if year:
        parts.append(year.group(1) if not parts else f", {year.group(1)}")
    text = "".join(p if p.startswith(",") else (" " + p if i else p) for i, p in enumerate(parts)).strip()
    if clock:
        minutes = 30 if clock.group(3) else int(clock.group(2) or 0)
        text = f"{text}, {int(clock.group(1)):02d}:{minutes:02d}".strip(", ")
    return text or surface


def dates(sentence: str) -> list[Extracted]:
    out: list[Extracted] = []
    for match in _EN_DATE.finditer(sentence):
        surface = match.group(0).strip()
        surface = re.sub(r"^(?:in|since|by|until|from) ", "", surface)
        out.append(Extracted(surface, surface, _en_date_zh(surface), match.start()))
    for match in _EN_TIME.finditer(sentence):
        surface = match.group(0).strip()
        out.append(Extracted(surface, surface, surface, match.start(), "time"))
    for match in _ZH_DATE.finditer(sentence):
        surface = match.group(0)
        if not re.search(r"\d", surface) or not re.search(r"[年月日号时点]", surface):
            continue
        if re.fullmatch(r"\d+年", surface) and not re.fullmatch(r"\d{4}年", surface):
            continue  # "6年" is a duration
        day = re.fullmatch(r"(\d+)号", surface)
        if day and (int(day.group(1)) > 31 or re.search(f"[{HAN}]{{2}}$", sentence[: match.start()])):
            continue  # "进步99号" is a ship, not a day of the month
        unit = "time" if re.search(r"[时点]", surface) else None
        out.append(Extracted(surface, _zh_date_en(surface), surface, match.start(), unit))
    for match in _ZH_WEEKDAY.finditer(sentence):
        out.append(Extracted(match.group(0), match.group(0), match.group(0), match.start()))
    for match in re.finditer(r"(?:今年|去年|明年|当天|当日|次日)", sentence):
        out.append(Extracted(match.group(0), match.group(0), match.group(0), match.start()))
    # decades: "the 1960s", "上世纪60年代" / "1960年代"
    for match in re.finditer(r"\b(?:19|20)\d0s\b", sentence):
        decade = match.group(0)
        out.append(Extracted(decade, decade, f"{decade[:4]}年代", match.start()))
    for match in re.finditer(r"(?:上世纪|20世纪|二十世纪)?(\d0|(?:19|20)\d0)年代", sentence):
        years = match.group(1) if len(match.group(1)) == 4 else f"19{match.group(1)}"
        out.append(Extracted(match.group(0), f"the {years}s", match.group(0), match.start()))
    out.sort(key=lambda e: e.start)
    return out


_NOT_NAME = frozenset(
    """the a an and of in on at for to from with by as nasa esa jaxa roscosmos spacex international space station
    iss center centre agency module program programme mission expedition crew dragon soyuz falcon
    earth moon mars sun gulf ocean florida texas houston russia russian american japanese european
    kazakhstan cosmodrome kennedy johnson headquarters washington but after before during while
    monday tuesday wednesday thursday friday saturday sunday this that these those it its he she they
    flight engineer engineers commanders pilots specialists commander astronaut astronauts cosmonaut cosmonauts
    spacewalk rocket launch
    """.split()
    + [m for m in _MONTHS]
    + [m[:3] for m in _MONTHS]
)
_CAP_SEQ = re.compile(
    r"(?<![A-Za-z0-9’'])(?:[A-Z][A-Za-z0-9’'.-]*(?:\s+(?:of\s+(?:the\s+)?|de\s+|van\s+|von\s+)?[A-Z][A-Za-z0-9’'.-]*)*)"
)
_ROLE_BEFORE = re.compile(
    r"(?:astronaut|cosmonaut|commander|administrator|engineer|producer|participant|spokes(?:man|woman|person)|"
    r"chief|director|head|CEO|president|minister|pilot|specialist|Dr\.|by|with|joined by|and)\s*$",
    re.I,
)


def _clean_cap(surface: str) -> str:
    return surface.strip(" .,;:’'\"").removesuffix("’s").removesuffix("'s")


def proper_phrases(sentence: str) -> list[Extracted]:
    """Capitalised phrases of an English sentence (not its first word unless it looks like a name)."""
    out: list[Extracted] = []
    for match in _CAP_SEQ.finditer(sentence):
        surface = _clean_cap(match.group(0))
        if not surface:
            continue
        out.append(Extracted(surface, surface, surface, match.start()))
    return out


def people_en(sentence: str, exclude: set[str]) -> list[Extracted]:
    out = []
    for cand in proper_phrases(sentence):
        words = [w.lower().strip(".’'") for w in cand.surface.split()]
        kept = [w for w in cand.surface.split() if w.lower().strip(".’'") not in _NOT_NAME]
        if not kept or any(w in exclude for w in words):
            continue
        name = " ".join(kept)
        if len(name) < 3 or name.isupper():
            continue
        role = bool(_ROLE_BEFORE.search(sentence[: cand.start]))
        two_words = len(kept) >= 2
        if not (role or two_words):
            continue
        out.append(Extracted(name, name, _zh_person(name), cand.start, "role" if role else None))
    return out


def _zh_person(name: str) -> str:
    for zh, en in bilingual.load().zh_names.items():
        if en.lower() == name.lower():
            return zh
    return name


_ZH_LIST_RE = re.compile("(?:航天员|宇航员|乘员|指令长)((?:[\u4e00-\u9fff]{2,3}、)+)([\u4e00-\u9fff]{2,3})")
_ZH_ROLL_RE = re.compile(
    "(?:航天员|宇航员|乘员|指令长|飞行工程师|载荷专家|局长|发言人|主席|总统|总理|部长|主任|署长|制片人|导演)"
    "((?:[\u4e00-\u9fff]{2,3}、)*[\u4e00-\u9fff]{2,3}?)(?=[将和与在的曾于表说称是为也等组，,。、]|$)"
)
# Characters that begin or end a phrase jieba's HMM glued together ("另据", "上待"), never a name.
_NOT_IN_NAMES = frozenset("上下里中内外在待了的着过把被将和与给对从向是有要会能就都也又还去来到据另该此其之")


def chinese_names(sentence: str, tags: tuple[str, ...] = ("nr", "nrfg", "nrt")) -> list[Extracted]:
    """Names in a Chinese sentence: dictionary words with one of ``tags``, and for person names also
    words of 2–4 characters the dictionary lacks (jieba's HMM found them; 翟志刚, 平野)."""
    book = bilingual.load()
    people = any(t.startswith("nr") for t in tags)
    out: list[Extracted] = []
    pos = 0
    for word in zh_cut(sentence):
        start = sentence.find(word, pos)
        pos = start + len(word) if start >= 0 else pos
        if len(word) < 2 or not HAN_RE.search(word):
            continue
        tag = book.zh_tags.get(word, ("",))[0]
        new_word = (
            not known_word(word) and 2 <= len(word) <= 4 and bool(re.fullmatch("[\u4e00-\u9fff]+", word))
        )
        if people and _not_a_person(word, sentence, start, book):
            continue
        if tag in tags or (people and new_word):
            en = book.zh_names.get(word)
            if en is None and (tag.startswith("nr") or new_word):
                en = bilingual.name_pinyin(word)
            out.append(Extracted(word, en or word, word, max(start, 0)))
    # "航天员陈海峰、李思远、周晓岚": names listed after a role word (jieba may cut a name in two)
    if people:
        rolls = [(m.start(1), m.group(1)) for m in _ZH_ROLL_RE.finditer(sentence)]
        # "航天员聂海胜、刘伯明、汤洪波安全出舱": the last of a list is as long as the names before it
        for match in _ZH_LIST_RE.finditer(sentence):
            listed = match.group(1).split("、")
            size = max(set(map(len, listed[:-1])), key=[len(n) for n in listed[:-1]].count)
            listed[-1] = match.group(2)[:size]
            if not any(start == match.start(1) for start, _ in rolls):
                rolls.append((match.start(1), "、".join(listed)))
        for pos, roll in rolls:
            for name in roll.split("、"):
                if all(name != c.surface for c in out) and not _not_a_person(name, sentence, pos, book):
                    out.append(Extracted(name, bilingual.name_pinyin(name) or name, name, pos))
                pos += len(name) + 1
    # Transliterated foreign names are written with a middle dot: 托马斯·佩斯凯 (the name, not the title
    # before it, "宇航员费奥多尔·尤尔奇欣", nor the words after it, "佩吉·惠特森和杰克")
    dotted = []
    for match in _ZH_DOTTED_NAME_RE.finditer(sentence):
        # the name ends where a verb begins: "安德烈·费佳耶夫通过控制…" is 安德烈·费佳耶夫
        name = match.group(0)
        verb = _ZH_VERB_AFTER_NAME_RE.search(name, name.index("·") + 2)
        name = name[: verb.start()] if verb else name
        dotted.append((match.start(), match.start() + len(name)))
        out.append(Extracted(name, name, name, match.start()))
    # "日本籍的大西卓哉和…": a name after its nationality (jieba may cut it in two)
    if people:
        for match in _ZH_NATIONAL_NAME_RE.finditer(sentence):
            name = match.group(1)
            if any(c.surface == name for c in out) or _not_a_person(name, sentence, match.start(1), book):
                continue
            out = [c for c in out if not (match.start(1) <= c.start < match.end(1))]
            out.append(Extracted(name, bilingual.name_pinyin(name) or name, name, match.start(1)))
    # "培斯科夫(Kirill Peskov)": the Chinese name and, in brackets, how it is written in English
    if people:
        for match in _ZH_GLOSSED_NAME_RE.finditer(sentence):
            name, latin = match.group(1), match.group(2).strip()
            if len(latin.split()) < 2 or _not_a_person(name, sentence, match.start(1), book):
                continue
            dotted.append((match.start(1), match.end(1)))
            out = [c for c in out if not (match.start(1) <= c.start < match.end(1))]
            out.append(Extracted(name, latin, name, match.start(1)))
    out = [c for c in out if not any(a <= c.start < b and c.surface != sentence[a:b] for a, b in dotted)]
    out.sort(key=lambda e: e.start)
    return out


_ZH_NATIONAL_NAME_RE = re.compile(r"籍的?([\u4e00-\u9fff]{2,4}?)(?=[和与及、,，(（]|$)")
_ZH_GLOSSED_NAME_RE = re.compile(
    r"(?:^|(?<=[的和与及、,，籍是]))((?:(?![的和与及、籍是])[\u4e00-\u9fff]){2,5})"
    r"\(([A-Z][A-Za-z.'-]+(?: [A-Z][A-Za-z.'-]+){1,3})\)"
)
# Verbs that end a dotted name jieba ran on into ("安德烈·费佳耶夫通过控制…")
_ZH_VERB_AFTER_NAME_RE = re.compile(
    "通过|控制|使用|利用|表示|说|称|开启|进行|完成|执行|乘坐|搭乘|担任|负责|操作|打开|进入|返回|出舱"
)
_ZH_DOTTED_NAME_RE = re.compile(
    r"(?:(?![员长局家者士官和与及])[\u4e00-\u9fff]){1,4}·(?:(?![和与及等在将于的是])[\u4e00-\u9fff]){1,8}"
)


def _not_a_person(word: str, sentence: str, start: int, book: bilingual.Dictionary) -> bool:
    """A place or agency of the domain (莫斯科, 哈萨克斯坦), a common word (最早), a demonstrative (这艘) or the
    tail of a time ("3日晨", "10点半") is no one's name."""
    if word in book.zh_names or word[:1] in "这那该此每各本其某全一二两三四五六七八九十几":
        return True  # a demonstrative or a count ("两人") is no one's name
    if word[-1:] in "网社台报刊站号":
        return True  # a news outlet or site (央广网, 官网), a vehicle (乘龙号)
    if word[:1] in _NOT_IN_NAMES or word[-1:] in _NOT_IN_NAMES:
        return True  # a phrase jieba's HMM glued together ("壁有", "上待")
    if start > 0 and sentence[start - 1].isdigit():
        return True
    if re.search(
        r"(?:记者|編輯|编辑|通讯员|摄影|撰稿|报道)[^)）(（,，。]{0,12}$", sentence[max(0, start - 16) : start]
    ):
        return (
            True  # the byline of the report ("(记者陈畅)", "(记者张棉棉 孙鲁晋)"), not a person of the story
        )
    tag = book.zh_tags.get(word, ("",))[0]
    return known_word(word) and not tag.startswith("nr") and word not in book.zh_proper


def quoted_zh(sentence: str) -> list[Extracted]:
    out = []
    for match in re.finditer(r"[“\"「『]([^”\"」』]{1,30})[”\"」』]", sentence):
        out.append(Extracted(match.group(1), match.group(1), match.group(1), match.start(1)))
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9 .'-]{2,40}", sentence):
        surface = match.group(0).strip()
        if re.search(r"[a-z]", surface):
            out.append(Extracted(surface, surface, surface, match.start()))
    return out
