from __future__ import annotations

import pytest

from bot.knowledge.ingest import ParsedArticle, parse_article
from bot.knowledge.qa import KnowledgeIndex
from tests.support.helpers import seed_files


@pytest.fixture(scope="session")
def seeds() -> dict[str, ParsedArticle]:
    """The shipped seed articles, keyed by language ('en', 'zh')."""
    parsed = [parse_article(p.read_bytes(), filename=p.name) for p in seed_files()]
    assert len(parsed) == 2
    return {a.language: a for a in parsed}


@pytest.fixture(scope="session")
def seed_index(seeds: dict[str, ParsedArticle]) -> KnowledgeIndex:
    index = KnowledgeIndex()
    index.add_article(1, seeds["en"], guild_id=None)
    index.add_article(2, seeds["zh"], guild_id=None)
    return index
