"""The question set in questions.yaml against the two seed articles: accuracy and zero invention."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.knowledge.qa import KnowledgeIndex
from bot.render.knowledge import answer_plain, answer_text

QUESTIONS = yaml.safe_load((Path(__file__).parent / "questions.yaml").read_text(encoding="utf-8"))[
    "questions"
]


def test_question_set_shape() -> None:
    unanswerable = [q for q in QUESTIONS if q.get("found", True) is False]
    chinese = [q for q in QUESTIONS if any("\u4e00" <= ch <= "\u9fff" for ch in q["q"])]
    assert len(QUESTIONS) >= 40
    assert len(unanswerable) * 5 >= len(QUESTIONS)
    assert len(chinese) >= 10 and len(QUESTIONS) - len(chinese) >= 10


def test_accuracy_and_no_invented_answers(seed_index: KnowledgeIndex) -> None:
    correct = 0
    invented: list[str] = []
    wrong: list[str] = []
    for item in QUESTIONS:
        answer = seed_index.answer(item["q"], guild_id=None)
        if item.get("found", True) is False:
            if answer.found:
                invented.append(f"{item['q']!r} -> {answer_text(answer)!r}")
            else:
                correct += 1
            continue
        reply = answer_plain(answer, answer.language)  # what the member reads: answer and quote
        missing = [s for s in item["expect"] if s not in reply]
        if answer.found and not missing:
            correct += 1
        else:
            wrong.append(f"{item['q']!r} -> found={answer.found} {answer_text(answer)!r} (missing {missing})")
    assert not invented, "answers invented for unanswerable questions:\n" + "\n".join(invented)
    accuracy = correct / len(QUESTIONS)
    assert accuracy >= 0.9, f"accuracy {accuracy:.0%}; wrong:\n" + "\n".join(wrong)
