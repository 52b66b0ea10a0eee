"""The README's "Write an article" example says what the importer makes of it: check every claim."""

from __future__ import annotations

import re
from pathlib import Path

from bot.knowledge.ingest import parse_article

README = Path(__file__).resolve().parents[1] / "README.md"


def example() -> str:
    section = README.read_text(encoding="utf-8").split("## Write an article", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```markdown\n(.*?)```", section, re.DOTALL)
    assert match, "the README's article example is missing"
    return match.group(1)


def test_the_readme_article_example_imports_as_described() -> None:
    article = parse_article(example(), filename="crew-3.md")
    assert article.title == "Crew-3 flies around the station"
    assert article.published is not None and article.published.isoformat() == "2022-05-06"
    assert (article.author, article.source) == ("Jane Doe", "Space Notes")
    assert article.url == "https://example.org/crew-3-flyaround"
    assert len(article.passages) == 5
    assert {f.key for f in article.facts} == {"orbit_period", "altitude"}
    pictured, caption_only = article.images
    assert pictured.url == "https://example.org/img/arrays.jpg"
    assert pictured.caption == "The station's solar arrays catch the sun over the Pacific."
    assert (pictured.credit, pictured.photographer) == ("NASA", "Matthias Maurer")
    assert caption_only.url is None and caption_only.credit == "NASA/ESA"
    assert parse_article(example(), filename="crew-3.md").content_hash == article.content_hash
