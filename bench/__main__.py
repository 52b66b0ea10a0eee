"""``python -m bench [--n 1000] [--concurrency 50] [--only core] [--json PATH]``.

One sandbox in this process; each bot (bare floor, then Cupola) in its own subprocess, one at a time.
A benchmark reports: it exits 0 even when a target is missed (2 only for bad arguments, 1 if it broke).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import discord

from bench import netguard
from bench.harness import (
    AnswerWatch,
    BotKind,
    Harness,
    Row,
    RunConfig,
    ScenarioError,
    bot_process,
    synced_names,
)
from bench.scenarios import FLOOR, SCENARIOS, Scenario
from bot.sandbox import Guild, Sandbox

BOT_ORDER: tuple[BotKind, ...] = ("bare", "cupola")
BUSY_MACHINE_CORES = 0.25
SYNC_GRACE = 5.0


def select(only: str | None) -> list[Scenario]:
    """The floor always runs (it is the reference); ``--only`` picks the others, comma-separated."""
    names = [n for n in SCENARIOS if n != FLOOR]
    if only:
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in SCENARIOS]
        if unknown:
            raise SystemExit(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
        names = [n for n in names if n in wanted]
    return [SCENARIOS[FLOOR], *(SCENARIOS[n] for n in names)]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def run_all(scenarios: list[Scenario], config: RunConfig) -> Results:
    sb = Sandbox(token="bench-token")
    guild = sb.add_guild("Bench Server")
    for i in range(config.guilds - 1):
        sb.add_guild(f"Bench Server {i + 2}")
    await sb.start()
    watch = AnswerWatch(sb)
    watch.start()
    results = Results()
    try:
        with tempfile.TemporaryDirectory(prefix="cupola-bench-") as tmp:
            for kind in BOT_ORDER:
                group = [s for s in scenarios if s.bot == kind]
                if not group:
                    continue
                try:
                    await run_bot(kind, group, sb, watch, guild, Path(tmp), config, results)
                except (RuntimeError, TimeoutError) as exc:
                    reason = str(exc) or f"timed out waiting for the {kind} bot"
                    print(f"{kind} bot: {reason}", file=sys.stderr)
                    results.failures += [f"{s.name}: {reason}" for s in group]
    finally:
        await watch.stop()
        await sb.stop()
    return results


async def run_bot(
    kind: BotKind,
    group: list[Scenario],
    sb: Sandbox,
    watch: AnswerWatch,
    guild: Guild,
    workdir: Path,
    config: RunConfig,
    results: Results,
) -> None:
    needed = {c for s in group for c in s.commands}
    started = time.monotonic()
    async with bot_process(kind, sb, workdir, config) as bot:
        # The bot prints READY after its sync was answered, so the commands are there already;
        # the short wait only covers a bot that syncs in the background.
        with contextlib.suppress(TimeoutError):
            await sb.wait_until(lambda: needed <= synced_names(sb, guild), SYNC_GRACE)
        print(f"{kind} bot ready in {time.monotonic() - started:.1f} s (pid {bot.proc.pid})", file=sys.stderr)
        harness = Harness(sb, watch, guild, bot, config)
        for sc in group:
            missing = sorted(set(sc.commands) - synced_names(sb, guild))
            if missing:
                synced = ", ".join(sorted(synced_names(sb, guild))) or "nothing"
                reason = f"the {kind} bot did not sync {missing} (synced: {synced})"
                print(f"  {sc.name}: not measured: {reason}", file=sys.stderr)
                results.failures.append(f"{sc.name}: {reason}")
                continue
            t0 = time.monotonic()
            try:
                produced = await sc.fn(harness)
            except ScenarioError as exc:
                print(f"  {sc.name}: not measured: {exc}", file=sys.stderr)
                results.failures.append(f"{sc.name}: {exc}")
                continue
            for row in produced:
                row.target = row.target if row.target is not None else sc.target
            results.rows += produced
            print(f"  {sc.name}: {len(produced)} rows in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    tail = bot.stderr_tail()
    print(
        f"  {kind} bot stopped (exit {bot.proc.returncode})" + ("; stderr:" if tail else ""), file=sys.stderr
    )
    for line in tail:
        print(f"    {line}", file=sys.stderr)
    if bot.proc.returncode != 0:
        results.failures.append(f"the {kind} bot exited with {bot.proc.returncode} after SIGTERM")


def add_floor_ratios(rows: list[Row]) -> None:
    floor = {r.concurrency: r.per_s for r in rows if r.scenario == FLOOR}
    for row in rows:
        base = floor.get(row.concurrency)
        if base and not math.isnan(base) and not math.isnan(row.per_s):
            row.vs_floor = row.per_s / base


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(rows: list[Row]) -> str:
    header = [
        "scenario", "bot", "interactions/s", "p50 ms", "p99 ms", "vs floor",
        "errors", "bot CPU ms/op", "driver CPU ms/op", "other load",
    ]  # fmt: skip
    body = [
        [
            f"{r.command} {r.mode}",
            r.bot,
            _fmt(r.per_s, ",.0f"),
            _fmt(r.p50_ms, ".2f"),
            _fmt(r.p99_ms, ".2f"),
            _fmt(r.vs_floor, ".2f") + ("×" if r.vs_floor is not None else ""),
            str(r.errors),
            _fmt(r.bot_cpu_ms, ".3f"),
            _fmt(r.driver_cpu_ms, ".3f"),
            _fmt(r.other_cores, ".2f") + (" cores" if r.other_cores is not None else ""),
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    numeric = [False, False] + [True] * (len(header) - 2)

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(b) for b in body)])


def verdicts(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        if r.target is None:
            continue
        if r.vs_floor is None:
            out.append(f"{r.command} {r.mode}: no floor to compare with")
            continue
        ok = r.vs_floor >= r.target and r.errors == 0
        word = "MEETS" if ok else "MISSES"
        out.append(
            f"{r.command} {r.mode}: {r.vs_floor:.2f}× floor → {word} the ≥ {r.target:g}× target"
            + ("" if r.errors == 0 else f" ({r.errors} errors)")
        )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="interactions per batch (default 1000)")
    parser.add_argument("--concurrency", type=int, default=50, help="in flight in the concurrent batch")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up interactions per scenario")
    parser.add_argument("--repeat", type=int, default=1, help="batches per mode; the best is reported")
    parser.add_argument("--only", help="comma-separated scenarios besides the floor: " + ", ".join(SCENARIOS))
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for one reply")
    parser.add_argument(
        "--guilds", type=int, default=1, help="servers the bots are in; interactions come from each in turn"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="write cProfile stats: DIR/<bot>.prof and DIR/driver.prof"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 2 or args.warmup < 0 or args.timeout <= 0 or args.repeat < 1:
        parser.error("--n ≥ 1, --concurrency ≥ 2, --warmup ≥ 0, --timeout > 0, --repeat ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for sc in SCENARIOS.values():
            target = f" (target ≥ {sc.target:g}× floor)" if sc.target is not None else ""
            print(f"{sc.name:12} {sc.bot:7} {sc.description}{target}")
        return 0
    netguard.install()
    scenarios = select(args.only)
    config = RunConfig(
        n=args.n,
        concurrency=args.concurrency,
        warmup=args.warmup,
        repeat=args.repeat,
        timeout=args.timeout,
        profile_dir=args.profile,
        guilds=max(1, args.guilds),
    )
    started = time.monotonic()
    profiler = None
    if args.profile is not None:
        import cProfile

        args.profile.mkdir(parents=True, exist_ok=True)
        profiler = cProfile.Profile()
        profiler.enable()
    try:
        results = asyncio.run(run_all(scenarios, config))
    except (RuntimeError, TimeoutError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile / "driver.prof")
    rows = results.rows
    add_floor_ratios(rows)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"\nCupola bench: n={config.n} per batch (best of {config.repeat}), {config.concurrency} in flight, "
        f"warm-up {config.warmup}; "
        f"Python {platform.python_version()}, discord.py {discord.__version__}, {cpus} CPUs; "
        f"{time.monotonic() - started:.1f} s\n"
    )
    print(table(rows))
    errors = sum(r.errors for r in rows)
    limited = sum(r.rate_limited for r in rows)
    print(f"\nerrors: {errors} (unanswered, wrong or rejected replies); 429s: {limited}")
    for r in rows:
        for sample in r.error_samples:
            print(f"  {r.command} {r.mode}: {sample}")
    busy = [r for r in rows if r.other_cores is not None and r.other_cores > BUSY_MACHINE_CORES]
    if busy:
        worst = max(r.other_cores or 0.0 for r in busy)
        print(
            f"warning: other processes used up to {worst:.2f} cores during {len(busy)} of {len(rows)} batches; "
            "the bot and the sandbox competed with them for CPU, so these numbers are low and noisy"
        )
    for failure in results.failures:
        print(f"problem: {failure}")
    for v in verdicts(rows):
        print(v)
    if args.json:
        meta = {
            "n": config.n,
            "concurrency": config.concurrency,
            "warmup": config.warmup,
            "repeat": config.repeat,
            "cpus": cpus,
            "python": platform.python_version(),
            "discord.py": discord.__version__,
        }
        doc = {"meta": meta, "rows": [r.to_json() for r in rows], "problems": results.failures}
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
