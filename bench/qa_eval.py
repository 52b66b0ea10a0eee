"""Question-answering evaluation on a directory of real articles the code has never seen.

Run: ``python -m bench.qa_eval DIR [--json] [--only-misses]``. DIR holds the article files and a
``questions.json`` (``{"articles": [...], "questions": [{q, any | found: false, lang, type, cross,
ok_articles}]}``). The articles are imported into a fresh SQLite database through the same path as
``cupola import`` (parse, store, index) and each question is asked as ``cupola ask`` would. A reply is
right when it is found and one of the question's ``any`` strings appears in what the member reads
(the answer and its quoted sentence, lower-cased); an uncovered question is right when the reply is
"not in my articles". Prints accuracy by question type, language and cross-language, the invented
answers, and every miss with the reply given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.db import Database
from bot.knowledge.service import Knowledge
from bot.render.knowledge import answer_plain


@dataclass
class Outcome:
    item: dict[str, Any]
    right: bool
    found: bool
    reply: str
    article: str | None


def _reply_text(answer: Any) -> str:
    return answer_plain(answer, "zh" if answer.language == "zh" else "en")


async def evaluate(directory: Path) -> tuple[list[Outcome], dict[int, str]]:
    spec = json.loads((directory / "questions.json").read_text(encoding="utf-8"))
    names = spec.get("articles") or sorted(p.name for p in (directory / "articles").iterdir() if p.is_file())
    articles_dir = directory / "articles" if (directory / "articles").is_dir() else directory
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/eval.db")
        await db.open()
        knowledge = Knowledge(db)
        try:
            await knowledge.load(seed_if_empty=False)
            by_id: dict[int, str] = {}
            for name in names:
                data = (articles_dir / name).read_bytes()
                result = await knowledge.import_bytes(data, filename=name, guild_id=None)
                by_id[result.article_id] = name
            outcomes = []
            for item in spec["questions"]:
                answer = knowledge.answer(item["q"], guild_id=None)
                reply = _reply_text(answer)
                expected_found = item.get("found", True) is not False
                if expected_found:
                    text = reply.casefold()
                    right = answer.found and any(s.casefold() in text for s in item.get("any", []))
                else:
                    right = not answer.found
                article = by_id.get(answer.article_id) if answer.article_id is not None else None
                outcomes.append(Outcome(item, right, answer.found, reply, article))
        finally:
            db.close()
    return outcomes, by_id


def _rate(rows: list[Outcome]) -> str:
    right = sum(o.right for o in rows)
    return f"{right}/{len(rows)} ({right / len(rows):.0%})" if rows else "-"


def report(outcomes: list[Outcome], *, only_misses: bool = False) -> str:
    answerable = [o for o in outcomes if o.item.get("found", True) is not False]
    uncovered = [o for o in outcomes if o.item.get("found", True) is False]
    cross = [o for o in answerable if o.item.get("cross")]
    lines: list[str] = []
    if not only_misses:
        lines.append(f"{'measure':<44} {'right':>14}")
        lines.append(f"{'answerable questions answered right':<44} {_rate(answerable):>14}")
        lines.append(
            f"{'  same language':<44} {_rate([o for o in answerable if not o.item.get('cross')]):>14}"
        )
        lines.append(f"{'  cross-language':<44} {_rate(cross):>14}")
        for lang in sorted({o.item.get("lang", "?") for o in answerable}):
            rows = [o for o in answerable if o.item.get("lang") == lang]
            lines.append(f"{'  asked in ' + lang:<44} {_rate(rows):>14}")
        by_type: dict[str, list[Outcome]] = defaultdict(list)
        for o in answerable:
            by_type[o.item.get("type", "?")].append(o)
        for kind in sorted(by_type):
            lines.append(f"{'  type ' + kind:<44} {_rate(by_type[kind]):>14}")
        cited = [o for o in answerable if o.right and o.item.get("ok_articles")]
        good_cite = sum(o.article in o.item["ok_articles"] for o in cited)
        lines.append(f"{'  right answers citing an expected article':<44} {good_cite:>9}/{len(cited)}")
        invented = sum(o.found for o in uncovered)
        lines.append(f"{'uncovered questions answered anyway':<44} {invented:>9}/{len(uncovered)}")
        lines.append("")
    misses = [o for o in outcomes if not o.right]
    lines.append(f"misses ({len(misses)}):")
    for o in misses:
        want = o.item.get("any") if o.item.get("found", True) is not False else "not in my articles"
        flag = " [cross]" if o.item.get("cross") else ""
        lines.append(f"- [{o.item.get('lang')}/{o.item.get('type')}]{flag} {o.item['q']}")
        lines.append(f"    wanted {want}; got found={o.found} from {o.article}:")
        lines.append("    " + " ".join(o.reply.split())[:400])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.qa_eval", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="folder with articles/ and questions.json")
    parser.add_argument("--json", action="store_true", help="one JSON line per question instead")
    parser.add_argument("--only-misses", action="store_true")
    args = parser.parse_args(argv)
    if not (args.directory / "questions.json").is_file():
        print(f"{args.directory}: no questions.json there", file=sys.stderr)
        return 2
    outcomes, _ = asyncio.run(evaluate(args.directory))
    if args.json:
        for o in outcomes:
            print(
                json.dumps(
                    {
                        "q": o.item["q"],
                        "right": o.right,
                        "found": o.found,
                        "reply": o.reply,
                        "article": o.article,
                    },
                    ensure_ascii=False,
                )
            )
    else:
        print(report(outcomes, only_misses=args.only_misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
