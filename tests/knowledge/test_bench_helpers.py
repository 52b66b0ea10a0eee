from __future__ import annotations

from bench.synthetic_articles import SAMPLE_QUESTIONS, synthetic_articles
from bot.knowledge.ingest import parse_article
from bot.knowledge.qa import KnowledgeIndex
from bot.render.knowledge import answer_text


def test_synthetic_articles_are_varied_deterministic_and_parse() -> None:
    articles = synthetic_articles(40, seed=3)
    assert articles == synthetic_articles(40, seed=3)
    assert articles != synthetic_articles(40, seed=4)
    assert {name.rsplit(".", 1)[1] for name, _text in articles} == {"txt", "md", "html"}
    parsed = [parse_article(text, filename=name) for name, text in articles]
    assert {p.language for p in parsed} == {"en", "zh"}
    assert all(p.crew and p.facts for p in parsed)
    index = KnowledgeIndex()
    for article_id, article in enumerate(parsed, 1):
        index.add_article(article_id, article, guild_id=None if article_id % 3 else article_id)
    for question in SAMPLE_QUESTIONS:
        answer = index.answer(question, guild_id=3)
        assert len(answer_text(answer)) <= 1500
    assert not index.answer("Who won the 2018 World Cup?", guild_id=3).found
