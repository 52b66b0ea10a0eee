"""Several Cupola processes on one database and one sandbox, killed with SIGKILL at random moments.

``python -m bench.cluster_bench --processes 3 --guilds 2000 --kills 10`` (PostgreSQL on 127.0.0.1 by
default; ``--db sqlite`` runs one process on a SQLite file). Every server gets the photo of the day
and the announcement of one album from a feed they all watch. Processes are killed with ``kill -9``
at random moments and restarted (same shards, same process name). At the end, every channel is
counted: posts, duplicates, missing, 429 answers, and how often the feed was fetched per interval.

The sandbox enforces Discord's 50 requests/s for the whole bot, whatever process sends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import gc
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bench import netguard
from bot.feeds.policy import stagger_offset
from bot.sandbox import Sandbox
from bot.sandbox.ratelimit import Limit, RateLimitConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CUPOLA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ALBUM_GUID = "harness-album-1"


@dataclass
class ClusterConfig:
    processes: int = 3
    shards_per_process: int = 1
    guilds: int = 2000
    kills: int = 10
    db: str = "postgres"  # or "sqlite" (one process)
    feed_interval: int = 20
    rate_limit: int = 50
    """The sandbox's global limit (requests/s)."""
    bot_rate_limit: int | None = None
    """The bots' ``global_rate_limit`` (default: the sandbox's)."""
    timeout: float = 600.0
    seed: int = 11
    restart_delay: tuple[float, float] = (0.5, 3.0)
    photos: int = 4
    log_level: str = "WARNING"


@dataclass
class ClusterReport:
    processes: int
    guilds: int
    kills: int
    database: str
    potd_posts: int = 0
    potd_duplicates: int = 0
    potd_missing: int = 0
    album_posts: int = 0
    album_duplicates: int = 0
    album_missing: int = 0
    rate_limited: int = 0
    busiest_second: int = 0
    feed_fetches: int = 0
    fetches_per_interval: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0
    unfinished_deliveries: int = 0
    recovered_by_history: int = 0
    limited_calls: list[str] = field(default_factory=list)
    """The refused requests (route, and seconds since the previous REST request), to see why."""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.potd_duplicates == self.potd_missing == 0
            and self.album_duplicates == self.album_missing == 0
            and self.rate_limited == 0
        )


# ------------------------------------------------------------------------------------- the feed


class FeedSite:
    """The watched feed (one album with a picture) on 127.0.0.1; counts the feed's fetches."""

    def __init__(self) -> None:
        self.fetches: list[float] = []
        self._runner: web.AppRunner | None = None
        self.base = ""
        from bench.synthetic_images import make_jpeg

        self.jpeg = make_jpeg(320, 240, seed=5)

    def rss(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            f"<title>Harness albums</title><link>{self.base}/</link><description>albums</description>"
            f"<item><title>Expedition album</title><link>{self.base}/album/1</link>"
            f'<guid isPermaLink="false">{ALBUM_GUID}</guid><pubDate>Mon, 01 Jun 2026 07:00:00 +0000</pubDate>'
            f'<media:content url="{self.base}/img/1.jpg" medium="image" type="image/jpeg"/>'
            "<media:credit>NASA</media:credit></item></channel></rss>"
        ).encode()

    async def _feed(self, request: web.Request) -> web.Response:
        self.fetches.append(time.time())
        return web.Response(body=self.rss(), content_type="application/rss+xml")

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=self.jpeg, content_type="image/jpeg")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_get("/img/1.jpg", self._image)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# ------------------------------------------------------------------------------------- database


