"""The sentences of structured answers and the facts card, in English or Chinese, with both unit systems.

The knowledge layer says *what* to state (a :class:`~bot.knowledge.qa.Statement`: a code and its facts,
crew or credits); this module words it from ``bot/locale/answers.toml`` in the question's language.
"""

from __future__ import annotations

from bot.i18n import MESSAGES, t
from bot.knowledge.lexicon import agency_zh
from bot.knowledge.model import CrewRef, FactRef
from bot.knowledge.qa import Statement

MINUS = "\u2212"
_UNIT_ZH = {"km/h": "公里/小时", "mph": "英里/小时", "km/s": "公里/秒", "t": "吨", "kg": "公斤", "lb": "磅"}
_COUNT_UNIT_EN = {
    "min": "min",
    "years": "years",
    "people": "people",
    "countries": "countries",
    "orbits": "orbits",
}
_COUNT_UNIT_ZH = {"min": "分钟", "years": "年", "people": "人", "countries": "个国家", "orbits": "圈"}


def _lang(zh: bool) -> str:
    return "zh" if zh else "en"


def _known(key: str, lang: str, default: str) -> str:
    return t(key, lang) if key in MESSAGES else default


def fmt_number(value: float) -> str:
    if value == int(value):
        text = f"{int(value):,}" if abs(value) >= 10000 else str(int(value))
    else:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


def fmt_temperature(value: float, unit: str, *, zh: bool = False) -> str:
    """'−128 °C (−198 °F)': the article's unit first, the other system in brackets."""
    if unit == "F":
        other, other_unit = (value - 32) * 5 / 9, "C"
    else:
        unit, other, other_unit = "C", value * 9 / 5 + 32, "F"
    if zh:
        return f"{fmt_number(value)} °{unit}（{fmt_number(round(other))} °{other_unit}）"
    return f"{fmt_number(value)} °{unit} ({fmt_number(round(other))} °{other_unit})"


def fmt_distance(value: float, unit: str, *, zh: bool = False) -> str:
    """'400 km (249 mi)' or '400公里（249英里）'."""
    if unit == "mi":
        km = fmt_number(round(value * 1.609344))
        return f"{fmt_number(value)}英里（{km}公里）" if zh else f"{fmt_number(value)} mi ({km} km)"
    miles = fmt_number(round(value / 1.609344))
    return f"{fmt_number(value)}公里（{miles}英里）" if zh else f"{fmt_number(value)} km ({miles} mi)"


def fmt_speed(value: float, unit: str, *, zh: bool = False) -> str:
    if unit == "km/h":
        other_value, other_unit = round(value / 1.609344), "mph"
    elif unit == "mph":
        other_value, other_unit = round(value * 1.609344), "km/h"
    else:
        other_value, other_unit = round(value * 2236.94), "mph"
    unit_text = _UNIT_ZH[other_unit] if zh else f" {other_unit}"
    other = f"{fmt_number(other_value)}{unit_text}"
    shown = f"{fmt_number(value)}{_UNIT_ZH.get(unit, unit)}" if zh else f"{fmt_number(value)} {unit}"
    return f"{shown}（{other}）" if zh else f"{shown} ({other})"


def _qualifier(fact: FactRef, lang: str) -> str:
    return _known(f"qualifier.{fact.qualifier}", lang, "") if fact.qualifier else ""


def value_text(fact: FactRef, *, zh: bool = False) -> str:
    """The number of a fact as shown on a facts card."""
    if fact.key.startswith("temperature"):
        return fmt_temperature(fact.value, fact.unit, zh=zh)
    if fact.unit in ("km", "mi"):
        return fmt_distance(fact.value, fact.unit, zh=zh)
    if fact.unit in ("km/h", "mph", "km/s"):
        return fmt_speed(fact.value, fact.unit, zh=zh)
    number = fmt_number(fact.value)
    qual = _qualifier(fact, _lang(zh))
    if fact.key in ("first_crew_year", "continuous_presence_since"):
        return f"{number}年" if zh else number
    if zh:
        return f"{qual}{number}{_COUNT_UNIT_ZH.get(fact.unit, _UNIT_ZH.get(fact.unit, fact.unit))}"
    return f"{qual}{number} {_COUNT_UNIT_EN.get(fact.unit, fact.unit)}"


def label(key: str, *, zh: bool) -> str:
    return t(f"fact.label.{key}", _lang(zh))


def station_name(station: str | None, *, zh: bool, start: bool = False) -> str:
    name = _known(f"station.{station}", _lang(zh), t("station.other", _lang(zh)))
    return name[0].upper() + name[1:] if start and not zh else name


