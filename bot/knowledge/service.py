"""The bot's knowledge: the database rows plus the in-memory question index, kept in step."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import logging
from collections.abc import Iterable
from functools import partial

import bot.knowledge.bilingual as bilingual
import bot.knowledge.store as store
from bot.db import Database
from bot.knowledge.ingest import ParsedArticle, parse_article
from bot.knowledge.qa import Answer, CrewEntry, KeyFact, KnowledgeIndex
from bot.knowledge.store import ADMIN_TITLE, admin_fact_article
from bot.memory import release_memory

log = logging.getLogger(__name__)

LOAD_BATCH = 500  # articles read per database round trip at start-up


ADMIN_FACT_BASE = 1 << 40  # index ids for server-added facts, clear of article ids


def admin_crew_entry(
    name: str, agency: str | None, role: str | None, created: dt.datetime | None
) -> CrewEntry:
    """A crew member a server added, as the roster shows it (its source: the server's admins)."""
    return CrewEntry(name, agency, role, 0, ADMIN_TITLE[0], created.date() if created else None)


class Knowledge:
    """Imports go to the database first, then to the index; ``refresh`` picks up other processes' imports."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.index = KnowledgeIndex()
        self._versions: dict[int, str] = {}
        self._admin_facts: dict[int, str] = {}  # fact id -> text indexed
        self._admin_crew: dict[int, list[CrewEntry]] = {}  # guild -> crew its admins added
        self._crew_generation = 0  # bumped by local changes, so a refresh never undoes a newer one
        self._lock = asyncio.Lock()
        # Stored rows that could not be loaded ("fact 12" -> why): skipped, logged once, reported.
        self.skipped: dict[str, str] = {}
        self.ready = asyncio.Event()  # set once the stored articles are indexed (see ``load``)
        self.loaded = 0  # articles indexed so far, for "still loading" replies

    async def ensure_defaults(self) -> None:
        """On a first start (no global articles at all), import the shipped articles."""
        if not await self.db.run(store.has_global_articles):
            results = await self.import_defaults()
            log.info("first start: imported %d shipped articles", len(results))

    async def load(self, *, seed_if_empty: bool = True) -> int:
        """Build the index from the database (in batches, in a worker thread), seeding it with the
        shipped articles on a first start. ``ready`` is set when done, even after a failure: the
        refresh loop then picks up what could not be read."""
        try:
            if seed_if_empty:
                await self.ensure_defaults()
            await asyncio.to_thread(bilingual.load)  # dictionaries for questions and imports (~1 s)
            count = after = 0
            self.index.begin_bulk()
            # Loading makes millions of objects that live as long as the process: the cyclic GC
            # would walk them again and again while they are made (a quarter of the load time).
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                while True:
                    rows = await self.db.run(partial(store.stored_articles, after=after, limit=LOAD_BATCH))
                    if not rows:
                        break
                    await asyncio.to_thread(self._index_each, rows)
                    after, count = rows[-1][0], count + len(rows)
                    self.loaded = count
            finally:
                if gc_was_enabled:
                    gc.enable()
                await asyncio.to_thread(self.index.end_bulk)
            await self._sync_admin_content()
        finally:
            self.ready.set()
        # The index is millions of long-lived objects: keep the cyclic GC from walking them on every
        # full collection (a pause of several hundred ms at 10,000 articles otherwise), and give the
        # batches' JSON back to the system. (No collection first: it would hold the event loop for
        # about a second, and loading leaves no cycles worth finding.)
        gc.freeze()
        release_memory()
        log.info("knowledge index: %s", self.index.stats())
        if self.skipped:
            log.warning(
                "knowledge: %d stored rows could not be loaded and were skipped: %s",
                len(self.skipped),
                "; ".join(f"{row}: {why}" for row, why in self.skipped.items()),
            )
        return count

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the index is loaded; False if it is still loading after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _index_rows(self, rows: Iterable[tuple[int, int | None, str, str]]) -> None:
        self.index.begin_bulk()
        try:
            self._index_each(rows)
        finally:
            self.index.end_bulk()

    def _index_each(self, rows: Iterable[tuple[int, int | None, str, str]]) -> None:
        for article_id, guild_id, content_hash, parsed_json in rows:
            if self._versions.get(article_id) == content_hash:
                continue  # already indexed (imported by this process)
            try:
                self.index.add_article(article_id, json.loads(parsed_json), guild_id=guild_id)
            except Exception as exc:
                self._skip_row(f"article {article_id}", guild_id, exc)
                self._versions[article_id] = content_hash  # retried when its content changes
                continue
            self.skipped.pop(f"article {article_id}", None)
            self._versions[article_id] = content_hash

    async def _sync_admin_content(self) -> int:
        """Index server-added facts and crew (added or removed here or by another process)."""
        known_before = set(self._admin_facts)  # added after this point are newer than what we read
        crew_generation = self._crew_generation
        facts = await self.db.run(store.server_facts)
        crew = await self.db.run(store.server_crew)
        changed = 0
        current = {fid: (gid, text, source, created) for fid, gid, text, source, created in facts}
        for fid in (known_before & set(self._admin_facts)) - set(current):
            self.index.remove_article(ADMIN_FACT_BASE + fid)
            del self._admin_facts[fid]
            self.skipped.pop(f"fact {fid}", None)
            changed += 1
        for fid, (gid, text, source, created) in current.items():
            if self._admin_facts.get(fid) != text:
                changed += self._add_admin_fact_or_skip(fid, gid, text, source, created)
        roster: dict[int, list[CrewEntry]] = {}
        for _cid, gid, name, agency, role, created in crew:
            roster.setdefault(gid, []).append(admin_crew_entry(name, agency, role, created))
        if roster != self._admin_crew and crew_generation == self._crew_generation:
            self._admin_crew = roster
            changed += 1
        return changed

    # ---- stored rows that fail to load (issue 9): one helper, kept apart from the rest
    def _skip_row(self, row: str, guild_id: int | None, exc: BaseException) -> None:
        """Log a row that cannot be loaded once (not on every refresh) and keep it for the report."""
        why = f"{type(exc).__name__}: {exc}"
        if self.skipped.get(row) != why:
            log.warning("%s (server %s) could not be loaded and is skipped: %s", row, guild_id, why)
        self.skipped[row] = why

    def _add_admin_fact_or_skip(
        self, fact_id: int, guild_id: int, text: str, source: str | None, created: dt.datetime | None
    ) -> bool:
        try:
            self.add_admin_fact(fact_id, guild_id, text, source, created)
        except Exception as exc:
            self._skip_row(f"fact {fact_id}", guild_id, exc)
            self._admin_facts[fact_id] = text  # retried when its text changes
            return False
        self.skipped.pop(f"fact {fact_id}", None)
        return True

    def add_admin_fact(
        self, fact_id: int, guild_id: int, text: str, source: str | None, created: dt.datetime | None
    ) -> None:
        self.index.add_article(
            ADMIN_FACT_BASE + fact_id, admin_fact_article(text, source, created), guild_id=guild_id
        )
        self._admin_facts[fact_id] = text

    def remove_admin_fact(self, fact_id: int) -> None:
        self.index.remove_article(ADMIN_FACT_BASE + fact_id)
        self._admin_facts.pop(fact_id, None)
        self.skipped.pop(f"fact {fact_id}", None)

    def add_admin_crew(self, guild_id: int, entry: CrewEntry) -> None:
        """Show a crew member this server's admins added (see :func:`admin_crew_entry`)."""
        self._crew_generation += 1
        members = self._admin_crew.setdefault(guild_id, [])
        members[:] = [m for m in members if m.name.casefold() != entry.name.casefold()] + [entry]

    def remove_admin_crew(self, guild_id: int, name: str) -> None:
        self._crew_generation += 1
        members = self._admin_crew.get(guild_id, [])
        members[:] = [m for m in members if m.name.casefold() != name.casefold()]

    def forget_article(self, article_id: int) -> None:
        self.index.remove_article(article_id)
        self._versions.pop(article_id, None)

    async def refresh(self) -> int:
        """Apply imports, edits and removals made by other processes; returns how many changed."""
        async with self._lock:
            changed = await self._sync_admin_content()
            # Only what was indexed before the read can have been removed since: an import that
            # lands while we read is newer than our snapshot, not gone.
            known_before = set(self._versions)
            current = await self.db.run(store.article_versions)
            for article_id in (known_before & set(self._versions)) - set(current):
                self.index.remove_article(article_id)
                del self._versions[article_id]
                self.skipped.pop(f"article {article_id}", None)
                changed += 1
            for article_id, content_hash in current.items():
                if self._versions.get(article_id) == content_hash:
                    continue
                row = await self.db.run(partial(store.parsed_of, article_id))
                if row is not None:
                    await asyncio.to_thread(self._index_rows, [(article_id, row[0], content_hash, row[1])])
                    changed += 1
            return changed

    async def import_parsed(
        self,
        parsed: ParsedArticle,
        *,
        guild_id: int | None,
        filename: str | None = None,
        created_by: int | None = None,
    ) -> store.ImportResult:
        result = await self.db.run(
            partial(store.import_parsed, parsed, guild_id=guild_id, filename=filename, created_by=created_by)
        )
        await self.index_imported(result, parsed, guild_id=guild_id)
        return result

    async def index_imported(
        self, result: store.ImportResult, parsed: ParsedArticle, *, guild_id: int | None
    ) -> None:
        """Bring the index in step with an import just committed (by this class or by a workflow
        that wrote more in the same transaction, such as /admin article import and its audit line)."""
        if result.status != "unchanged" or result.article_id not in self._versions:
            await asyncio.to_thread(self.index.add_article, result.article_id, parsed, guild_id=guild_id)
            self._versions[result.article_id] = parsed.content_hash

    async def import_bytes(
        self, data: bytes, *, filename: str | None, guild_id: int | None, created_by: int | None = None
    ) -> store.ImportResult:
        """Parse (in a thread) and import; raises ArticleError (a catalog code and its values)."""
        parsed = await self.parse(data, filename=filename)
        return await self.import_parsed(parsed, guild_id=guild_id, filename=filename, created_by=created_by)

    @staticmethod
    async def parse(data: bytes, *, filename: str | None) -> ParsedArticle:
        """Parse an article in a worker thread; raises ArticleError (a catalog code and its values)."""
        return await asyncio.to_thread(parse_article, data, filename=filename)

    async def import_defaults(self) -> list[store.ImportResult]:
        seeds = await asyncio.to_thread(store.parse_seeds)
        return [await self.import_parsed(parsed, guild_id=None, filename=name) for name, parsed in seeds]

    # Reads are in-memory index look-ups (well under a millisecond at typical sizes).
    def answer(self, question: str, *, guild_id: int | None) -> Answer:
        return self.index.answer(question, guild_id=guild_id)

    def key_facts(self, guild_id: int | None) -> list[KeyFact]:
        return self.index.key_facts(guild_id)

    def _own_crew(self, guild_id: int | None) -> list[CrewEntry]:
        return list(self._admin_crew.get(guild_id, [])) if guild_id is not None else []

    def crew(self, guild_id: int | None) -> list[CrewEntry]:
        """The newest roster from the articles, plus the crew this server's admins added."""
        own = self._own_crew(guild_id)
        names = {m.name.casefold() for m in own}
        return [e for e in self.index.crew(guild_id) if e.name.casefold() not in names] + own

    def find_crew(self, prefix: str, guild_id: int | None, limit: int = 25) -> list[CrewEntry]:
        wanted = prefix.casefold().strip()
        own = [
            m
            for m in self._own_crew(guild_id)
            if any(p.startswith(wanted) for p in [m.name.casefold(), *m.name.casefold().split()])
        ]
        names = {m.name.casefold() for m in own}
        found = [e for e in self.index.find_crew(prefix, guild_id, limit) if e.name.casefold() not in names]
        return sorted(own + found, key=lambda e: e.name.casefold())[:limit]

    def crew_member(self, name: str, guild_id: int | None) -> CrewEntry | None:
        for member in self._own_crew(guild_id):
            if member.name.casefold() == name.casefold().strip():
                return member
        return self.index.crew_member(name, guild_id)
