"""``python -m bench.photos_bench [--guilds 2000[,10000]] [--about-rate 5] [--n 8] [--json PATH]``.

1. The image pipeline on a 4000×3000 JPEG: images/s with JPEG draft decoding and without it (the
   same code with ``JpegImageFile.draft`` made a no-op), and what a credit card costs.
2. Photo-of-the-day fan-out: the real Cupola bot in its own process (bench/clusterproc.py, SQLite)
   posts one photo of the day to each of ``--guilds`` servers on a local sandbox that enforces
   Discord's global 50 requests/s, while /about is asked from random servers. Reported: the
   achieved post rate against that limit, the busiest second, 429 answers (should be zero), the
   bot's CPU per post (compare sizes: it should not grow with the number of servers) and /about
   latency during the fan-out.

Loopback only (bench/netguard.py). Prints a table; about a minute per 2,000 servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import JpegImagePlugin

from bench import netguard
from bench.synthetic_images import make_jpeg
from bot.media import process_image, render_credit_card

log = logging.getLogger("bench.photos")
DISCORD_GLOBAL_LIMIT = 50.0


@dataclass
class Row:
    measure: str
    value: float
    unit: str
    note: str = ""


# ---------------------------------------------------------------------------------------- pipeline


@contextlib.contextmanager
def draft_disabled() -> Iterator[None]:
    """JPEG draft decoding off: libjpeg decodes every pixel, as without ``im.draft``."""
    original = JpegImagePlugin.JpegImageFile.draft
    JpegImagePlugin.JpegImageFile.draft = lambda self, mode, size: None  # type: ignore[method-assign, assignment, return-value]
    try:
        yield
    finally:
        JpegImagePlugin.JpegImageFile.draft = original  # type: ignore[method-assign]


def timed(fn: Callable[[], Any], n: int) -> tuple[float, Any]:
    """Median seconds per call over ``n`` calls (after one warm-up), and the last result."""
    result = fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pipeline_rows(n: int) -> list[Row]:
    data = make_jpeg(4000, 3000, seed=1)
    rows = []
    per, out = timed(lambda: process_image(data, max_side=1600), n)
    assert out.draft_used
    rows.append(
        Row("process_image 4000×3000 JPEG → 1600 px, draft", 1 / per, "images/s", f"{per * 1000:.0f} ms")
    )
    with draft_disabled():
        per_nd, out = timed(lambda: process_image(data, max_side=1600), n)
    assert not out.draft_used
    rows.append(
        Row(
            "process_image 4000×3000 JPEG → 1600 px, no draft",
            1 / per_nd,
            "images/s",
            f"{per_nd * 1000:.0f} ms",
        )
    )
    rows.append(Row("draft decoding speed-up", per_nd / per, "×"))
    per_full, out = timed(lambda: process_image(data), n)
    rows.append(
        Row(
            "process_image 4000×3000 JPEG, kept at 4000 px",
            1 / per_full,
            "images/s",
            f"{per_full * 1000:.0f} ms",
        )
    )
    processed = process_image(data, max_side=1600)
    caption = "The International Space Station pictured from the Crew Dragon Endeavour during a flyaround."
    credit = "Credit: NASA · Photo: Thomas Pesquet"
    per_card, card = timed(lambda: render_credit_card(processed, caption=caption, credit=credit), n)
    rows.append(
        Row("credit card from a 1600 px photo", per_card * 1000, "ms/card", f"{len(card) // 1024} KiB JPEG")
    )
    per_raw, _ = timed(lambda: render_credit_card(data, caption=caption, credit=credit), n)
    rows.append(Row("credit card straight from the 4000×3000 JPEG", per_raw * 1000, "ms/card"))
    return rows


# ---------------------------------------------------------------------------------------- fan-out


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, all threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def fanout_rows(guild_count: int, photos: int, about_per_s: float, timeout: float) -> list[Row]:
    """The photo of the day to ``guild_count`` servers from a real bot process (SQLite), with
    /about asked from random servers meanwhile; the bot's CPU per post is measured between the
    10th and 90th percent of the posts (start-up and the tail left out)."""
    import math
    import random

    from bench.cluster_bench import seed
    from bench.harness import AnswerWatch, machine_busy_seconds, percentile
    from bot.sandbox import Sandbox

    shards = max(1, math.ceil(guild_count / 2500))
    sb = Sandbox(token="photos-bench", shard_count=shards)  # Discord's 50 requests/s global limit
    guilds = [sb.add_guild(f"Server {i}") for i in range(guild_count)]
    await sb.start()
    watch = AnswerWatch(sb)
    watch.start()
    latencies: list[float] = []
    samples: list[tuple[float, int]] = []  # (bot CPU s, posts so far)
    posts_at: list[float] = []
    driver: list[tuple[float, float, float]] = []  # (this process's CPU, the machine's, wall)
    about_errors = 0
    proc = None
    try:
        with tempfile.TemporaryDirectory(prefix="cupola-photos-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'cupola.db'}"
            await seed(url, Path(tmp) / "data", sb, None, photos)
            env = {k: v for k, v in os.environ.items() if not k.startswith("CUPOLA_")}
            env.update(
                {
                    "PYTHONUNBUFFERED": "1",
                    "CUPOLA_DISCORD_TOKEN": sb.token,
                    "CUPOLA_DISCORD_API_BASE": sb.api_base,
                    "CUPOLA_DISCORD_SHARD_COUNT": str(shards),
                    "CUPOLA_DISCORD_SYNC_ON_START": "global",
                    "CUPOLA_DATABASE_URL": url,
                    "CUPOLA_PATHS_DATA_DIR": str(Path(tmp) / "data"),
                }
            )
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.clusterproc", env=env, stdout=asyncio.subprocess.PIPE
            )
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 180)
            if line.strip() != b"READY":
                raise RuntimeError("the bot did not start")
            print(
                f"bot ready with {guild_count} servers in {time.monotonic() - started:.1f} s", file=sys.stderr
            )
            # The sandbox's servers live as long as the run: kept out of this process's cyclic GC, whose
            # full collections otherwise stalled the sandbox for 50–140 ms at 10,000 servers. A stall
            # lets requests queue in the socket and be counted together in one second (a 429 that
            # Discord, not paused by our collector, would not give); the bot is measured, not this.
            gc.freeze()
            rng = random.Random(1)
            seen = 0

            def count_posts() -> int:
                nonlocal seen
                calls = sb.calls
                for call in calls[seen:]:
                    if call.method == "POST" and call.route.endswith("/messages") and call.status == 200:
                        posts_at.append(call.at)
                seen = len(calls)
                return len(posts_at)

            async def ask_about() -> None:
                nonlocal about_errors
                guild = rng.choice(guilds)
                payload = sb.build_command_payload("about", None, guild=guild)
                answered = watch.expect(int(payload["id"]))
                record = await sb.send_interaction(payload)
                try:
                    done_at = await asyncio.wait_for(answered, 5)
                    latencies.append(done_at - record.created_at)
                except TimeoutError:
                    about_errors += 1
                finally:
                    watch.forget(int(payload["id"]))

            asking: set[asyncio.Task[None]] = set()
            deadline = time.monotonic() + timeout
            next_sample = 0.0
            while count_posts() < guild_count and time.monotonic() < deadline:
                if posts_at and time.monotonic() >= next_sample:
                    samples.append((process_cpu(proc.pid), len(posts_at)))
                    driver.append((time.process_time(), machine_busy_seconds() or 0.0, time.monotonic()))
                    next_sample = time.monotonic() + 1.0
                if posts_at:
                    task = asyncio.create_task(ask_about())
                    asking.add(task)
                    task.add_done_callback(asking.discard)
                await asyncio.sleep(1 / about_per_s)
            samples.append((process_cpu(proc.pid), count_posts()))
            driver.append((time.process_time(), machine_busy_seconds() or 0.0, time.monotonic()))
            await asyncio.gather(*asking, return_exceptions=True)
    finally:
        gc.unfreeze()
        if proc is not None and proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 20)
        await watch.stop()
        await sb.stop()

    total = len(posts_at)
    low = next((s for s in samples if s[1] >= 0.1 * guild_count), samples[0])
    high = next((s for s in samples if s[1] >= 0.9 * guild_count), samples[-1])
    cpu_per_post = (high[0] - low[0]) / max(1, high[1] - low[1]) * 1000
    (d0, m0, w0), (d1, m1, w1) = driver[0], driver[-1]
    bot_cores = (samples[-1][0] - samples[0][0]) / max(w1 - w0, 1e-9)
    driver_cores = (d1 - d0) / max(w1 - w0, 1e-9)
    other_cores = max(0.0, (m1 - m0) / max(w1 - w0, 1e-9) - bot_cores - driver_cores)
    wall = posts_at[-1] - posts_at[0] if total > 1 else float("nan")
    achieved = (total - 1) / wall if total > 1 else float("nan")
    rest = sorted(c.at for c in sb.calls if not c.route.startswith("POST /interactions/"))
    latencies.sort()

    def potd_posts(guild: Any) -> int:
        messages = sb.channel_messages(sb.default_channel(guild))
        return sum(1 for m in messages if any(" · #" in str(e.get("footer")) for e in m.get("embeds") or []))

    once = all(potd_posts(g) == 1 for g in guilds)
    return [
        Row(f"{guild_count:,} servers: posted", total, "posts", f"exactly one each: {once}"),
        Row(f"{guild_count:,} servers: fan-out wall time", wall, "s", "first post to last"),
        Row(
            f"{guild_count:,} servers: achieved post rate",
            achieved,
            "posts/s",
            f"{achieved / DISCORD_GLOBAL_LIMIT:.0%} of the 50/s limit",
        ),
        Row(f"{guild_count:,} servers: 429 answers", sb.rate_limited, "responses", "sandbox's count"),
        Row(
            f"{guild_count:,} servers: busiest 1-second window",
            max_in_window(rest, 1.0),
            "requests",
            "all REST",
        ),
        Row(f"{guild_count:,} servers: bot CPU per post", cpu_per_post, "ms", "10%–90% of the posts"),
        Row(
            f"{guild_count:,} servers: cores used",
            bot_cores,
            "bot",
            f"sandbox + driver {driver_cores:.2f}, other load on the machine {other_cores:.2f} (of 2)",
        ),
        Row(
            f"{guild_count:,} servers: /about during the fan-out, p50",
            percentile(latencies, 50) * 1000,
            "ms",
            f"{len(latencies)} asked from random servers, {about_errors} unanswered",
        ),
        Row(
            f"{guild_count:,} servers: /about during the fan-out, p99", percentile(latencies, 99) * 1000, "ms"
        ),
    ]


def max_in_window(stamps: list[float], width: float) -> int:
    best = 0
    start = 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


# ---------------------------------------------------------------------------------------- report


def _number(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def table(rows: list[Row]) -> str:
    body = [
        [r.measure, f"{r.value:,.2f}" if r.value < 100 else f"{r.value:,.0f}", r.unit, r.note] for r in rows
    ]
    header = ["measure", "value", "unit", "note"]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i == 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(b) for b in body)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.photos_bench", description=__doc__)
    parser.add_argument(
        "--guilds", default="2000", help="servers in the fan-out; several comma-separated (default 2000)"
    )
    parser.add_argument("--about-rate", type=float, default=5.0, help="/about per second during the fan-out")
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds per fan-out at most")
    parser.add_argument("--photos", type=int, default=12, help="photos in the catalog (default 12)")
    parser.add_argument("--n", type=int, default=8, help="timed runs per pipeline measure (default 8)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    sizes = [int(v) for v in str(args.guilds).split(",") if v.strip()]
    if not sizes or min(sizes) < 1 or args.about_rate <= 0 or args.photos < 1 or args.n < 1:
        parser.error("--guilds, --about-rate, --photos and --n must be positive")
    netguard.install()
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    rows: list[Row] = []
    if not args.skip_pipeline:
        t0 = time.monotonic()
        rows += pipeline_rows(args.n)
        print(f"pipeline measured in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    if not args.skip_fanout:
        for size in sizes:
            rows += asyncio.run(fanout_rows(size, args.photos, args.about_rate, args.timeout))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
