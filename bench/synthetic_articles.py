"""Fake but varied articles for benchmarking the parser and the question index.

Run ``python -m bench.synthetic_articles 10000`` for a quick timing report (not used by tests).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import statistics
import time

log = logging.getLogger(__name__)

_FIRST = "Ana Ben Chen Dara Eli Farah Gus Hana Ivo Jana Kai Lena Milo Nia Omar Pia Quinn Rosa Sami Tara Uma Vik Wen Yara Zoe".split()
_SYLLABLES = "ka ro mi ta ve lin sa do ne ri ko ba zu el mor tan vel dri son ha ki lo ur".split()
_AGENCIES_EN = ["NASA", "ESA", "Roscosmos", "JAXA", "the Canadian Space Agency", "the European Space Agency"]
_AGENCIES_ZH = ["NASA", "欧洲航天局", "俄罗斯航天局", "日本宇宙航空研究开发机构", "加拿大航天局"]
_TOPICS_EN = [
    "a spacewalk to replace a pump module",
    "new experiments on plant growth in microgravity",
    "a cargo ship that delivered fresh food and spare parts",
    "an upgrade of the station's solar arrays",
    "a medical study of bone loss in orbit",
    "an amateur radio contact with students",
    "a leak check in the service module",
    "photos of auroras taken from the cupola",
]
_TOPICS_ZH = [
    "出舱活动",
    "微重力植物实验",
    "货运飞船补给",
    "太阳能阵列升级",
    "骨质流失医学研究",
    "业余无线电通联",
    "舱内检漏",
    "极光摄影",
]
_FILLER = (
    "engineers reviewed telemetry while controllers planned the next maneuver and scientists compared samples "
    "from earlier missions with the latest results collected aboard the laboratory during quiet hours of the "
    "schedule including maintenance of filters pumps valves cameras sensors batteries heaters fans and cables"
).split()


def _name(rng: random.Random) -> str:
    surname = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    return f"{rng.choice(_FIRST)} {surname}"


def _filler(rng: random.Random) -> str:
    words = rng.sample(_FILLER, rng.randint(8, 14)) + [
        "".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(rng.randint(1, 3))
    ]
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def _english(rng: random.Random, i: int) -> tuple[str, str]:
    crew = [_name(rng) for _ in range(rng.randint(3, 7))]
    agencies = [rng.choice(_AGENCIES_EN) for _ in crew]
    roster = ", ".join(f"{n} from {a}" for n, a in zip(crew, agencies, strict=True))
    station = rng.choices(
        ["International Space Station", "ISS", "orbiting laboratory", "Tiangong"], [5, 4, 2, 1]
    )[0]
    title = f"{rng.choice(['Update', 'Report', 'News', 'Diary'])} #{i}: {rng.choice(_TOPICS_EN)}"
    sentences = [
        f"The {station} hosted {rng.choice(_TOPICS_EN)} this week.",
        f"The current {len(crew)}-member crew are {roster}.",
        f"The station circles the Earth every {rng.randint(88, 95)} minutes at an altitude of about "
        f"{rng.randint(330, 430)} km.",
        f"Temperatures outside can fall to -{rng.randint(100, 170)} C in shadow, while the sunlit side can reach "
        f"{rng.randint(100, 260)} degrees F.",
        f"More than {rng.randint(200, 400)} people from {rng.randint(15, 30)} countries have visited the station.",
        f"{crew[0]} took the photos during the week. Credit: {rng.choice(['NASA', 'ESA', 'JAXA'])}.",
    ]
    sentences += [_filler(rng) for _ in range(rng.randint(3, 12))]
    rng.shuffle(sentences)
    date = f"{rng.randint(2001, 2035)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    fmt = rng.choice(["txt", "md", "html"])
    if fmt == "txt":
        return f"synthetic_{i}.txt", f"{title}\n\nPublished: {date}\n\n" + "\n\n".join(sentences) + "\n"
    if fmt == "md":
        body = "\n\n".join(sentences)
        return (
            f"synthetic_{i}.md",
            f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ndate: {date}\nsource: Bench\n---\n\n# {title}\n\n{body}\n",
        )
    paras = "".join(f"<p>{s}</p>" for s in sentences)
    head = f"<title>{title}</title><meta property='article:published_time' content='{date}'>"
    return f"synthetic_{i}.html", f"<html><head>{head}</head><body><h1>{title}</h1>{paras}</body></html>"


def _chinese(rng: random.Random, i: int) -> tuple[str, str]:
    crew = [_name(rng) for _ in range(rng.randint(3, 6))]
    groups = "、".join(f"{rng.choice(_AGENCIES_ZH)}的{n}" for n in crew)
    topic = rng.choice(_TOPICS_ZH)
    title = f"空间站动态第{i}期：{topic}"
    sentences = [
        f"国际空间站本周进行了{topic}。",
        f"目前的{len(crew)}名乘员是{groups}。",
        f"空间站大约每{rng.randint(88, 95)}分钟绕地球一圈，轨道高度约{rng.randint(330, 430)}公里。",
        f"国际空间站已经连续有人驻留{rng.randint(15, 30)}多年。",
        f"宇航员{crew[0]}拍下了这些画面。",
        f"超过{rng.randint(200, 400)}人到访过空间站。",
    ]
    rng.shuffle(sentences)
    date = f"{rng.randint(2001, 2035)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    body = "".join(f"<p>{s}</p>" for s in sentences)
    return (
        f"synthetic_{i}.md",
        f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ndate: {date}\nauthor: 基准\n---\n\n<div>{body}</div>\n",
    )


def synthetic_articles(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` fake articles as (filename, text): English and Chinese, text, Markdown and HTML."""
    rng = random.Random(seed)
    return [(_chinese if rng.random() < 0.3 else _english)(rng, i) for i in range(n)]


SAMPLE_QUESTIONS = [
    "How long does it take the ISS to orbit the Earth?",
    "What is the altitude of the ISS?",
    "How cold does it get on the night side?",
    "Who is on the current crew?",
    "Which crew members are from NASA?",
    "How many people have visited the ISS?",
    "Who took the photos?",
    "What did the engineers review?",
    "Who won the 2018 World Cup?",
    "What is the capital of France?",
    "国际空间站绕地球一圈需要多长时间？",
    "现在的乘员都有谁？",
    "火星有几颗卫星?",
    "Which agency is Lena Kamiro with?",
    "What did controllers plan while scientists compared samples?",
]


def main(argv: list[str] | None = None) -> None:
    from bot.knowledge.ingest import parse_article
    from bot.knowledge.qa import KnowledgeIndex

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    articles = synthetic_articles(args.n, args.seed)
    started = time.perf_counter()
    parsed = [parse_article(text, filename=name) for name, text in articles]
    parse_s = time.perf_counter() - started
    index = KnowledgeIndex()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    for article_id, article in enumerate(parsed, 1):
        index.add_article(article_id, article, guild_id=None if rng.random() < 0.7 else rng.randint(1, 50))
    index_s = time.perf_counter() - started
    timings: list[float] = []
    for _ in range(args.rounds):
        for question in SAMPLE_QUESTIONS:
            t0 = time.perf_counter()
            index.answer(question, guild_id=rng.choice([None, 7, 23]))
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"articles: {args.n}  parse: {parse_s:.1f} s  index: {index_s:.1f} s  {index.stats()}")
    print(
        f"answer: n={len(timings)} p50={statistics.median(timings):.2f} ms p99={p99:.2f} ms "
        f"max={timings[-1]:.2f} ms  peak RSS {rss_mb:.0f} MiB"
    )


if __name__ == "__main__":
    main()
