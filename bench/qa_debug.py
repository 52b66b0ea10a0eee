"""Show how a question is analysed and ranked: ``python -m bench.qa_debug DIR "question" ...``."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.knowledge import answering
from bot.knowledge.ingest import parse_article
from bot.knowledge.qa import KnowledgeIndex
from bot.knowledge.question import analyse


def main() -> None:
    directory = Path(sys.argv[1])
    index = KnowledgeIndex()
    files = (
        sorted((directory / "articles").iterdir())
        if (directory / "articles").is_dir()
        else sorted(directory.glob("*.*"))
    )
    for i, path in enumerate(files, 1):
        index.add_article(i, parse_article(path.read_bytes(), filename=path.name), guild_id=None)
    sentences = index._sentences
    for question in sys.argv[2:]:
        q = analyse(question)
        print(
            f"\n== {question}\n   clean={q.text!r} lang={q.language} type={q.qtype}/{q.detail} unit={q.unit}"
        )
        for c in q.concepts:
            alts = sorted(c.alternatives)[:12]
            print(
                f"   concept {c.label!r} w={sentences.concept_weight(c):.2f} entity={c.entity} strict={c.strict} {alts}"
            )
        for hit in sentences.search(q.concepts, (None,))[:6]:
            text = sentences.texts[hit.sentence] or ""
            cov = {k: round(v, 1) for k, v in hit.coverage.items()}
            print(
                f"   {hit.sentence}: {hit.score:.2f} {cov} | {[c.surface for c in answering.candidates(text, q)[:3]]} | {text[:150]}"
            )
        trace: list[str] = []
        found, _ = answering.find_or_nearest(sentences, question, (None,), trace)
        for line in trace:
            print("   ·", line)
        print("   ->", (found.lead, round(found.score, 2), found.quote[:100]) if found else None)


if __name__ == "__main__":
    main()
