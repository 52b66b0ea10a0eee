"""Answer sentences built from extracted facts, in English and Chinese, with both unit systems."""

from __future__ import annotations

from bot.knowledge.ingest import CrewRef, FactRef
from bot.knowledge.lexicon import STATIONS, agency_zh

MINUS = "\u2212"

LABELS: dict[str, tuple[str, str]] = {
    "orbit_period": ("Orbit period", "绕地球一圈"),
    "orbits_per_day": ("Orbits per day", "每天绕地圈数"),
    "altitude": ("Altitude", "轨道高度"),
    "speed": ("Speed", "速度"),
    "temperature_min": ("Lowest temperature", "最低温度"),
    "temperature_max": ("Highest temperature", "最高温度"),
    "temperature_interior": ("Temperature inside", "舱内温度"),
    "continuous_presence_years": ("Continuously crewed", "连续有人驻留"),
    "continuous_presence_since": ("Crewed since", "有人驻留始于"),
    "first_crew_year": ("First crew arrived", "首批乘员抵达"),
    "first_crew_size": ("First crew size", "首批乘员人数"),
    "visitors": ("Visitors", "到访人数"),
    "countries": ("Visitors' countries", "到访者来自的国家数"),
    "crew_size": ("Crew size", "乘员人数"),
    "mass": ("Mass", "质量"),
}

_QUAL_EN = {
    "about": "about ",
    "more_than": "more than ",
    "less_than": "less than ",
    "as_low_as": "as low as ",
    "as_high_as": "as high as ",
    "at_least": "at least ",
}
_QUAL_ZH = {"about": "约", "more_than": "超过", "less_than": "不到", "at_least": "至少"}
_UNIT_ZH = {"km/h": "公里/小时", "mph": "英里/小时", "km/s": "公里/秒", "t": "吨", "kg": "公斤", "lb": "磅"}


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
        km = value * 1.609344
        return (
            f"{fmt_number(value)}英里（{fmt_number(round(km))}公里）"
            if zh
            else (f"{fmt_number(value)} mi ({fmt_number(round(km))} km)")
        )
    miles = value / 1.609344
    if zh:
        return f"{fmt_number(value)}公里（{fmt_number(round(miles))}英里）"
    return f"{fmt_number(value)} km ({fmt_number(round(miles))} mi)"


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


def value_text(fact: FactRef, *, zh: bool = False) -> str:
    """The number of a fact as shown on a facts card."""
    if fact.key.startswith("temperature"):
        return fmt_temperature(fact.value, fact.unit, zh=zh)
    if fact.unit in ("km", "mi"):
        return fmt_distance(fact.value, fact.unit, zh=zh)
    if fact.unit in ("km/h", "mph", "km/s"):
        return fmt_speed(fact.value, fact.unit, zh=zh)
    number = fmt_number(fact.value)
    qual = (_QUAL_ZH if zh else _QUAL_EN).get(fact.qualifier or "", "")
    if fact.key in ("first_crew_year", "continuous_presence_since"):
        return f"{number}年" if zh else number
    unit_en = {
        "min": "min",
        "years": "years",
        "people": "people",
        "countries": "countries",
        "orbits": "orbits",
    }
    unit_zh = {"min": "分钟", "years": "年", "people": "人", "countries": "个国家", "orbits": "圈"}
    if zh:
        return f"{qual}{number}{unit_zh.get(fact.unit, _UNIT_ZH.get(fact.unit, fact.unit))}"
    return f"{qual}{number} {unit_en.get(fact.unit, fact.unit)}"


def station_name(station: str | None, *, zh: bool, start: bool = False) -> str:
    if station in STATIONS:
        _en, _zh, en_name, zh_name = STATIONS[station]
    else:
        en_name, zh_name = "the station", "空间站"
    if zh:
        return zh_name
    return en_name[0].upper() + en_name[1:] if start else en_name