@contextlib.contextmanager
def database_url(kind: str, workdir: Path) -> Any:
    """A fresh database: a SQLite file, or a throwaway schema on PostgreSQL (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'cupola.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"c_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


async def seed(url: str, data_dir: Path, sb: Sandbox, site: FeedSite | None, photos: int) -> int:
    """Photos, every server's photo of the day (due now) and subscription; returns the feed's id."""
    from sqlalchemy import delete

    from bench.synthetic_images import make_jpeg
    from bot.db import Database
    from bot.knowledge.service import Knowledge
    from bot.media import ImageStore, process_image
    from bot.models import Feed, GuildSettings, Photo, Subscription
    from bot.photos import add_photo
    from bot.photos.pictures import relative_to_store

    db = Database(url)
    await db.open(migrate=True)
    try:
        await Knowledge(db).load()  # the shipped articles, as a first start would import them
        images = ImageStore(data_dir / "images")
        pictures = [
            await asyncio.to_thread(process_image, make_jpeg(480, 360, seed=s)) for s in range(photos)
        ]
        long_ago = datetime(2026, 1, 1, tzinfo=UTC)
        guild_rows = [(g.id, sb.default_channel(g).id) for g in sb.guilds.values()]

        def fill(*, session: Any) -> int:
            session.execute(delete(Photo))  # the shipped articles' photos live on the internet
            for i, picture in enumerate(pictures):
                path = images.put(picture)
                add_photo(
                    session=session,
                    guild_id=None,
                    caption=f"Flyaround view {i}",
                    credit="NASA",
                    photographer="Thomas Pesquet",
                    processed=picture,
                    stored_path=relative_to_store(path, images),
                )
            feed = None
            if site is not None:
                feed = Feed(url=f"{site.base}/feed.xml", title="Harness albums", next_poll_at=long_ago)
                session.add(feed)
                session.flush()
            for guild_id, channel_id in guild_rows:
                session.add(
                    GuildSettings(
                        guild_id=guild_id,
                        potd_channel_id=channel_id,
                        potd_time="00:00",
                        potd_timezone="UTC",
                        updated_at=long_ago,
                    )
                )
                if feed is not None:
                    session.add(Subscription(feed_id=feed.id, guild_id=guild_id, channel_id=channel_id))
            return int(feed.id) if feed is not None else 0

        return await db.run(fill)
    finally:
        db.close()


def unfinished(url: str) -> int:
    from sqlalchemy import func, select

    from bot.db import Database
    from bot.models import Delivery

    db = Database(url)
    db.open_sync(migrate=False)
    try:

        def count(*, session: Any) -> int:
            query = (
                select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "failed")))
            )
            return int(session.execute(query).scalar_one())

        return db.run_sync(count)
    finally:
        db.close()


# ------------------------------------------------------------------------------------- processes


class Node:
    """One deployment slot (its shards and name); restarted with the same identity after a kill."""

    def __init__(self, index: int, shard_ids: list[int], env: dict[str, str], logdir: Path) -> None:
        self.index = index
        self.shard_ids = shard_ids
        self.env = env
        self.logdir = logdir
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Start (again). Only the first start's stdout is read (READY); later ones write nowhere."""
        self.starts += 1
        log = (self.logdir / f"node{self.index}.{self.starts}.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.clusterproc",
            cwd=REPO_ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE if self.starts == 1 else asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        log.close()

    async def wait_ready(self, timeout: float) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if line.strip() != b"READY":
            raise RuntimeError(f"node {self.index} did not start: see {self.logdir}")

    def kill(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5)


def node_env(
    cfg: ClusterConfig, sb: Sandbox, url: str, data_dir: Path, index: int, shards: list[int]
) -> dict:
    total = cfg.processes * cfg.shards_per_process
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUPOLA_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "CUPOLA_DISCORD_TOKEN": sb.token,
            "CUPOLA_DISCORD_API_BASE": sb.api_base,
            "CUPOLA_DISCORD_SHARD_COUNT": str(total),
            "CUPOLA_DISCORD_SHARD_IDS": ",".join(map(str, shards)),
            "CUPOLA_DISCORD_GLOBAL_RATE_LIMIT": str(cfg.bot_rate_limit or cfg.rate_limit),
            "CUPOLA_DISCORD_PROCESS_NAME": f"node{index}",
            "CUPOLA_DATABASE_URL": url,
            "CUPOLA_PATHS_DATA_DIR": str(data_dir),
            "CUPOLA_NET_ALLOW_PRIVATE_ADDRESSES": "true",
            "CUPOLA_FEEDS_POLL_INTERVAL_SECONDS": str(cfg.feed_interval),
            "CUPOLA_BENCH_LOG": cfg.log_level,
        }
    )
    return env


# ------------------------------------------------------------------------------------- counting


