"""/iss ask, /iss facts, /crew list, /crew member: answers from the articles, with sources."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.background import Supervisor
from bot.core import Cupola
from bot.errors import UserFacingError
from bot.faults import Backoff
from bot.i18n import lang_of
from bot.render.knowledge import answer_embed, crew_embed, crew_member_embed, facts_embed

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30
LOADING_WAIT_SECONDS = 2.0  # under Discord's 3 s to answer


class Knowledge(commands.Cog):
    iss = app_commands.Group(
        name="iss", description="Questions and facts about the International Space Station"
    )
    crew = app_commands.Group(name="crew", description="The ISS crew, from the articles I hold")

    def __init__(self, bot: Cupola) -> None:
        self.bot = bot
        # a failing refresh (database away) backs off instead of restarting at once (issue 9)
        self.refresh_backoff = Backoff("knowledge refresh", base=REFRESH_SECONDS, logger=log)
        self.background = Supervisor("knowledge", logger=log, ready=self._before_refresh)
        self.refresh = self.background.loop(
            self._refresh_once, seconds=REFRESH_SECONDS, backoff=self.refresh_backoff
        )

    async def cog_load(self) -> None:
        self.background.start()

    async def cog_unload(self) -> None:
        await self.background.stop()

    async def _refresh_once(self) -> None:
        """Other processes (or the CLI) may import articles; pick them up."""
        changed = await self.bot.knowledge.refresh()
        if changed:
            self.bot.content_counts.invalidate()
            log.info("knowledge refresh: %d articles changed", changed)

    async def _before_refresh(self) -> None:
        await self.bot.wait_until_ready()
        await self.bot.knowledge.ready.wait()

    async def _articles_loaded(self) -> None:
        """At start-up the articles load while the bot already serves: wait a moment, else say so."""
        if not await self.bot.knowledge.wait_ready(timeout=LOADING_WAIT_SECONDS):
            raise UserFacingError(
                "I'm still reading my articles; ask again in a few seconds.",
                key="iss.loading",
                count=self.bot.knowledge.loaded,
            )

    @iss.command(name="ask", description="Ask about the ISS or its crew; answered from the articles I hold")
    @app_commands.describe(question="Your question, in English or Chinese")
    async def ask(
        self, interaction: discord.Interaction[Cupola], question: app_commands.Range[str, 1, 300]
    ) -> None:
        lang = lang_of(interaction, question)
        if not question.strip():
            raise UserFacingError("Please type a question.", key="iss.question_empty")
        await self._articles_loaded()
        answer = self.bot.knowledge.answer(question, guild_id=interaction.guild_id)
        log.info("/iss ask found=%s kind=%s", answer.found, answer.kind)
        await interaction.response.send_message(embed=answer_embed(question, answer, lang))

    @iss.command(name="facts", description="The station's key facts, with their sources")
    async def facts(self, interaction: discord.Interaction[Cupola]) -> None:
        await self._articles_loaded()
        facts = self.bot.knowledge.key_facts(interaction.guild_id)
        await interaction.response.send_message(embed=facts_embed(facts, lang_of(interaction)))

    @crew.command(name="list", description="The current crew, grouped by agency")
    async def crew_list(self, interaction: discord.Interaction[Cupola]) -> None:
        await self._articles_loaded()
        entries = self.bot.knowledge.crew(interaction.guild_id)
        await interaction.response.send_message(embed=crew_embed(entries, lang_of(interaction)))

    @crew.command(name="member", description="One crew member: agency, role and source")
    @app_commands.describe(name="The crew member's name")
    async def crew_member(
        self, interaction: discord.Interaction[Cupola], name: app_commands.Range[str, 1, 100]
    ) -> None:
        lang = lang_of(interaction, name)
        await self._articles_loaded()
        entry = self.bot.knowledge.crew_member(name, interaction.guild_id)
        if entry is None:
            raise UserFacingError(
                f"No crew member named {name!r} in my articles.", key="crew.not_found", name=name
            )
        await interaction.response.send_message(embed=crew_member_embed(entry, lang))

    @crew_member.autocomplete("name")
    async def _crew_names(
        self, interaction: discord.Interaction[Cupola], current: str
    ) -> list[app_commands.Choice[str]]:
        entries = self.bot.knowledge.find_crew(current, interaction.guild_id, limit=25)
        return [app_commands.Choice(name=e.name[:100], value=e.name[:100]) for e in entries]


async def setup(bot: Cupola) -> None:
    await bot.add_cog(Knowledge(bot))
