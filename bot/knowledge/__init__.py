"""Articles in, answers out: parse space-news articles and answer ISS and crew questions from them.

Plain functions and small classes with no Discord, database or network access; the bot core stores
``ParsedArticle.to_dict()`` in SQL and feeds it back to ``KnowledgeIndex.add_article`` at start-up.
"""

from __future__ import annotations

from bot.knowledge.ingest import (
    ArticleError,
    CrewRef,
    FactRef,
    ImageRef,
    ParsedArticle,
    Passage,
    parse_article,
)
from bot.knowledge.qa import Answer, CrewEntry, KeyFact, KnowledgeIndex

__all__ = [
    "Answer",
    "ArticleError",
    "CrewEntry",
    "CrewRef",
    "FactRef",
    "ImageRef",
    "KeyFact",
    "KnowledgeIndex",
    "ParsedArticle",
    "Passage",
    "parse_article",
]
