"""``python -m bench.feeds_bench [--feeds 5000] [--changed 0.1] [--rounds 2] [--json PATH]``.

Watched-feed polling at scale, without Discord: one aiohttp publisher in a subprocess serves every
feed on eight loopback addresses (so per-host politeness applies as with real publishers); most
feeds answer 304 to the stored ETag, the ``--changed`` share answers 200 with a document whose
entries are all known (parsed and de-duplicated, nothing new). The poller is the bot's own
:class:`FeedPoller` on a SQLite file, driven round by round with a controlled clock.

Reports feeds polled per second, CPU per feed (this process, all threads), parse throughput for
a 200-entry Media RSS feed, and the polling process's peak memory. Loopback only (bench.netguard).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert

from bench import netguard
from bench.synthetic_feeds import make_feed
from bot.db import Database
from bot.feeds.parse import parse_feed
from bot.feeds.poller import FeedPoller, RoundReport
from bot.models import Feed, FeedEntry, Subscription
from bot.net import SafeHttp
from bot.pacing import Pacer

HOSTS = [f"127.0.0.{n}" for n in range(1, 9)]
ETAG = '"bench-v1"'
ENTRIES_PER_CHANGED_FEED = 10
DISTINCT_BODIES = 50
INTERVAL = 600
START = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------- publisher


def _publisher(changed_every: int, ready: Any, stop: Any) -> None:
    """The feed server process: /f/<n> answers 304 to the ETag unless n is a changed feed."""
    from aiohttp import web

    bodies = [make_feed(ENTRIES_PER_CHANGED_FEED, seed=s) for s in range(DISTINCT_BODIES)]

    async def handler(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if changed_every and n % changed_every == 0:
            return web.Response(body=bodies[n % DISTINCT_BODIES], content_type="application/rss+xml")
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(
            body=bodies[n % DISTINCT_BODIES], content_type="application/rss+xml", headers={"ETag": ETAG}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ports = []
        for host in HOSTS:
            site = web.TCPSite(runner, host, 0)
            await site.start()
            ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.put(ports)
        await asyncio.to_thread(stop.get)  # serve until the bench says stop
        await runner.cleanup()

    asyncio.run(main())


# --------------------------------------------------------------------------------------------- seeding


def _changed_every(share: float) -> int:
    return 0 if share <= 0 else max(1, round(1 / share))


def _known_entries() -> list[list[tuple[str, str]]]:
    """(key, fingerprint) of each distinct document's entries, as a first poll would record them."""
    return [
        [(e.key, e.fingerprint) for e in parse_feed(make_feed(ENTRIES_PER_CHANGED_FEED, seed=s)).entries]
        for s in range(DISTINCT_BODIES)
    ]


def _seed(
    n_feeds: int, ports: list[int], changed_every: int, known: list[list[tuple[str, str]]], *, session: Any
) -> None:
    feeds = []
    for n in range(n_feeds):
        host = n % len(HOSTS)
        feeds.append(
            {
                "id": n + 1,
                "url": f"http://{HOSTS[host]}:{ports[host]}/f/{n}",
                "etag": ETAG,
                "item_count": 0,
                "failures": 0,
                "paused": False,
                "next_poll_at": START,
                "created_at": START,
            }
        )
    session.execute(insert(Feed), feeds)
    session.execute(
        insert(Subscription),
        [
            {"feed_id": n + 1, "guild_id": 1000 + n % 500, "channel_id": 10_000 + n, "created_at": START}
            for n in range(n_feeds)
        ],
    )
    entries = [
        {"feed_id": n + 1, "key": key, "fingerprint": fingerprint, "first_seen_at": START}
        for n in range(n_feeds)
        if changed_every and n % changed_every == 0
        for key, fingerprint in known[n % DISTINCT_BODIES]
    ]
    if entries:
        session.execute(insert(FeedEntry), entries)


# --------------------------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    rows: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, label: str, value: float, fmt: str, key: str) -> None:
        self.rows.append((label, format(value, fmt)))
        self.data[key] = value


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _stub_bot(db: Database, http: SafeHttp, clock: Callable[[], datetime]) -> Any:
    """What FeedPoller uses of the bot, without a Discord connection (nothing is posted here)."""
    return SimpleNamespace(
        db=db,
        net=http,
        clock=clock,
        pacer=Pacer(),
        settings=SimpleNamespace(feeds=SimpleNamespace(poll_interval_seconds=INTERVAL)),
        shard_count=None,
        shard_ids=None,
        owns_guild=lambda guild_id: True,
    )