def fact_sentence(fact: FactRef, station: str | None, *, zh: bool, companion: FactRef | None = None) -> str:
    """One sentence stating a fact, e.g. '国际空间站大约每92分钟绕地球一圈。'."""
    s = station_name(station, zh=zh, start=True)
    s_mid = station_name(station, zh=zh)
    v = fmt_number(fact.value)
    q_en = _QUAL_EN.get(fact.qualifier or "", "")
    q_zh = _QUAL_ZH.get(fact.qualifier or "", "")
    key = fact.key
    if key == "orbit_period":
        return f"{s}大约每{v}分钟绕地球一圈。" if zh else f"{s} circles the Earth about every {v} minutes."
    if key == "orbits_per_day":
        return f"{s}每天绕地球{q_zh}{v}圈。" if zh else f"{s} circles the Earth {q_en}{v} times a day."
    if key == "altitude":
        dist = fmt_distance(fact.value, fact.unit, zh=zh)
        return (
            f"{s}的轨道高度{q_zh or '约'}为{dist}。" if zh else f"{s} orbits at an altitude of {q_en}{dist}."
        )
    if key == "speed":
        spd = fmt_speed(fact.value, fact.unit, zh=zh)
        return f"{s}的速度{q_zh}为{spd}。" if zh else f"{s} travels at {q_en}{spd}."
    if key == "mass":
        return (
            f"{s}的质量{q_zh}为{v}{_UNIT_ZH.get(fact.unit, fact.unit)}。"
            if zh
            else (f"{s} has a mass of {q_en}{v} {fact.unit}.")
        )
    if key == "temperature_min":
        t = fmt_temperature(fact.value, fact.unit, zh=zh)
        return f"温度最低可达{t}。" if zh else f"The temperature can drop as low as {t}."
    if key == "temperature_max":
        t = fmt_temperature(fact.value, fact.unit, zh=zh)
        return f"温度最高可达{t}。" if zh else f"The temperature can reach as high as {t}."
    if key in ("temperature_interior", "temperature"):
        t = fmt_temperature(fact.value, fact.unit, zh=zh)
        where_zh, where_en = ("舱内", "Inside, the") if key == "temperature_interior" else ("", "The")
        return f"{where_zh}温度{q_zh}为{t}。" if zh else f"{where_en} temperature is {q_en}{t}."
    if key == "continuous_presence_years":
        if zh:
            years = f"{v}多年" if fact.qualifier == "more_than" else f"{q_zh}{v}年"
            return f"{s}已连续有人驻留{years}。"
        return f"{s} has been continuously crewed for {q_en}{v} years."
    if key == "continuous_presence_since":
        return f"{s}自{v}年起一直有人驻留。" if zh else f"{s} has been continuously crewed since {v}."
    if key == "visitors":
        extra_zh = f"，来自{fmt_number(companion.value)}个国家" if companion else ""
        extra_en = f" from {fmt_number(companion.value)} countries" if companion else ""
        if zh:
            return f"已有{q_zh}{v}人到访过{s_mid}{extra_zh}。"
        lead = (q_en[:1].upper() + q_en[1:]) if q_en else ""
        return f"{lead}{v} people{extra_en} have visited {s_mid}."
    if key == "countries":
        if zh:
            return f"到访过{s_mid}的人来自{q_zh}{v}个国家。"
        return f"People from {q_en}{v} countries have visited {s_mid}."
    if key == "first_crew_year":
        if zh:
            size = f"，共{fmt_number(companion.value)}人" if companion else ""
            return f"首批乘员于{v}年抵达{s_mid}{size}。"
        size = f" It had {fmt_number(companion.value)} people." if companion else ""
        return f"The first crew arrived at {s_mid} in {v}.{size}"
    if key == "first_crew_size":
        return f"首批乘员共{v}人。" if zh else f"The first crew had {v} people."
    if key == "crew_size":
        return f"乘员共{q_zh}{v}人。" if zh else f"The crew has {q_en}{v} members."
    unit = fact.unit
    return f"文章提到：{fact.text}。" if zh else f"The article mentions {fact.text} ({v} {unit})."


def temperature_range_sentence(low: FactRef | None, high: FactRef | None, *, zh: bool) -> str:
    if low and high:
        lo, hi = fmt_temperature(low.value, low.unit, zh=zh), fmt_temperature(high.value, high.unit, zh=zh)
        return f"温度从最低{lo}到最高{hi}。" if zh else f"Temperatures range from {lo} to {hi}."
    fact = low or high
    assert fact is not None
    return fact_sentence(fact, None, zh=zh)


def crew_label(member: CrewRef, *, zh: bool) -> str:
    parts: list[str] = []
    if member.agency:
        parts.append(agency_zh(member.agency) if zh else member.agency)
    if member.role:
        parts.append(_ROLE_ZH.get(member.role, member.role) if zh else member.role)
    if not parts:
        return member.name
    return f"{member.name}（{'，'.join(parts)}）" if zh else f"{member.name} ({', '.join(parts)})"


_ROLE_ZH = {
    "commander": "指令长",
    "pilot": "驾驶员",
    "flight engineer": "飞行工程师",
    "mission specialist": "任务专家",
}


def crew_list_sentence(
    members: list[CrewRef],
    *,
    zh: bool,
    agency: str | None = None,
    count: bool = False,
    role: str | None = None,
) -> str:
    if role:
        if zh:
            names = "、".join(crew_label(CrewRef(m.name, m.agency), zh=True) for m in members)
            return f"{_ROLE_ZH.get(members[0].role or '', members[0].role or '')}：{names}。"
        names = ", ".join(crew_label(CrewRef(m.name, m.agency), zh=False) for m in members)
        label = (members[0].role or role).capitalize()
        return f"{label}: {names}."
    names_zh = "、".join(crew_label(m, zh=True) if not agency else m.name for m in members)
    names_en = ", ".join(crew_label(m, zh=False) if not agency else m.name for m in members)
    n = len(members)
    if agency:
        if zh:
            lead = f"共有{n}名乘员来自{agency_zh(agency)}" if count else f"来自{agency_zh(agency)}的乘员"
            return f"{lead}：{names_zh}。"
        lead = (
            f"{n} crew member{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} from {agency}"
            if count
            else (f"Crew from {agency}")
        )
        return f"{lead}: {names_en}."
    if zh:
        return f"乘员共{n}人：{names_zh}。"
    return f"The crew ({n}): {names_en}."


def crew_member_sentence(member: CrewRef, *, zh: bool) -> str:
    if zh:
        role = _ROLE_ZH.get(member.role or "", member.role or "乘员")
        if member.agency:
            return f"{member.name}是来自{agency_zh(member.agency)}（{member.agency}）的{role}。"
        return f"{member.name}是{role}，文章没有说明所属机构。"
    role = member.role or "crew member"
    if member.agency:
        return f"{member.name} is a {role} from {member.agency}."
    return f"{member.name} is a {role}; the article does not say which agency."