def fact_sentence(fact: FactRef, station: str | None, *, zh: bool, companion: FactRef | None = None) -> str:
    """One sentence stating a fact, e.g. '国际空间站大约每92分钟绕地球一圈。'."""
    lang = _lang(zh)
    key = fact.key
    values = {
        "s": station_name(station, zh=zh, start=True),
        "s_mid": station_name(station, zh=zh),
        "v": fmt_number(fact.value),
        "q": _qualifier(fact, lang),
        "unit": _UNIT_ZH.get(fact.unit, fact.unit) if zh else fact.unit,
        "text": fact.text,
    }
    if key == "altitude":
        values["distance"] = fmt_distance(fact.value, fact.unit, zh=zh)
        values["q"] = values["q"] or ("约" if zh else "")
    elif key == "speed":
        values["speed"] = fmt_speed(fact.value, fact.unit, zh=zh)
    elif key.startswith("temperature"):
        values["t"] = fmt_temperature(fact.value, fact.unit, zh=zh)
    if key == "continuous_presence_years" and zh and fact.qualifier == "more_than":
        key = "continuous_presence_years_more"
    elif key == "visitors" and companion is not None:
        key, values["countries"] = "visitors_from", fmt_number(companion.value)
    elif key == "first_crew_year" and companion is not None:
        key, values["size"] = "first_crew_year_size", fmt_number(companion.value)
    elif f"fact.{key}" not in MESSAGES:
        key = "other"
    sentence = t(f"fact.{key}", lang, **values)
    return sentence if zh else sentence[:1].upper() + sentence[1:]


def temperature_range_sentence(low: FactRef | None, high: FactRef | None, *, zh: bool) -> str:
    if low and high:
        lo, hi = fmt_temperature(low.value, low.unit, zh=zh), fmt_temperature(high.value, high.unit, zh=zh)
        return t("fact.temperature_range", _lang(zh), low=lo, high=hi)
    fact = low or high
    assert fact is not None
    return fact_sentence(fact, None, zh=zh)


def _role(role: str, lang: str) -> str:
    return _known(f"crew.role.{role}", lang, role)


def crew_label(member: CrewRef, *, zh: bool) -> str:
    lang = _lang(zh)
    parts: list[str] = []
    if member.agency:
        parts.append(agency_zh(member.agency) if zh else member.agency)
    if member.role:
        parts.append(_role(member.role, lang))
    if not parts:
        return member.name
    return t("crew.label", lang, name=member.name, details=t("crew.label_separator", lang).join(parts))


def crew_list_sentence(
    members: list[CrewRef],
    *,
    zh: bool,
    agency: str | None = None,
    count: bool = False,
    role: str | None = None,
) -> str:
    lang = _lang(zh)
    separator = t("crew.list_separator", lang)
    if role:
        names = separator.join(crew_label(CrewRef(m.name, m.agency), zh=zh) for m in members)
        shown = _role(members[0].role or "", lang) if zh else (members[0].role or role).capitalize()
        return t("crew.by_role", lang, role=shown, names=names)
    names = separator.join(crew_label(m, zh=zh) if not agency else m.name for m in members)
    n = len(members)
    if agency:
        shown = agency_zh(agency) if zh else agency
        key = (
            ("crew.count_from_agency" if n != 1 else "crew.count_from_agency_one")
            if count
            else "crew.from_agency"
        )
        return t(key, lang, count=n, agency=shown, names=names)
    return t("crew.roster", lang, count=n, names=names)


def crew_member_sentence(member: CrewRef, *, zh: bool) -> str:
    lang = _lang(zh)
    role = _role(member.role, lang) if member.role else t("crew.role.member", lang)
    if member.agency:
        return t(
            "crew.member",
            lang,
            name=member.name,
            role=role,
            agency=member.agency,
            agency_zh=agency_zh(member.agency),
        )
    return t("crew.member_no_agency", lang, name=member.name, role=role)


def statement_text(statement: Statement, *, zh: bool) -> str:
    """What a structured answer says, in the question's language."""
    lang = _lang(zh)
    code, p = statement.code, statement
    if code == "fact":
        assert p.fact is not None
        return fact_sentence(p.fact, p.station, zh=zh, companion=p.companion)
    if code == "temperature_range":
        return temperature_range_sentence(p.low, p.high, zh=zh)
    if code == "crew":
        return crew_list_sentence(list(p.members), zh=zh, agency=p.agency, count=p.count, role=p.role)
    if code == "crew_count":
        lead = t("crew.lists", lang, count=len(p.members))
        return lead + crew_list_sentence(list(p.members), zh=zh)
    if code == "crew_member":
        return crew_member_sentence(p.members[0], zh=zh)
    if code == "credit":
        separator = t("crew.list_separator", lang)
        text = t("photo.credited", lang, credits=separator.join(p.credits))
        return text + (t("photo.taken_by_too", lang, name=p.photographer) if p.photographer else "")
    if code == "photographer":
        return t("photo.taken_by", lang, name=p.photographer)
    raise ValueError(f"unknown statement {code!r}")