def measure_parse(repeat: int = 5) -> float:
    document = make_feed(200, seed=7)
    parse_feed(document)  # warm up
    started = time.perf_counter()
    for _ in range(repeat):
        parsed = parse_feed(document)
    elapsed = time.perf_counter() - started
    assert len(parsed.entries) == 200
    return 200 * repeat / elapsed


async def measure_rounds(
    n_feeds: int, share: float, rounds: int, workdir: Path
) -> tuple[list[tuple[RoundReport, float, float]], int]:
    changed_every = _changed_every(share)
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=_publisher, args=(changed_every, ready, stop), daemon=True)
    server.start()
    try:
        ports = ready.get(timeout=60)
        db = Database(f"sqlite:///{workdir / 'feeds-bench.db'}")
        await db.open(migrate=True)
        await db.run(_seed, n_feeds, ports, changed_every, _known_entries())
        clock = _Clock()
        results = []
        async with SafeHttp(allow_private_addresses=True, connect_timeout=5, total_timeout=30) as http:
            for _ in range(rounds):
                # A new poller each round, as after a restart: nothing carried over in memory, the
                # bodies' hashes come from the database (issue 11).
                poller = FeedPoller(_stub_bot(db, http, clock), deliver=False)  # type: ignore[arg-type]
                cpu, wall = time.process_time(), time.perf_counter()
                report = await poller.run_once()
                results.append((report, time.perf_counter() - wall, time.process_time() - cpu))
                clock.now += timedelta(seconds=3 * INTERVAL)  # everything is due again
        db.close()
        return results, changed_every
    finally:
        stop.put(True)
        server.join(10)
        if server.is_alive():
            server.kill()


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    vwidth = max(len(value) for _, value in rows)
    print(f"| {'Measure':<{width}} | {'Value':>{vwidth}} |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 1)}:|")
    for label, value in rows:
        print(f"| {label:<{width}} | {value:>{vwidth}} |")


async def run(args: argparse.Namespace) -> Measured:
    out = Measured()
    with tempfile.TemporaryDirectory(prefix="cupola-feeds-bench-") as tmp:
        results, _ = await measure_rounds(args.feeds, args.changed, args.rounds, Path(tmp))
    for number, (report, wall, cpu) in enumerate(results, 1):
        if report.claimed != args.feeds or report.failed or report.errors:
            raise SystemExit(f"round {number} went wrong: {report}")
        state = "every 200 parsed" if number == 1 else "after a restart, same 200 bodies: stored hash"
        out.add(
            f"round {number} ({state}): feeds polled per second",
            report.claimed / wall,
            ",.0f",
            f"round{number}_feeds_per_s",
        )
        out.add(
            f"round {number}: CPU per feed (ms, all threads)",
            cpu / report.claimed * 1000,
            ".2f",
            f"round{number}_cpu_ms_per_feed",
        )
        out.data[f"round{number}"] = {
            "ok": report.ok,
            "not_modified": report.not_modified,
            "wall_s": wall,
            "cpu_s": cpu,
        }
    out.add(
        "parse throughput, 200-entry Media RSS (entries/s)", measure_parse(), ",.0f", "parse_entries_per_s"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.add("peak memory of the polling process (MiB RSS)", peak_mib, ".0f", "peak_rss_mib")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5000, help="watched feeds (default 5000)")
    parser.add_argument("--changed", type=float, default=0.1, help="share answering 200 instead of 304 (0.1)")
    parser.add_argument("--rounds", type=int, default=2, help="polling rounds, every feed due each time (2)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.rounds < 1 or not 0 <= args.changed <= 1:
        parser.error("--feeds and --rounds must be at least 1, --changed between 0 and 1")
    netguard.install()
    started = time.perf_counter()
    measured = asyncio.run(run(args))
    n_changed = len(
        [
            n
            for n in range(args.feeds)
            if _changed_every(args.changed) and n % _changed_every(args.changed) == 0
        ]
    )
    print(
        f"\n{args.feeds:,} feeds on {len(HOSTS)} loopback hosts: {args.feeds - n_changed:,} answer 304, "
        f"{n_changed:,} answer 200 (parsed, nothing new); {args.rounds} rounds, "
        f"{sys.platform}, {multiprocessing.cpu_count()} cores\n"
    )
    print_table(measured.rows)
    print(f"\n(total {time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(measured.data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
