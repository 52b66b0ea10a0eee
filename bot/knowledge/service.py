"""The bot's knowledge: the database rows plus the in-memory question index, kept in step."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Iterable

from bot.db import Database
from bot.knowledge import store
from bot.knowledge.ingest import ParsedArticle, parse_article
from bot.knowledge.qa import Answer, CrewEntry, KeyFact, KnowledgeIndex

log = logging.getLogger(__name__)


class Knowledge:
    """Imports go to the database first, then to the index; ``refresh`` picks up other processes' imports."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.index = KnowledgeIndex()
        self._versions: dict[int, str] = {}
        self._lock = asyncio.Lock()

    async def ensure_defaults(self) -> None:
        """On a first start (no global articles at all), import the shipped articles."""
        if not await self.db.run(store.has_global_articles):
            results = await self.import_defaults()
            log.info("first start: imported %d shipped articles", len(results))

    async def load(self, *, seed_if_empty: bool = True) -> int:
        """Build the index from the database, seeding it with the shipped articles on a first start."""
        if seed_if_empty:
            await self.ensure_defaults()
        rows = await self.db.run(store.stored_articles)
        await asyncio.to_thread(self._index_rows, rows)
        # The index is millions of long-lived objects: keep the cyclic GC from walking them on every
        # full collection (a pause of several hundred ms at 10,000 articles otherwise).
        gc.collect()
        gc.freeze()
        log.info("knowledge index: %s", self.index.stats())
        return len(rows)

    def _index_rows(self, rows: Iterable[tuple[int, int | None, str, str]]) -> None:
        for article_id, guild_id, content_hash, parsed_json in rows:
            if self._versions.get(article_id) == content_hash:
                continue  # already indexed (imported by this process)
            try:
                self.index.add_article(article_id, json.loads(parsed_json), guild_id=guild_id)
            except Exception:
                log.exception("article %s could not be indexed; it is skipped", article_id)
                continue
            self._versions[article_id] = content_hash

    async def refresh(self) -> int:
        """Apply imports, edits and removals made by other processes; returns how many changed."""
        async with self._lock:
            current = await self.db.run(store.article_versions)
            changed = 0
            for article_id in set(self._versions) - set(current):
                self.index.remove_article(article_id)
                del self._versions[article_id]
                changed += 1
            for article_id, content_hash in current.items():
                if self._versions.get(article_id) == content_hash:
                    continue
                row = await self.db.run(store.parsed_of, article_id)
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
            store.import_parsed, parsed, guild_id=guild_id, filename=filename, created_by=created_by
        )
        if result.status != "unchanged" or result.article_id not in self._versions:
            await asyncio.to_thread(self.index.add_article, result.article_id, parsed, guild_id=guild_id)
            self._versions[result.article_id] = parsed.content_hash
        return result

    async def import_bytes(
        self, data: bytes, *, filename: str | None, guild_id: int | None, created_by: int | None = None
    ) -> store.ImportResult:
        """Parse (in a thread) and import; raises ArticleError with a readable message."""
        parsed = await asyncio.to_thread(parse_article, data, filename=filename)
        return await self.import_parsed(parsed, guild_id=guild_id, filename=filename, created_by=created_by)

    async def import_defaults(self) -> list[store.ImportResult]:
        seeds = await asyncio.to_thread(store.parse_seeds)
        return [await self.import_parsed(parsed, guild_id=None, filename=name) for name, parsed in seeds]

    # Reads are in-memory index look-ups (well under a millisecond at typical sizes).
    def answer(self, question: str, *, guild_id: int | None) -> Answer:
        return self.index.answer(question, guild_id=guild_id)

    def key_facts(self, guild_id: int | None) -> list[KeyFact]:
        return self.index.key_facts(guild_id)

    def crew(self, guild_id: int | None) -> list[CrewEntry]:
        return self.index.crew(guild_id)

    def find_crew(self, prefix: str, guild_id: int | None, limit: int = 25) -> list[CrewEntry]:
        return self.index.find_crew(prefix, guild_id, limit)

    def crew_member(self, name: str, guild_id: int | None) -> CrewEntry | None:
        return self.index.crew_member(name, guild_id)
