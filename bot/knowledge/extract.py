"""Pull numbers with units, crew rosters and photographers out of an article's sentences.

Everything is pattern based over general space-station vocabulary (see lexicon.py), so a new
article with other names and numbers is read the same way as the shipped ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.knowledge.lexicon import (
    AGENCIES,
    EN_NUMBER_WORD_RE,
    LEXICON,
    NON_NAME_WORDS,
    ROLE_WORDS,
    ZH_NUMERAL_CHARS,
    canonical_agency,
    normalize_text,
    parse_en_number_words,
    parse_zh_number,
)
from bot.knowledge.model import CrewRef, FactRef, Passage

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_TOKEN = (
    rf"(?:[{_UP}](?:[{_LO}]+|[{_LO}]*[{_UP}][{_LO}]+|'[{_UP}][{_LO}]+)(?:-[{_UP}][{_LO}]+)?|[{_UP}]\.)"
)
_PARTICLE = r"(?:van|von|de|der|den|da|di|del|la|le|bin|al|el|dos|du|ter)"
NAME_RE = rf"{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)*{_NAME_TOKEN}){{0,3}}"
_NAME_COMPILED = re.compile(rf"(?<![A-Za-z{_LO}{_UP}]){NAME_RE}(?![A-Za-z{_LO}])")
_HAN = r"\u4e00-\u9fff"


def clean_name(raw: str, *, allow_single: bool = False) -> str | None:
    """Drop leading non-name words ('ESA astronaut', 'The'); None when no person name is left."""
    tokens = raw.split()
    while tokens and (tokens[0].lower().strip(".'") in NON_NAME_WORDS or canonical_agency(tokens[0])):
        tokens.pop(0)
    while tokens and tokens[-1].lower() in NON_NAME_WORDS:
        tokens.pop()
    if any(t.lower() in NON_NAME_WORDS and not re.fullmatch(_PARTICLE, t) for t in tokens):
        return None
    if not tokens or (len(tokens) < 2 and not allow_single):
        return None
    if all(len(t.rstrip(".")) == 1 for t in tokens):
        return None
    return " ".join(tokens)


# ---------------------------------------------------------------------------------------------
# Photographer
# ---------------------------------------------------------------------------------------------
_PHOTO_NOUN = r"(?:photos?|pictures?|images?|photographs?|shots|snapshots|imagery|footage)"
_ZH_NAME = rf"(?:[{_HAN}]{{1,8}}·[{_HAN}·]{{1,16}}|{NAME_RE})"
_PHOTOGRAPHER_PATTERNS = [
    re.compile(
        rf"(?P<name>{NAME_RE})\s*(?:,[^,]{{0,80}},\s*)?(?:was|is|had been)\s+(?:the\s+)?"
        r"(?:person|one|man|woman|astronaut|photographer|crew member|crewmember)\s+behind\s+the\s+(?:camera|lens)"
    ),
    re.compile(
        rf"{_PHOTO_NOUN}\s+(?:were\s+|was\s+|had been\s+|have been\s+)?(?:all\s+)?(?:taken|captured|shot|snapped|made)"
        rf"\s+by\s+(?:[A-Za-z]+\s+){{0,3}}?(?P<name>{NAME_RE})"
    ),
    re.compile(rf"(?:photographed|captured|shot)\s+by\s+(?:[A-Za-z]+\s+){{0,3}}?(?P<name>{NAME_RE})"),
    re.compile(
        rf"(?P<name>{NAME_RE})\s+(?:took|captured|shot|snapped|photographed)\s+(?:the|these|those|this|several|many|"
        rf"a series of|a set of)?\s*(?:[a-z]+\s+)?{_PHOTO_NOUN}"
    ),
    re.compile(rf"(?:[Pp]hotographer|[Cc]ameraman|[Cc]amerawoman)\s+(?P<name>{NAME_RE})"),
    re.compile(
        rf"(?:宇航员|航天员|摄影师|乘员)?(?P<name>{_ZH_NAME})\s*(?:拍下了|拍摄了|拍摄下|摄下了|拍到了|拍下|拍摄|拍了|拍到)"
        r"(?:这些|这组|那些|该组|这|一组|一系列)?(?:的)?(?:画面|照片|图片|图像|影像|相片|照)"
    ),
    re.compile(rf"由(?:宇航员|航天员|摄影师)?(?P<name>{_ZH_NAME})\s*(?:拍摄|拍下|所拍|摄)"),
    re.compile(rf"(?:摄影师|拍摄者)(?:是|为)?\s*(?P<name>{_ZH_NAME})"),
    re.compile(rf"(?:宇航员|航天员)(?P<name>[{_HAN}]{{2,4}})(?:拍下了|拍摄了|拍下|拍摄|拍了)"),
]


def find_photographer(passages: Sequence[Passage]) -> tuple[str | None, int | None]:
    """The person the article says took the photos, and the sentence that says so."""
    for passage in passages:
        text = normalize_text(passage.text)
        for pattern in _PHOTOGRAPHER_PATTERNS:
            match = pattern.search(text)
            if not match:
                continue
            raw = match.group("name").strip()
            if re.search(rf"[{_HAN}]", raw):
                name = raw if 2 <= len(raw) <= 20 else None
            else:
                name = clean_name(raw, allow_single=True)
            if name and name.lower() not in ("he", "she", "they", "we", "i"):
                return name, passage.index
    return None, None


# ---------------------------------------------------------------------------------------------
# Crew rosters
# ---------------------------------------------------------------------------------------------
def _agency_body() -> str:
    aliases: list[str] = []
    for en_aliases, zh_aliases, _zh in AGENCIES.values():
        aliases.extend(en_aliases)
        aliases.extend(zh_aliases)
    aliases.sort(key=len, reverse=True)
    return "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in aliases)


_AGENCY = _agency_body()
_ROLE_EN = (
    r"(?:astronauts?|cosmonauts?|taikonauts?|flight engineers?|commanders?|crew ?members?|crewmembers?)"
)
_ROLE_ZH = r"(?:宇航员|航天员|乘员|飞行工程师|指令长)"
_AGENCY_EVENT_RE = re.compile(
    rf"(?P<paren>[(（]\s*(?P<pa>{_AGENCY})\s*[)）])"
    rf"|(?P<suffix>(?<![A-Za-z])(?:of|from|with|representing|for)\s+(?:the\s+)?(?P<sa>{_AGENCY})(?![A-Za-z])"
    rf"(?!'s|\s+{_ROLE_EN}))"
    rf"|(?P<prefix>(?<![A-Za-z])(?:来自)?(?P<xa>{_AGENCY})(?![A-Za-z])(?:\s*[(（][^)）]{{1,60}}[)）])?"
    rf"(?:'s)?\s*(?:的)?\s*(?:{_ROLE_EN}|{_ROLE_ZH})?)",
    re.IGNORECASE,
)
_CREW_CUE_RE = re.compile(
    r"(?<![A-Za-z])(?:crew|crews|crewmembers?|crewmates?|expedition|aboard|on board|onboard|arriv\w*|joined|"
    r"residents?)(?![A-Za-z])|乘员|乘组|机组|在轨|进驻|入驻|抵达|成员|考察组",
    re.IGNORECASE,
)
_ASTRONAUT_CUE_RE = re.compile(
    r"(?<![A-Za-z])(?:astronauts?|cosmonauts?|taikonauts?)(?![A-Za-z])|航天员|宇航员", re.I
)
_SEPARATOR_RE = re.compile(
    r"^(?:\s|,|、|，|;|；|\band\b|\bas well as\b|\bplus\b|&|和|与|及|以及|the|"
    + "|".join(re.escape(r) for r in ROLE_WORDS)
    + rf"|{_ROLE_EN}|{_ROLE_ZH}|的)*$",
    re.IGNORECASE,
)
_ZH_SEGMENT_SPLIT_RE = re.compile(r"[、，,；;：:]|以及|和|与|及")
_ZH_NAME_LEAD_RE = re.compile(
    r"^.*(?:航天员|宇航员|乘员|的|是|为|有|包括|由|：|:|指令长|飞行工程师|任务专家)"
)
_ZH_NAME_TAIL_RE = re.compile(
    r"(?:组成|等人|等|在|进驻|抵达|已经|已|将|于|分别|共同|一起|目前|现在|正|。).*$"
)


@dataclass
class _NameHit:
    start: int
    end: int
    name: str
    agency: str | None = None
    explicit: bool = False
    role: str | None = None


def _role_before(text: str) -> str | None:
    tail = text[-40:].lower()
    best: tuple[int, str] | None = None
    for word, role in ROLE_WORDS.items():
        pos = tail.rfind(word)
        if pos >= 0 and not tail[pos + len(word) :].strip(" ,、的"):
            if best is None or pos > best[0]:
                best = (pos, role)
    return best[1] if best else None


def _han_names(sentence: str) -> list[_NameHit]:
    hits: list[_NameHit] = []
    pos = 0
    for part in [*_ZH_SEGMENT_SPLIT_RE.split(sentence)]:
        start = sentence.find(part, pos)
        pos = start + len(part)
        if not part.strip():
            continue
        cleaned = _AGENCY_EVENT_RE.sub(" ", part)
        cleaned = _NAME_COMPILED.sub(" ", cleaned).strip()
        core = _ZH_NAME_LEAD_RE.sub("", cleaned)
        core = _ZH_NAME_TAIL_RE.sub("", core).strip()
        if (
            re.fullmatch(rf"[{_HAN}]{{2,4}}|[{_HAN}]{{1,8}}·[{_HAN}·]{{1,16}}", core)
            and core != cleaned.strip()[:0]
        ):
            if _looks_like_han_name(core):
                offset = start + part.find(core)
                hits.append(_NameHit(offset, offset + len(core), core, role=_role_before(sentence[:offset])))
    return hits


_NOT_HAN_NAME = re.compile(r"[的了是在和与及有为将已这那些个名位人员组站船局国家年月日天时分秒]")


def _looks_like_han_name(core: str) -> bool:
    """Two to four characters that are not a known word (country, agency, concept)."""
    if core in LEXICON.zh_words or canonical_agency(core) or any(w in core for w in _ZH_PLACE_WORDS):
        return False
    return "·" in core or not _NOT_HAN_NAME.search(core)


_ZH_PLACE_WORDS = (
    "美国",
    "俄罗斯",
    "欧洲",
    "日本",
    "加拿大",
    "中国",
    "法国",
    "德国",
    "意大利",
    "印度",
    "地球",
    "太空",
)


def find_crew(passages: Sequence[Passage]) -> list[CrewRef]:
    """Crew listed with their agencies, e.g. 'A and B of Roscosmos, C from NASA' or 'NASA的A、B'."""
    found: dict[str, CrewRef] = {}
    for passage in passages:
        text = normalize_text(passage.text)
        crew_cue = bool(_CREW_CUE_RE.search(text))
        if not crew_cue and not _ASTRONAUT_CUE_RE.search(text):
            continue
        agencies = list(_AGENCY_EVENT_RE.finditer(text))
        names: list[_NameHit] = []
        agency_spans = [m.span() for m in agencies]
        for match in _NAME_COMPILED.finditer(text):
            if any(s <= match.start() < e for s, e in agency_spans):
                continue
            name = clean_name(match.group(0))
            if name:
                start = match.start() + match.group(0).find(name)
                names.append(
                    _NameHit(start, start + len(name), name, role=_role_before(text[: match.start()]))
                )
        if re.search(rf"[{_HAN}]", text):
            names.extend(h for h in _han_names(text) if not any(n.start <= h.start < n.end for n in names))
        # A roster names two or more people, or one person with an agency in a crew sentence.
        if len(names) < 2 and not (names and agencies and crew_cue):
            continue
        names.sort(key=lambda h: h.start)
        events: list[tuple[int, int, str, object]] = [(h.start, h.end, "name", h) for h in names]
        for match in agencies:
            if match.group("paren"):
                kind, alias = "paren", match.group("pa")
            elif match.group("suffix"):
                kind, alias = "suffix", match.group("sa")
            else:
                kind, alias = "prefix", match.group("xa")
                after = text[match.end() : match.end() + 3]
                plain = re.sub(r"\s*[(（][^)）]*[)）]", "", match.group(0)).strip() == alias.strip()
                if plain and not re.search(rf"[{_HAN}]", alias) and not re.match(rf"\s*[{_UP}]", after):
                    kind = "suffix"  # a bare 'NASA' after names: '..., Kayla Barron, NASA, and ...'
            events.append((match.start(), match.end(), kind, canonical_agency(alias)))
        events.sort(key=lambda e: e[0])
        run: list[_NameHit] = []
        prefix: str | None = None
        last_end = 0
        for start, end, kind, payload in events:
            gap = text[last_end:start]
            if run and not _SEPARATOR_RE.match(gap):
                run = []
                prefix = None if kind == "name" else prefix
            if kind == "name":
                assert isinstance(payload, _NameHit)
                payload.agency = prefix
                run.append(payload)
            elif kind == "prefix":
                run = []
                prefix = payload if isinstance(payload, str) else None
            elif kind == "suffix" and run:
                unassigned = [h for h in run if not h.explicit and h.agency is None]
                for hit in unassigned or run[-1:]:
                    hit.agency = payload if isinstance(payload, str) else None
                    hit.explicit = True
                run = []
                prefix = None
            elif kind == "paren" and run:
                run[-1].agency = payload if isinstance(payload, str) else None
                run[-1].explicit = True
            last_end = end
        for hit in names:
            key = hit.name.casefold()
            if key not in found or (found[key].agency is None and hit.agency):
                found[key] = CrewRef(hit.name, hit.agency, hit.role)
    surnames = [m.name.split()[-1] for m in found.values() if " " in m.name]
    unique = {s for s in surnames if surnames.count(s) == 1 and len(s) >= 3}
    return [_with_role(member, passages, unique) for member in found.values()]


_ROLE_AFTER_RE = re.compile(
    r",?\s*(?:the\s+|who\s+(?:is|will\s+be|serves\s+as)\s+(?:the\s+)?|will\s+(?:serve|act)\s+as\s+(?:the\s+)?|"
    r"serves\s+as\s+(?:the\s+)?|is\s+(?:the\s+)?|as\s+(?:the\s+)?|担任|出任|任)"
    r"(?:station\s+|expedition\s+(?:\d+\s+)?|mission\s+|spacecraft\s+|本次任务的?|乘组)?"
    r"(commander|pilot|flight engineer|mission specialist|指令长|飞行工程师|任务专家)",
    re.IGNORECASE,
)


def _with_role(member: CrewRef, passages: Sequence[Passage], unique_surnames: set[str]) -> CrewRef:
    """'Commander Lena Okafor said …' or 'Okafor will serve as commander' anywhere gives the role."""
    if member.role:
        return member
    needles = [member.name]
    if " " in member.name and member.name.split()[-1] in unique_surnames:
        needles.append(member.name.split()[-1])
    for passage in passages:
        text = normalize_text(passage.text)
        for needle in needles:
            for found in re.finditer(rf"(?<![A-Za-z]){re.escape(needle)}(?![A-Za-z])", text):
                role = _role_before(text[: found.start()])
                after = _ROLE_AFTER_RE.match(text, found.end())
                if not role and after:
                    role = ROLE_WORDS.get(after.group(1).lower(), after.group(1).lower())
                if role:
                    return CrewRef(member.name, member.agency, role)
    return member


# ---------------------------------------------------------------------------------------------
# Numbers with units
# ---------------------------------------------------------------------------------------------
_NUM_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(
    rf"(?P<neg>(?<![A-Za-z0-9])-(?=\d)|minus\s+|negative\s+|零下\s*)?"
    rf"(?<![A-Za-z]-)(?<![A-Za-z0-9.,])(?P<num>{_NUM_DIGITS})(?P<zhmul>万|亿)?(?![0-9])"
    rf"|(?<![A-Za-z])(?P<word>{EN_NUMBER_WORD_RE})(?![A-Za-z])"
    rf"|(?P<neg2>零下)?(?P<zh>[{ZH_NUMERAL_CHARS}]+)",
    re.IGNORECASE,
)

_UNIT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (u, re.compile(p, re.IGNORECASE))
    for u, p in [
        (
            "C",
            r"\s*(?:°|º|˚)\s*C(?![A-Za-z])|\s*degrees?\s+(?:Celsius|centigrade|C(?![A-Za-z]))|\s*摄氏度|\s*℃|\s+C(?![A-Za-z])",
        ),
        (
            "F",
            r"\s*(?:°|º|˚)\s*F(?![A-Za-z])|\s*degrees?\s+(?:Fahrenheit|F(?![A-Za-z]))|\s*华氏度|\s*℉|\s+F(?![A-Za-z])",
        ),
        ("deg", r"\s*(?:°|º|˚)(?!\s*[A-Za-z])|\s*degrees?(?![A-Za-z])|\s*度(?![过假])"),
        (
            "km/h",
            r"\s*(?:km/h|kph|kilomet(?:er|re)s?\s+(?:per|an|a)\s+hour)|\s*(?:公里|千米)\s*(?:/|每)\s*(?:小时|时)",
        ),
        ("mph", r"\s*(?:mph|miles?\s+(?:per|an|a)\s+hour)|\s*英里\s*(?:/|每)\s*(?:小时|时)"),
        ("km/s", r"\s*(?:km/s|kilomet(?:er|re)s?\s+(?:per|a)\s+second)|\s*(?:公里|千米)\s*(?:/|每)\s*秒"),
        ("km", r"\s*(?:km|kilomet(?:er|re)s?)(?![A-Za-z/])|\s*(?:公里|千米)"),
        ("mi", r"\s*(?:miles?|mi)(?![A-Za-z/])|\s*英里"),
        ("min", r"\s*(?:minutes?|mins?)(?![A-Za-z])|\s*分钟"),
        ("h", r"\s*(?:hours?|hrs?)(?![A-Za-z])|\s*(?:个)?小时"),
        ("days", r"\s*days?(?![A-Za-z])|\s*天(?!宫)"),
        ("weeks", r"\s*weeks?(?![A-Za-z])|\s*(?:个)?(?:星期|礼拜)"),
        ("months", r"\s*months?(?![A-Za-z])|\s*个月"),
        ("decades", r"\s*decades?(?![A-Za-z])|\s*个?十年"),
        ("years", r"\s*years?(?![A-Za-z])|\s*年(?![0-9])"),
        ("t", r"\s*(?:metric\s+)?(?:tonnes?|tons?)(?![A-Za-z])|\s*吨"),
        ("kg", r"\s*(?:kg|kilograms?)(?![A-Za-z])|\s*(?:公斤|千克)"),
        ("lb", r"\s*(?:lbs?|pounds)(?![A-Za-z])|\s*磅"),
        ("times", r"\s*times(?![A-Za-z])|\s*(?:次|圈)"),
        ("countries", r"\s*(?:countries|nations)(?![A-Za-z])|\s*个?国家"),
        (
            "astronauts",
            r"\s*(?:astronauts|cosmonauts|crew\s*members|crewmembers|spacefarers|space\s+travell?ers)(?![A-Za-z])"
            r"|\s*(?:名|位)(?:宇航员|航天员|乘员|太空人)",
        ),
        (
            "people",
            r"\s*(?:people|persons|individuals|humans|visitors)(?![A-Za-z])|\s*(?:名|位)?人(?![类员们])",
        ),
        ("m", r"\s*(?:m|meters?|metres?)(?![A-Za-z0-9])|\s*米"),
    ]
]
_CREW_COMPOUND_RE = re.compile(
    rf"(?P<n>{_NUM_DIGITS}|{EN_NUMBER_WORD_RE})[- ](?:member|person|man|woman|strong|astronaut|people)\s+crew"
    rf"|crew\s+of\s+(?P<n2>{_NUM_DIGITS}|{EN_NUMBER_WORD_RE})(?![A-Za-z])"
    rf"|(?P<n3>[{ZH_NUMERAL_CHARS}\d]+)\s*(?:人|名)(?:乘组|机组|乘员组)"
    rf"|(?:乘员|乘组|机组)(?:共|一共|共有)?(?P<n4>[{ZH_NUMERAL_CHARS}\d]+)\s*(?:人|名)"
    rf"|(?P<n5>[{ZH_NUMERAL_CHARS}\d]+)\s*(?:名|位)(?:乘员|宇航员|航天员)",
    re.IGNORECASE,
)

_QUAL_BEFORE = [
    ("more_than", re.compile(r"(?:more than|over|above|upwards of|in excess of|超过|逾|多于|超)\s*$", re.I)),
    (
        "about",
        re.compile(
            r"(?:about|around|approximately|roughly|some|nearly|almost|close to|an estimated|~|circa|约|大约|大概|将近|接近|近)\s*$",
            re.I,
        ),
    ),
    ("less_than", re.compile(r"(?:less than|under|fewer than|below|不到|少于|不足)\s*$", re.I)),
    ("as_low_as", re.compile(r"(?:as low as|down to|低至|低到|最低可达|最低)\s*$", re.I)),
    ("as_high_as", re.compile(r"(?:as high as|up to|高达|高至|最高可达|最高)\s*$", re.I)),
    ("at_least", re.compile(r"(?:at least|至少)\s*$", re.I)),
]

_ORBIT_CUE = re.compile(
    r"orbit|circl|around the (?:earth|world|planet|globe)|over the earth|\blaps?\b|revolution|trip around|绕|圈|轨道|环绕",
    re.I,
)
_ALTITUDE_CUE = re.compile(
    r"altitude|above|high|height|orbit|elevation|高度|高空|上空|离地|距地|海拔|轨道|距离地", re.I
)
_CONTINUOUS_CUE = re.compile(
    r"continuous|uninterrupted|permanent|non-?stop|constant|without (?:a )?break|连续|不间断|持续|常驻|有人驻留|一直",
    re.I,
)
_VISIT_CUE = re.compile(
    r"visit|travell?ed|been to|flown to|gone to|hosted|come aboard|went to|访问|到访|造访|前往|去过|到过|登上|来到|接待|飞往",
    re.I,
)
_PEOPLE_CUE = re.compile(r"people|astronaut|cosmonaut|visitor|person|人|宇航员|航天员", re.I)
_FIRST_CUE = re.compile(r"\bfirst\b|\binitial\b|\binaugural\b|首批|第一批|首个|第一个|首支|第一支|首次", re.I)
_CREW_WORD_CUE = re.compile(r"crew|expedition|residents|乘员|乘组|考察组|机组|宇航员|航天员", re.I)
_ARRIVE_CUE = re.compile(
    r"arriv|dock|board|moved in|took up residence|began living|进驻|入驻|抵达|到达|登上|开始", re.I
)
_SPEED_UNITS = {"km/h", "mph", "km/s"}
_MASS_UNITS = {"t", "kg", "lb"}
_CLAUSE_SPLIT_RE = re.compile(r"[,;，；:：]|\bwhile\b|\bwhereas\b|\bbut\b|而|但", re.I)
_CONTRAST_SPLIT_RE = re.compile(
    r"[;；]|\bwhile\b|\bwhereas\b|\bbut\b|\band\b|而|但|[,，]\s*(?=and\b|而|但)", re.I
)
_MIN_CUE = re.compile(
    r"\blow|cold|night|dark|shad|minus|freez|drop|fall|plunge|dip|最低|低至|低到|降至|夜|寒|冷|阴影|背阳|黑暗",
    re.I,
)
_MAX_CUE = re.compile(
    r"\bhigh|\bhot|sun|day ?side|daylight|up to|heat|climb|soar|rise|reach|最高|高达|升至|热|阳光|日照|向阳|白天",
    re.I,
)
_INTERIOR_CUE = re.compile(r"inside|interior|cabin|indoors|舱内|内部|站内|室温", re.I)
_DATE_SPAN_RE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}"
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    r"|\d{1,2}:\d{2}",
    re.I,
)
_PLAUSIBLE = {
    "orbit_period": (80.0, 130.0),
    "altitude": (150.0, 2000.0),
    "continuous_presence_years": (1.0, 80.0),
    "visitors": (10.0, 100000.0),
    "countries": (2.0, 200.0),
    "crew_size": (1.0, 20.0),
    "first_crew_size": (1.0, 20.0),
    "first_crew_year": (1957.0, 2100.0),
    "orbits_per_day": (10.0, 20.0),
}


@dataclass
class _Mention:
    value: float
    start: int
    end: int
    unit: str | None
    qualifier: str | None
    qual_start: int


def _number_mentions(text: str) -> list[_Mention]:
    date_spans = [m.span() for m in _DATE_SPAN_RE.finditer(text)]
    mentions: list[_Mention] = []
    for match in _NUMBER_RE.finditer(text):
        if any(s <= match.start() < e for s, e in date_spans):
            continue
        value: float | None
        negative = bool(match.group("neg") or match.group("neg2"))
        if match.group("num"):
            value = float(match.group("num").replace(",", ""))
            if match.group("zhmul"):
                value *= 10000 if match.group("zhmul") == "万" else 100000000
        elif match.group("word"):
            value = parse_en_number_words(match.group("word"))
        else:
            value = parse_zh_number(match.group("zh"))
        if value is None or match.group("zh") == "一":
            continue
        if negative:
            value = -value
        end = match.end()
        qualifier = None
        if text[end : end + 1] in ("多", "余"):
            qualifier, end = "more_than", end + 1
        unit = None
        for name, pattern in _UNIT_PATTERNS:
            unit_match = pattern.match(text, end)
            if unit_match:
                unit, end = name, unit_match.end()
                break
        if unit is None and not match.group("num"):
            continue  # number words and Chinese numerals only count with a unit
        if unit is None and re.search(r"[A-Z][A-Za-z]*[\s-]$", text[: match.start()]):
            continue  # part of a name such as 'Expedition 70' or 'Soyuz MS 24'
        if unit is None:
            follow = re.match(r"\s+([a-z]{3,})(?![A-Za-z])", text[end:])
            if follow and follow.group(1) not in (
                "and",
                "the",
                "for",
                "from",
                "with",
                "was",
                "were",
                "are",
                "is",
            ):
                unit = follow.group(1)
                end += follow.end()
        if text[end : end + 2] in ("左右", "上下"):
            qualifier, end = qualifier or "about", end + 2
        elif text[end : end + 2] == "以上":
            qualifier, end = qualifier or "more_than", end + 2
        qual_start = match.start()
        before = text[max(0, match.start() - 25) : match.start()]
        for name, pattern in _QUAL_BEFORE:
            qmatch = pattern.search(before)
            if qmatch:
                qualifier = qualifier or name
                qual_start = match.start() - (len(before) - qmatch.start())
                break
        mentions.append(_Mention(value, match.start(), end, unit, qualifier, qual_start))
    return mentions


def _clause(text: str, start: int, end: int, splitter: re.Pattern[str] = _CLAUSE_SPLIT_RE) -> str:
    """The clause around a number, so 'as low as … while … as high as' keeps its two halves apart."""
    left = 0
    for match in splitter.finditer(text, 0, start):
        left = match.end()
    right_match = splitter.search(text, end)
    right = right_match.start() if right_match else len(text)
    return text[left:right]


def _plausible(key: str, value: float) -> bool:
    low, high = _PLAUSIBLE.get(key, (float("-inf"), float("inf")))
    return low <= value <= high


def find_facts(passages: Sequence[Passage]) -> list[FactRef]:
    """Numbers with units, with a stable key for the station facts people ask about most."""
    facts: list[FactRef] = []
    temperatures: list[tuple[FactRef, str]] = []
    for passage in passages:
        text = normalize_text(passage.text)
        claimed: list[tuple[int, int]] = []

        def add(
            key: str,
            mention: _Mention,
            unit: str,
            value: float | None = None,
            *,
            text: str = text,
            index: int = passage.index,
            claimed: list[tuple[int, int]] = claimed,
        ) -> None:
            piece = text[mention.qual_start : mention.end].strip()
            number = mention.value if value is None else value
            if key in _STATION_KEYS and about_something_else(text, mention.qual_start):
                key = "number"  # "the Nauka module has a mass of 20 t" is not the station's mass
            facts.append(FactRef(key, piece, number, unit, index, mention.qualifier))
            claimed.append((mention.start, mention.end))

        for match in _CREW_COMPOUND_RE.finditer(text):
            raw = next(g for g in (match.group(k) for k in ("n", "n2", "n3", "n4", "n5")) if g)
            value = _to_number(raw)
            if value is None:
                continue
            key = (
                "first_crew_size"
                if _FIRST_CUE.search(_clause(text, match.start(), match.end()))
                else "crew_size"
            )
            if _plausible(key, value):
                facts.append(FactRef(key, match.group(0), value, "people", passage.index, None))
                claimed.append(match.span())

        has_first_crew = bool(
            _FIRST_CUE.search(text) and _CREW_WORD_CUE.search(text) and _ARRIVE_CUE.search(text)
        )
        for mention in _number_mentions(text):
            if any(s <= mention.start < e for s, e in claimed):
                continue
            unit, value = mention.unit, mention.value
            if unit in ("C", "F", "deg"):
                if unit == "deg":
                    unit = (
                        "F"
                        if re.search(r"fahrenheit|华氏", text, re.I)
                        else "C"
                        if re.search(r"celsius|摄氏", text, re.I)
                        else None
                    )
                if unit is None:
                    continue
                fact = FactRef(
                    "temperature",
                    text[mention.qual_start : mention.end].strip(),
                    value,
                    unit,
                    passage.index,
                    mention.qualifier,
                )
                temperatures.append((fact, _clause(text, mention.start, mention.end, _CONTRAST_SPLIT_RE)))
                claimed.append((mention.start, mention.end))
                continue
            if unit == "km" and _PER_HOUR_BEFORE.search(text, 0, mention.qual_start):
                unit = "km/h"  # '速度约为每小时2.8万公里', 'a speed of ... per hour' written the Chinese way
            if unit == "min" and _ORBIT_CUE.search(text) and _plausible("orbit_period", value):
                add("orbit_period", mention, "min")
            elif unit == "h" and _ORBIT_CUE.search(text) and _plausible("orbit_period", value * 60):
                add("orbit_period", mention, "min", value * 60)
            elif unit in ("km", "mi") and _ALTITUDE_CUE.search(text):
                km = value if unit == "km" else value * 1.609344
                add("altitude" if _plausible("altitude", km) else "number", mention, unit)
            elif unit in _SPEED_UNITS:
                add("speed", mention, unit)
            elif unit in _MASS_UNITS and re.search(r"mass|weigh|heavy|重|质量", text, re.I):
                add("mass", mention, unit)
            elif unit in ("years", "decades") and _CONTINUOUS_CUE.search(text):
                years = value * 10 if unit == "decades" else value
                if _plausible("continuous_presence_years", years):
                    add("continuous_presence_years", mention, "years", years)
                else:
                    add("number", mention, unit)
            elif (
                unit in ("people", "astronauts") and _VISIT_CUE.search(text) and _plausible("visitors", value)
            ):
                add("visitors", mention, "people")
            elif unit == "countries" and (_VISIT_CUE.search(text) or _PEOPLE_CUE.search(text)):
                add("countries", mention, "countries")
            elif unit == "times" and re.search(
                r"a day|per day|each day|every day|daily|每天|一天|每日", text, re.I
            ):
                add("orbits_per_day", mention, "orbits") if _plausible("orbits_per_day", value) else None
            elif unit is not None and not _YEAR_RE.fullmatch(text[mention.start : mention.end].split()[0]):
                add("number", mention, unit)
        facts.extend(_year_facts(text, passage.index, has_first_crew))
    facts.extend(_temperature_facts(temperatures))
    return _dedupe_keys(facts)


_YEAR_RE = re.compile(r"(?<!\d)(?:19[5-9]\d|20\d\d|2100)(?!\d)")
_STATION_KEYS = frozenset({"altitude", "speed", "mass", "orbit_period", "orbits_per_day"})
# What a number may be said about other than the station itself: its parts and visiting vehicles.
_STATION_WORD_RE = re.compile(
    r"\b(?:ISS|(?:space )?station|outpost|orbiting (?:lab|laboratory))\b|空间站|太空站", re.I
)
_OTHER_SUBJECT_RE = re.compile(
    r"\b(?:module|spacecraft|capsule|rocket|vehicle|ship|freighter|booster|arm|truss|array|satellite|"
    r"Soyuz|Dragon|Progress|Cygnus|Starliner|HTV|Nauka|Zarya|Zvezda|Unity|Harmony|Tranquility|Destiny|"
    r"Columbus|Kibo|Poisk|Rassvet|Prichal|Pirs|Canadarm2?|Tiangong|Mir)\b|舱|飞船|火箭|货运|卫星|机械臂",
    re.I,
)


def about_something_else(text: str, position: int) -> bool:
    """Whether the nearest thing named before ``position`` (in its sentence) is not the station."""
    before = text[:position]
    other = [m.end() for m in _OTHER_SUBJECT_RE.finditer(before)]
    station = [m.end() for m in _STATION_WORD_RE.finditer(before)]
    return bool(other) and (not station or other[-1] > station[-1])


_SINCE_CUE = re.compile(r"\bsince\b|自|以来|起", re.I)
_PER_HOUR_BEFORE = re.compile(r"(?:每小时|时速)\s*(?:约为|约|为|达到|达|高达)?\s*$")


def _year_facts(text: str, index: int, has_first_crew: bool) -> list[FactRef]:
    """Calendar years: when the first crew arrived, or since when people have lived aboard."""
    match = _YEAR_RE.search(text)
    if not match:
        return []
    value = float(match.group(0))
    if has_first_crew:
        return [FactRef("first_crew_year", match.group(0), value, "year", index, None)]
    if _CONTINUOUS_CUE.search(text) and _SINCE_CUE.search(text):
        return [FactRef("continuous_presence_since", match.group(0), value, "year", index, None)]
    return []


def _to_number(raw: str) -> float | None:
    raw = raw.strip()
    if re.fullmatch(_NUM_DIGITS, raw):
        return float(raw.replace(",", ""))
    return parse_en_number_words(raw) if re.match(r"[A-Za-z]", raw) else parse_zh_number(raw)


def to_celsius(value: float, unit: str) -> float:
    return (value - 32) * 5 / 9 if unit == "F" else value


def _temperature_facts(found: list[tuple[FactRef, str]]) -> list[FactRef]:
    out: list[FactRef] = []
    plain: list[FactRef] = []
    for fact, clause in found:
        key = "temperature"
        if _INTERIOR_CUE.search(clause):
            key = "temperature_interior"
        elif fact.qualifier == "as_low_as" or (_MIN_CUE.search(clause) and not _MAX_CUE.search(clause)):
            key = "temperature_min"
        elif fact.qualifier == "as_high_as" or (_MAX_CUE.search(clause) and not _MIN_CUE.search(clause)):
            key = "temperature_max"
        if key == "temperature":
            plain.append(fact)
        else:
            out.append(FactRef(key, fact.text, fact.value, fact.unit, fact.passage_index, fact.qualifier))
    keys = {f.key for f in out}
    if len(plain) >= 2 and not keys & {"temperature_min", "temperature_max"}:
        plain.sort(key=lambda f: to_celsius(f.value, f.unit))
        low, high = plain[0], plain[-1]
        out.append(
            FactRef("temperature_min", low.text, low.value, low.unit, low.passage_index, low.qualifier)
        )
        out.append(
            FactRef("temperature_max", high.text, high.value, high.unit, high.passage_index, high.qualifier)
        )
        plain = plain[1:-1]
    elif len(plain) == 1 and len(keys & {"temperature_min", "temperature_max"}) == 1:
        # One extreme is named ('falls to −157 °C'); the other plain reading is the other extreme.
        only, named = plain[0], next(f for f in out if f.key in ("temperature_min", "temperature_max"))
        colder = to_celsius(only.value, only.unit) < to_celsius(named.value, named.unit)
        key = "temperature_min" if colder else "temperature_max"
        if key != named.key:
            out.append(FactRef(key, only.text, only.value, only.unit, only.passage_index, only.qualifier))
            plain = []
    out.extend(plain)
    return out


def _dedupe_keys(facts: list[FactRef]) -> list[FactRef]:
    """One fact per special key per article (the first stated); repeats become plain numbers."""
    seen: set[str] = set()
    out: list[FactRef] = []
    for fact in sorted(facts, key=lambda f: f.passage_index):
        if fact.key not in ("number", "temperature") and fact.key in seen:
            fact = FactRef("number", fact.text, fact.value, fact.unit, fact.passage_index, fact.qualifier)
        seen.add(fact.key)
        out.append(fact)
    return out
