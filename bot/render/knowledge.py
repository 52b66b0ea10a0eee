"""Answers, fact cards and crew lists as embeds (English or Chinese chrome, within Discord's limits)."""

from __future__ import annotations

import datetime as dt

import discord

from bot.i18n import t
from bot.knowledge.lexicon import agency_zh
from bot.knowledge.qa import Answer, CrewEntry, KeyFact
from bot.render import BRAND_COLOUR
from bot.render.phrasing import fact_sentence, statement_text, value_text
from bot.render.phrasing import label as fact_label

MAX_ANSWER_CHARS = 1500

NOT_FOUND_COLOUR = discord.Colour(0x718096)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def cite(title: str, date: dt.date | None) -> str:
    return f"{title} ({date.isoformat()})" if date else title


def not_found_text(answer: Answer, lang: str) -> str:
    question = clip(" ".join(answer.question.split()), 200)
    text = t("iss.not_found", lang, question=question)
    if answer.suggestions:
        text += "\n" + t(
            "iss.nearest", lang, titles="\n".join(f"• {clip(s, 120)}" for s in answer.suggestions)
        )
    return text


def quoted_from(answer: Answer, lang: str) -> str | None:
    """ "Quoted from the Chinese article" when the sentence is not in the reader's language."""
    if not answer.quote_language or answer.quote_language == lang:
        return None
    return t("iss.quoted_from", lang, language=t(f"lang.{answer.quote_language}", lang))


def answer_text(answer: Answer) -> str:
    """The answer itself, in the question's language: the value read out, the quoted sentence, or what
    a structured answer states (the station's figures, its crew, photo credits)."""
    if answer.statement is not None:
        return clip(statement_text(answer.statement, zh=answer.language == "zh"), MAX_ANSWER_CHARS)
    return answer.text


def fact_text(fact: KeyFact, lang: str) -> str:
    """A facts-card line as a sentence."""
    return fact_sentence(fact.fact, fact.station, zh=lang == "zh", companion=fact.companion)


def answer_embed(question: str, answer: Answer, lang: str) -> discord.Embed:
    """The question as the title, the answer first, then the quoted sentence and the article."""
    title = clip(" ".join(question.split()), 256)
    if not answer.found:
        # The answer speaks the question's language; the labels around it the member's.
        body = not_found_text(answer, answer.language)
        return discord.Embed(title=title, description=clip(body, 4096), colour=NOT_FOUND_COLOUR)
    text = answer_text(answer)
    lead = f"**{text}**" if answer.kind == "value" else text
    embed = discord.Embed(title=title, description=clip(lead, 4096), colour=BRAND_COLOUR)
    if (answer.quote and answer.quote != text) or answer.kind == "value":
        name = t("iss.quote", lang)
        note = quoted_from(answer, answer.language)
        embed.add_field(
            name=clip(f"{name} ({note})" if note else name, 256),
            value=clip(f"> {answer.quote}", 1024),
            inline=False,
        )
    elif quoted_from(answer, answer.language):
        embed.set_footer(text=quoted_from(answer, answer.language))
    if answer.article_title:
        embed.add_field(
            name=t("iss.source", lang),
            value=clip(cite(answer.article_title, answer.article_date), 1024),
            inline=False,
        )
    others = [s for s in answer.sources if s != answer.article_title]
    if others:
        embed.add_field(name=t("iss.sources_more", lang), value=clip("\n".join(others), 1024), inline=False)
    return embed


def facts_embed(facts: list[KeyFact], lang: str) -> discord.Embed:
    embed = discord.Embed(title=t("iss.facts_title", lang), colour=BRAND_COLOUR)
    if not facts:
        embed.description = t("iss.facts_empty", lang)
        return embed
    sources: dict[int, str] = {}
    for fact in facts[:20]:
        number = sources.setdefault(fact.article_id, f"[{len(sources) + 1}]")
        label = fact_label(fact.key, zh=lang == "zh")
        value = value_text(fact.fact, zh=lang == "zh")
        embed.add_field(name=clip(label, 256), value=clip(f"{value} {number}", 1024))
    lines = []
    titles = {f.article_id: cite(f.article_title, f.article_date) for f in facts}
    for article_id, number in sources.items():
        lines.append(f"{number} {titles[article_id]}")
    embed.add_field(name=t("iss.source", lang), value=clip("\n".join(lines), 1024), inline=False)
    embed.set_footer(text=t("iss.facts_footer", lang, count=len(sources)))
    return embed


def agency_label(agency: str | None, lang: str) -> str:
    if not agency:
        return t("crew.no_agency", lang)
    return f"{agency_zh(agency)} ({agency})" if lang == "zh" and agency_zh(agency) != agency else agency


def crew_embed(entries: list[CrewEntry], lang: str) -> discord.Embed:
    embed = discord.Embed(title=t("crew.title", lang), colour=BRAND_COLOUR)
    if not entries:
        embed.description = t("crew.empty", lang)
        return embed
    groups: dict[str | None, list[CrewEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.agency, []).append(entry)
    for agency, members in list(groups.items())[:24]:
        names = "\n".join(m.name + (f" — {m.role}" if m.role else "") for m in members)
        embed.add_field(
            name=clip(f"{agency_label(agency, lang)} · {t('crew.count', lang, count=len(members))}", 256),
            value=clip(names, 1024),
        )
    cited = {cite(e.article_title, e.article_date) for e in entries}
    embed.add_field(name=t("iss.source", lang), value=clip("\n".join(sorted(cited)), 1024), inline=False)
    return embed


def crew_member_embed(entry: CrewEntry, lang: str) -> discord.Embed:
    embed = discord.Embed(title=clip(entry.name, 256), colour=BRAND_COLOUR)
    embed.add_field(name=t("crew.agency", lang), value=agency_label(entry.agency, lang))
    embed.add_field(name=t("crew.role", lang), value=entry.role or t("crew.role_unknown", lang))
    embed.add_field(
        name=t("iss.source", lang),
        value=clip(cite(entry.article_title, entry.article_date), 1024),
        inline=False,
    )
    return embed


def answer_plain(answer: Answer, lang: str) -> str:
    """The reply as plain text, as a member reads it (`cupola ask` and the evaluation print this)."""
    if not answer.found:
        return not_found_text(answer, lang)
    text = answer_text(answer)
    lines = [text]
    if answer.quote and answer.quote != text:
        lines.append(f"> {answer.quote}")
    note = quoted_from(answer, lang)
    if note:
        lines.append(f"({note})")
    return "\n".join(lines)