def count_posts(sb: Sandbox, album_url: str) -> dict[str, list[int]]:
    """Per channel: how many photo-of-the-day posts, how many album announcements."""
    potd, album = [], []
    for guild in sb.guilds.values():
        messages = sb.channel_messages(sb.default_channel(guild))
        p = a = 0
        for m in messages:
            embeds = m.get("embeds") or []
            if any(" · #" in ((e.get("footer") or {}).get("text") or "") for e in embeds):
                p += 1
            if any(e.get("url") == album_url for e in embeds):
                a += 1
        potd.append(p)
        album.append(a)
    return {"potd": potd, "album": album}


def max_in_window(stamps: list[float], width: float) -> int:
    best = start = 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_cluster(cfg: ClusterConfig, workdir: Path) -> ClusterReport:
    if cfg.db == "sqlite" and cfg.processes != 1:
        raise ValueError("SQLite runs one process; use PostgreSQL for several")
    rng = random.Random(cfg.seed)
    total_shards = cfg.processes * cfg.shards_per_process
    limits = RateLimitConfig(global_limit=Limit(cfg.rate_limit, 1.0))
    sb = Sandbox(token="cluster-bench", shard_count=total_shards, rate_limits=limits)
    for i in range(cfg.guilds):
        sb.add_guild(f"Server {i}")
    site = FeedSite()
    report = ClusterReport(cfg.processes, cfg.guilds, 0, cfg.db)
    feed_id = 0
    await sb.start()
    await site.start()
    nodes: list[Node] = []
    data_dir = workdir / "data"
    try:
        with database_url(cfg.db, workdir) as url:
            feed_id = await seed(url, data_dir, sb, site, cfg.photos)
            for i in range(cfg.processes):
                shards = list(range(i * cfg.shards_per_process, (i + 1) * cfg.shards_per_process))
                nodes.append(Node(i, shards, node_env(cfg, sb, url, data_dir, i, shards), workdir))
            t0 = time.monotonic()
            for node in nodes:
                await node.start()
            await asyncio.gather(*(n.wait_ready(120) for n in nodes))
            # The sandbox's servers live as long as the run: out of this process's cyclic GC, whose full
            # collections paused the sandbox for tens of ms (requests then queue and are counted in one
            # second: a 429 from our stand-in's stall, not from the bot). See bench/photos_bench.py.
            gc.freeze()
            album_url = f"{site.base}/album/1"
            expected = 2 * cfg.guilds / (cfg.rate_limit * 0.96)
            kill_times = sorted(rng.uniform(1.0, max(2.0, 0.8 * expected)) for _ in range(cfg.kills))
            deadline = t0 + cfg.timeout

            posted = 0
            seen_calls = 0

            def done() -> bool:
                """Every channel has both posts: the full count (a walk over every channel, which holds
                the sandbox's loop) only once enough posts were answered for it to be true."""
                nonlocal posted, seen_calls
                calls = sb.calls
                for call in calls[seen_calls:]:
                    if call.method == "POST" and call.route.endswith("/messages") and call.status == 200:
                        posted += 1
                seen_calls = len(calls)
                if posted < 2 * cfg.guilds:
                    return False
                counts = count_posts(sb, album_url)
                return all(counts["potd"]) and all(counts["album"])

            restarts: list[asyncio.Task[None]] = []

            async def restart(node: Node) -> None:
                await asyncio.sleep(rng.uniform(*cfg.restart_delay))
                await node.start()

            started = time.monotonic()
            last_note = started
            while time.monotonic() < deadline:
                if time.monotonic() - last_note >= 10:
                    last_note = time.monotonic()
                    counts = count_posts(sb, album_url)
                    print(
                        f"  {last_note - started:5.0f} s: {sum(map(bool, counts['potd']))} photo posts, "
                        f"{sum(map(bool, counts['album']))} album posts of {cfg.guilds}; "
                        f"{report.kills} kills, {sb.rate_limited} × 429",
                        file=sys.stderr,
                        flush=True,
                    )
                elapsed = time.monotonic() - started
                live = [n for n in nodes if n.alive]
                if kill_times and elapsed >= kill_times[0] and live:  # with none alive, wait for one
                    kill_times.pop(0)
                    victim = rng.choice(live)
                    victim.kill()
                    report.kills += 1
                    restarts.append(asyncio.create_task(restart(victim)))
                if not kill_times and all(t.done() for t in restarts) and done():
                    if await asyncio.to_thread(unfinished, url) == 0:
                        break
                await asyncio.sleep(0.5)
            else:
                report.errors.append(f"not finished within {cfg.timeout:.0f} s")
            report.wall_seconds = time.monotonic() - t0
            await asyncio.gather(*restarts, return_exceptions=True)
            await asyncio.sleep(1.0)  # a last late post would show here
            for node in nodes:
                await node.stop()
            report.unfinished_deliveries = await asyncio.to_thread(unfinished, url)
    finally:
        gc.unfreeze()
        for node in nodes:
            with contextlib.suppress(Exception):
                node.kill()
        await site.stop()
        await sb.stop()
    counts = count_posts(sb, f"{site.base}/album/1")
    for kind in ("potd", "album"):
        values = counts[kind]
        setattr(report, f"{kind}_posts", sum(values))
        setattr(report, f"{kind}_duplicates", sum(v - 1 for v in values if v > 1))
        setattr(report, f"{kind}_missing", sum(1 for v in values if v == 0))
    report.rate_limited = sb.rate_limited
    rest = sorted((c for c in sb.calls if not c.route.startswith("POST /interactions/")), key=lambda c: c.at)
    for before, call in itertools.pairwise(rest):
        if call.status == 429:
            report.limited_calls.append(f"{call.route} +{(call.at - before.at) * 1000:.0f} ms")
    stamps = sorted(c.at for c in sb.calls if not c.route.startswith(("POST /interactions/",)))
    report.busiest_second = max_in_window(stamps, 1.0)
    report.feed_fetches = len(site.fetches)
    if site.fetches:
        # Bucketed on the feed's own slots (bot/feeds/policy.py): one fetch per slot interval.
        offset = stagger_offset(str(feed_id), cfg.feed_interval)
        cells = [int((at - offset) // cfg.feed_interval) for at in site.fetches]
        report.fetches_per_interval = [cells.count(c) for c in range(cells[0], cells[-1] + 1)]
    report.recovered_by_history = sum(
        1 for c in sb.calls if c.method == "GET" and c.route.endswith("/messages") and c.status == 200
    )
    return report


def render(report: ClusterReport) -> str:
    rows = [
        ("processes × shards", f"{report.processes}", ""),
        ("servers", f"{report.guilds:,}", ""),
        ("kill -9", f"{report.kills}", "random moments, each restarted"),
        ("database", report.database, ""),
        ("photo of the day posts", f"{report.potd_posts:,}", ""),
        ("  duplicates / missing", f"{report.potd_duplicates} / {report.potd_missing}", ""),
        ("album announcements", f"{report.album_posts:,}", ""),
        ("  duplicates / missing", f"{report.album_duplicates} / {report.album_missing}", ""),
        ("429 answers", f"{report.rate_limited}", "sandbox's global limit"),
        ("busiest 1-s window", f"{report.busiest_second}", "REST requests, all processes"),
        ("feed fetches", f"{report.feed_fetches}", f"per interval: {report.fetches_per_interval}"),
        ("history look-ups", f"{report.recovered_by_history}", "retries checking the channel first"),
        ("unfinished deliveries", f"{report.unfinished_deliveries}", "pending or failed at the end"),
        ("wall time", f"{report.wall_seconds:.1f} s", "start of the processes to the last post"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'measure'.ljust(width)} | value | note |", f"|{'-' * (width + 2)}|------:|------|"]
    lines += [f"| {m.ljust(width)} | {v} | {n} |" for m, v, n in rows]
    if report.limited_calls:
        lines.append("refused: " + "; ".join(report.limited_calls[:10]))
    if report.errors:
        lines.append("errors: " + "; ".join(report.errors))
    lines.append("result: " + ("OK (0 duplicates, 0 missing, 0 × 429)" if report.ok else "FAILED"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_bench", description=__doc__)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--shards-per-process", type=int, default=1)
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--feed-interval", type=int, default=20, help="feed poll interval, s (default 20)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the processes' logs in this directory")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if args.processes < 1 or args.guilds < 1 or args.kills < 0:
        parser.error("--processes and --guilds must be positive, --kills not negative")
    netguard.install()
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid> shows where a stuck run waits
    cfg = ClusterConfig(
        processes=args.processes,
        shards_per_process=args.shards_per_process,
        guilds=args.guilds,
        kills=args.kills,
        db=args.db,
        feed_interval=args.feed_interval,
        timeout=args.timeout,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="cupola-cluster-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(run_cluster(cfg, workdir))
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
