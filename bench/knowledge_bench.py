"""Question answering at scale: start-up, memory and answer latency with N stored articles.

Run: ``python -m bench.knowledge_bench [--sizes 1000 10000] [--questions 2000]``.

For each size a SQLite database with that many synthetic articles is prepared once (cached under
``~/.cache/cupola``; parsing 10,000 articles takes a few minutes on two cores). Then a fresh process
opens it the way ``cupola run`` does (``Knowledge.load``), answers a first question, and answers
``--questions`` more: it reports the time from process start to the first answer, its RSS after
loading, and answer p50/p99. The floor is the same process on an empty database, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.synthetic_articles import synthetic_articles

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
    "hey bot, how many people have visited the station",
    "Which agency does the crew come from?",
    "What did the engineers review while controllers planned the next maneuver?",
    "Which cargo ship delivered fresh food and spare parts?",
    "货运飞船补给是哪一期的内容？",
]


_OPENERS = ["hey bot,", "um,", "quick question:", "hi,", "请问", "嗨，", "so", "ok"]


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _parse(item: tuple[str, str]) -> str:
    from bot.knowledge import parse_article

    name, text = item
    return json.dumps(parse_article(text, filename=name).to_dict(), ensure_ascii=False)


async def _store(url: str, parsed_json: list[str]) -> None:
    from bot.db import Database
    from bot.knowledge import store
    from bot.knowledge.ingest import ParsedArticle

    db = Database(url)
    await db.open()
    try:
        for raw in parsed_json:
            await db.run(store.import_parsed, ParsedArticle.from_dict(json.loads(raw)), guild_id=None)
    finally:
        db.close()


def prepare(size: int) -> Path:
    """A database holding ``size`` synthetic articles (built once per version of the analysis)."""
    from bot.knowledge.text import TERMS_VERSION

    cache = Path(os.environ.get("CUPOLA_CACHE_DIR") or Path.home() / ".cache") / "cupola"
    path = cache / f"bench-knowledge-{size}-t{TERMS_VERSION}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        parsed = list(pool.map(_parse, synthetic_articles(size, seed=size), chunksize=50))
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    asyncio.run(_store(f"sqlite:///{tmp}", parsed))
    tmp.rename(path)
    print(f"(prepared {size:,} articles in {time.perf_counter() - started:.0f} s: {path})", file=sys.stderr)
    return path


async def _child(url: str, started: float, questions: int) -> dict[str, float]:
    from bot.db import Database
    from bot.knowledge.service import Knowledge

    db = Database(url)
    await db.open()
    knowledge = Knowledge(db)
    await knowledge.load(seed_if_empty=False)
    knowledge.answer(QUESTIONS[0], guild_id=None)
    ready = time.time() - started
    ready_cpu = time.process_time()  # CPU of this process since it began: the same on a busy machine
    rss = _rss_mib()
    rng = random.Random(1)
    samples, cpu = [], []
    for _ in range(questions):
        q = rng.choice(QUESTIONS)
        t0, c0 = time.perf_counter(), time.thread_time()
        knowledge.answer(q, guild_id=None)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)  # the answer's own CPU: other load does not count
    # Questions never asked before (greetings of their own before each, which the analysis drops): nothing
    # of them is remembered, so this is what a member's new question costs.
    fresh = []
    for n, q in enumerate(QUESTIONS * 4):
        c0 = time.thread_time()
        first, second = divmod(n, len(_OPENERS))
        knowledge.answer(f"{_OPENERS[first % len(_OPENERS)]} {_OPENERS[second]} {q}", guild_id=None)
        fresh.append((time.thread_time() - c0) * 1000)
    db.close()
    return {
        "fresh_max_cpu": max(fresh),
        "ready_s": ready,
        "ready_cpu_s": ready_cpu,
        "rss_mib": rss,
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "p99_cpu": percentile(cpu, 99),
        "articles": len(knowledge.index),
    }


def run_child(db_path: Path, questions: int) -> dict[str, float]:
    """A new interpreter, so start-up and memory are what an operator's process would see."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.knowledge_bench",
            "--child",
            f"sqlite:///{db_path}",
            "--started",
            repr(time.time()),
            "--questions",
            str(questions),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


async def import_throughput(count: int) -> float:
    from bot.db import Database
    from bot.knowledge.service import Knowledge

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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--imports", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.started, args.questions))))
        return
    from bot.knowledge import bilingual

    bilingual.dictionary()  # built once per machine: not part of any child's start-up
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.db"
        asyncio.run(_store(f"sqlite:///{empty}", []))
        floor = run_child(empty, args.questions)
    print(
        "| articles | first answer after start s | of which CPU s | RSS MiB | answer p50 ms | answer p99 ms "
        "| answer p99 CPU ms | never-asked max CPU ms |"
    )
    print(
        "|---------:|---------------------------:|---------------:|--------:|--------------:|--------------:"
        "|------------------:|-----------------------:|"
    )
    for label, r in [
        ("0 (floor)", floor),
        *((f"{n:,}", run_child(prepare(n), args.questions)) for n in args.sizes),
    ]:
        print(
            f"| {label:>8} | {r['ready_s']:>26.1f} | {r['ready_cpu_s']:>14.1f} | {r['rss_mib']:>7.0f} "
            f"| {r['p50']:>13.2f} | {r['p99']:>13.2f} | {r['p99_cpu']:>17.2f} | {r['fresh_max_cpu']:>22.2f} |"
        )
    rate = asyncio.run(import_throughput(args.imports))
    print(f"\nimport (parse + SQLite + index), {args.imports} articles: {rate:,.0f} articles/s")
    print(f"load on the machine while measuring: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
