"""Question answering at scale: answer latency with 1,000 and 10,000 synthetic articles in the index,
and import throughput (parse + store + index) into a real SQLite database.

Run: ``python -m bench.knowledge_bench [--sizes 1000 10000] [--questions 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bot.db import Database
from bot.knowledge import KnowledgeIndex, parse_article
from bot.knowledge.bench_helpers import synthetic_articles
from bot.knowledge.service import Knowledge

QUESTIONS = [
    "How long does the ISS take to orbit the Earth?",
    "How high does the ISS fly?",
    "Who is on the crew?",
    "What is the lowest temperature on the station?",
    "How many countries have visited the ISS?",
    "国际空间站绕地球一圈要多久？",
    "空间站有多少人到访过？",
    "What is the capital of France?",
    "Who took the photos?",
    "火星有几颗卫星？",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def answer_latency(size: int, questions: int) -> dict[str, float]:
    articles = synthetic_articles(size, seed=size)
    parsed = [parse_article(text, filename=name) for name, text in articles]
    index = KnowledgeIndex()
    started = time.perf_counter()
    for i, article in enumerate(parsed, 1):
        index.add_article(i, article, guild_id=None)
    build = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # as Knowledge.load does after building the index
    rng = random.Random(size)
    samples = []
    for _ in range(questions):
        q = rng.choice(QUESTIONS)
        t0 = time.perf_counter()
        index.answer(q, guild_id=None)
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "articles": size,
        "build_s": build,
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "max": max(samples),
    }


async def import_throughput(count: int) -> float:
    articles = synthetic_articles(count, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        await db.open()
        knowledge = Knowledge(db)
        started = time.perf_counter()
        for name, text in articles:
            await knowledge.import_bytes(text.encode(), filename=name, guild_id=None)
        elapsed = time.perf_counter() - started
        db.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--imports", type=int, default=300)
    args = parser.parse_args()
    print("| articles | index build s | answer p50 ms | answer p99 ms | max ms |")
    print("|---------:|--------------:|--------------:|--------------:|-------:|")
    for size in args.sizes:
        r = answer_latency(size, args.questions)
        print(
            f"| {size:>8,} | {r['build_s']:>13.1f} | {r['p50']:>13.2f} | {r['p99']:>13.2f} | {r['max']:>6.1f} |"
        )
    rate = asyncio.run(import_throughput(args.imports))
    print(f"\nimport (parse + SQLite + index), {args.imports} articles: {rate:,.0f} articles/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
