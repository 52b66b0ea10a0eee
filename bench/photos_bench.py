"""``python -m bench.photos_bench [--guilds 2000] [--rate 45] [--burst 2] [--n 8] [--json PATH]``.

1. The image pipeline on a 4000×3000 JPEG: images/s with JPEG draft decoding and without it (the
   same code with ``JpegImageFile.draft`` made a no-op), and what a credit card costs.
2. Photo-of-the-day fan-out: the real Cupola bot (in this process) posts one photo of the day to
   each of ``--guilds`` servers on a local sandbox that enforces Discord's global 50 requests/s
   (its default RateLimitConfig); the bot's shared Pacer runs at ``--rate``. Reported: the
   achieved post rate against that limit, the busiest second, and 429 answers (should be zero).
   Burst 2 keeps the rate (an asyncio sleep overshoots a little; one spare token makes it up) and
   stays clear of the limit: a burst of 5 at 45/s can put 50+ requests in one second after jitter.

Loopback only (bot/sandbox/netguard.py). Prints a table; about a minute with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import JpegImagePlugin

from bot.media import process_image, render_credit_card
from bot.media.bench_helpers import make_jpeg
from bot.sandbox import netguard

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


async def fanout_rows(guild_count: int, rate: float, burst: int, photos: int) -> list[Row]:
    from sqlalchemy import delete

    from bench.botproc import make_cupola
    from bot.delivery import Pacer
    from bot.media import process_image as process
    from bot.models import GuildSettings, Photo
    from bot.photos import add_photo
    from bot.photos.pictures import relative_to_store
    from bot.sandbox import Sandbox

    sb = Sandbox(token="photos-bench")  # default RateLimitConfig: 50 requests/s global
    guilds = [sb.add_guild(f"Server {i}") for i in range(guild_count)]
    await sb.start()
    try:
        with tempfile.TemporaryDirectory(prefix="cupola-photos-bench-") as tmp:
            bot = make_cupola(sb.api_base, sb.token, Path(tmp))
            bot.pacer = Pacer(rate=rate, burst=burst)
            started = time.monotonic()
            await bot.login(sb.token)
            connect = asyncio.create_task(bot.connect())
            try:
                await asyncio.wait_for(bot.wait_until_ready(), 120)
                await bot.knowledge.wait_ready(120)
                print(
                    f"bot ready with {len(bot.guilds)} servers in {time.monotonic() - started:.1f} s",
                    file=sys.stderr,
                )
                cog = bot.get_cog("PhotoOfTheDay")
                assert cog is not None, "the potd cog did not load"
                cog.scheduler.cancel()  # type: ignore[attr-defined]
                service = cog.service  # type: ignore[attr-defined]
                pictures = [
                    await asyncio.to_thread(process, make_jpeg(480, 360, seed=s)) for s in range(photos)
                ]

                def seed(*, session: Any) -> None:
                    session.execute(delete(Photo))  # the shipped articles' photos live on the internet
                    for i, picture in enumerate(pictures):
                        path = bot.images.put(picture)
                        add_photo(
                            session=session,
                            guild_id=None,
                            caption=f"Flyaround view {i}",
                            credit="NASA",
                            photographer="Thomas Pesquet",
                            processed=picture,
                            stored_path=relative_to_store(path, bot.images),
                        )
                    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
                    for guild in guilds:
                        session.add(
                            GuildSettings(
                                guild_id=guild.id,
                                potd_channel_id=sb.default_channel(guild).id,
                                potd_time="08:00",
                                potd_timezone="UTC",
                                updated_at=long_ago,
                            )
                        )

                await bot.db.run(seed)
                bot.clock = lambda: datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
                calls_before = len(sb.calls)
                limited_before = sb.rate_limited
                t0 = time.monotonic()
                outcomes = await service.tick()
                elapsed = time.monotonic() - t0
                calls = sb.calls[calls_before:]
            finally:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(connect, 5)
    finally:
        await sb.stop()

    sent = [o for o in outcomes if o.status == "sent"]
    posts = sorted(c.at for c in calls if c.method == "POST" and "/messages" in c.path and c.status == 200)
    rest = sorted(c.at for c in calls if not c.route.startswith("POST /interactions/"))
    busiest = max_in_window(rest, 1.0)
    achieved = (len(posts) - 1) / (posts[-1] - posts[0]) if len(posts) > 1 else float("nan")
    statuses = [c.status for c in calls]
    once = all(
        sum(1 for m in sb.channel_messages(sb.default_channel(g)) if m.get("embeds")) == 1 for g in guilds
    )
    return [
        Row("servers posted", len(sent), "posts", f"of {guild_count}; exactly one each: {once}"),
        Row("fan-out wall time", elapsed, "s", f"pacer {rate:g}/s, burst {burst}"),
        Row(
            "achieved post rate",
            achieved,
            "posts/s",
            f"{achieved / DISCORD_GLOBAL_LIMIT:.0%} of the 50/s limit",
        ),
        Row("busiest 1-second window", busiest, "requests", "all REST calls, sliding window"),
        Row(
            "429 answers",
            statuses.count(429),
            "responses",
            f"sandbox counted {sb.rate_limited - limited_before}",
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
    parser.add_argument("--guilds", type=int, default=2000, help="servers in the fan-out (default 2000)")
    parser.add_argument("--rate", type=float, default=45.0, help="the bot's pacer, requests/s (default 45)")
    parser.add_argument("--burst", type=int, default=2, help="the pacer's burst (default 2)")
    parser.add_argument("--photos", type=int, default=12, help="photos in the catalog (default 12)")
    parser.add_argument("--n", type=int, default=8, help="timed runs per pipeline measure (default 8)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.guilds < 1 or args.rate <= 0 or args.burst < 1 or args.photos < 1 or args.n < 1:
        parser.error("--guilds, --rate, --burst, --photos and --n must be positive")
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
        rows += asyncio.run(fanout_rows(args.guilds, args.rate, args.burst, args.photos))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
