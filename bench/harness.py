"""The measuring side: the sandbox with exact completion stamps, bot subprocesses, and timed batches."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.botproc import READY_LINE
from bot.sandbox import Guild, InteractionRecord, Sandbox

BotKind = Literal["bare", "cupola"]
REPO_ROOT = Path(__file__).resolve().parent.parent
FOREVER = 365 * 86400.0
BENIGN_STDERR = ("voice will NOT be supported",)
# A reply check returns None when the reply is right, else what was wrong with it.
ReplyCheck = Callable[[InteractionRecord], str | None]


@dataclass(frozen=True)
class RunConfig:
    n: int = 1000
    concurrency: int = 50
    warmup: int = 50
    timeout: float = 5.0
    repeat: int = 1
    abort_after_timeouts: int = 10
    ready_timeout: float = 90.0
    profile_dir: Path | None = None
    guilds: int = 1
    """Servers in the sandbox; with more than one, interactions come from each in turn."""


class AnswerWatch:
    """Stamps ``sb.clock()`` the moment an awaited interaction has a visible answer.

    One waiter on the sandbox (``wait_until`` with a predicate that resolves futures and never
    returns true) rather than one ``wait_answered`` per interaction, so the stamp is taken one task
    switch after the state change, not after up to 50 waiters have taken the condition's lock in turn.
    Only the sandbox's public API is used, so a change in its internals cannot silently break this.
    """

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self._awaited: dict[int, asyncio.Future[float]] = {}
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.sb.wait_until(self._scan, timeout=FOREVER), name="answer-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def expect(self, interaction_id: int) -> asyncio.Future[float]:
        """Register before sending: the answer may arrive while the gateway send is still awaited."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._awaited[interaction_id] = fut
        return fut

    def forget(self, interaction_id: int) -> None:
        self._awaited.pop(interaction_id, None)

    def _scan(self) -> bool:
        if self._awaited:
            now = self.sb.clock()
            done = []
            for iid, fut in self._awaited.items():
                record = self.sb.interactions.get(iid)
                if record is not None and record.answered:
                    done.append(iid)
                    if not fut.done():
                        fut.set_result(now)
            for iid in done:
                del self._awaited[iid]
        return False


def synced_names(sb: Sandbox, guild: Guild | None) -> set[str]:
    return {c["name"] for c in sb.commands_for(guild)}


@dataclass
class Row:
    """One measured batch: a command on one bot, sequential or with ``concurrency`` in flight."""

    scenario: str
    command: str
    bot: str
    concurrency: int
    n: int
    per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    rate_limited: int
    bot_cpu_ms: float | None
    driver_cpu_ms: float
    # CPU (in cores) that processes other than the bot and the driver used during the batch.
    other_cores: float | None = None
    target: float | None = None
    vs_floor: float | None = None
    error_samples: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "sequential" if self.concurrency == 1 else f"{self.concurrency} in flight"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = self.mode
        return data


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have used (Linux /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already counted in user)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class BotProcess:
    """A bot running ``bench.botproc`` in a subprocess; its stderr goes to a file shown on trouble."""

    def __init__(self, kind: BotKind, proc: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.kind = kind
        self.proc = proc
        self.stderr_path = stderr_path

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the bot process, all threads (Linux /proc), or None elsewhere."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stderr_tail(self, lines: int = 15) -> list[str]:
        """The last lines the bot wrote to stderr, without discord.py's start-up notes about voice."""
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if not line.endswith(BENIGN_STDERR)][-lines:]


@contextlib.asynccontextmanager
async def bot_process(
    kind: BotKind, sb: Sandbox, workdir: Path, config: RunConfig
) -> AsyncIterator[BotProcess]:
    """Start a bot, wait for READY, and on leaving stop it with SIGTERM (SIGKILL if it hangs)."""
    data_dir = workdir / kind
    data_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = workdir / f"{kind}.stderr.log"
    args = [
        *("-m", "bench.botproc", "--kind", kind, "--api-base", sb.api_base, "--token", sb.token),
        *("--data-dir", str(data_dir), "--ready-timeout", str(config.ready_timeout)),
    ]
    if config.profile_dir is not None:
        config.profile_dir.mkdir(parents=True, exist_ok=True)
        args += ["--profile", str(config.profile_dir.resolve() / f"{kind}.prof")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with stderr_path.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
    bot = BotProcess(kind, proc, stderr_path)
    try:
        await _wait_ready(bot, config.ready_timeout)
        yield bot
    finally:
        await _stop(bot)


async def _wait_ready(bot: BotProcess, timeout: float) -> None:
    assert bot.proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"the {bot.kind} bot was not READY within {timeout:.0f} s")
        line = await asyncio.wait_for(bot.proc.stdout.readline(), remaining)
        if not line:
            await bot.proc.wait()
            tail = "\n  ".join(bot.stderr_tail())
            raise RuntimeError(f"the {bot.kind} bot exited ({bot.proc.returncode}) before READY:\n  {tail}")
        if line.decode(errors="replace").strip() == READY_LINE:
            return


async def _stop(bot: BotProcess) -> None:
    if bot.alive:
        with contextlib.suppress(ProcessLookupError):
            bot.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.proc.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                bot.proc.kill()
            await bot.proc.wait()
    if bot.proc.stdout is not None:
        with contextlib.suppress(Exception):
            await bot.proc.stdout.read()


class ScenarioError(RuntimeError):
    """A scenario cannot be measured (its probe interaction failed); the others still run."""


@dataclass
class Outcome:
    latency: float | None
    error: str | None


class Harness:
    """What a scenario gets: the sandbox, its guild, the running bot, and ``measure``."""

    def __init__(
        self, sb: Sandbox, watch: AnswerWatch, guild: Guild, bot: BotProcess, config: RunConfig
    ) -> None:
        self.sb = sb
        self.watch = watch
        self.guild = guild
        self.bot = bot
        self.config = config
        self._spread = list(sb.guilds.values()) if config.guilds > 1 else [guild]
        self._turn = 0

    # ------------------------------------------------------------------ one interaction
    async def _one(self, payload: dict[str, Any], check: ReplyCheck) -> Outcome:
        iid = int(payload["id"])
        answered = self.watch.expect(iid)
        record: InteractionRecord | None = None
        try:
            record = await self.sb.send_interaction(payload)
            done_at = await asyncio.wait_for(answered, self.config.timeout)
        except TimeoutError:
            if record is not None and record.answered:
                return Outcome(None, "answered, but the sandbox never signalled it (wait_until/notify)")
            return Outcome(None, "timeout")
        finally:
            self.watch.forget(iid)
        latency = done_at - record.created_at
        if record.errors:
            return Outcome(latency, "sandbox: " + "; ".join(record.errors))
        try:
            problem = check(record)
        except Exception as exc:  # a reply the check cannot even read is a wrong reply
            problem = f"{type(exc).__name__}: {exc}"
        return Outcome(latency, problem)

    async def _batch(
        self, payloads: list[dict[str, Any]], concurrency: int, check: ReplyCheck
    ) -> tuple[list[Outcome], float]:
        outcomes: list[Outcome] = []
        timeouts = 0
        gate = asyncio.Semaphore(concurrency)

        async def run_one(payload: dict[str, Any]) -> None:
            nonlocal timeouts
            async with gate:
                if timeouts >= self.config.abort_after_timeouts or not self.bot.alive:
                    outcomes.append(Outcome(None, "not sent (batch aborted)"))
                    return
                outcome = await self._one(payload, check)
                timeouts += outcome.error == "timeout"
                outcomes.append(outcome)

        start = time.monotonic()
        if concurrency <= 1:
            for payload in payloads:
                await run_one(payload)
        else:
            await asyncio.gather(*(run_one(p) for p in payloads))
        return outcomes, time.monotonic() - start

    # ------------------------------------------------------------------ public API for scenarios
    def payloads(self, command: str, options: dict[str, Any] | None, count: int) -> list[dict[str, Any]]:
        """Fresh INTERACTION_CREATE payloads (own id and token each), built before the clock starts."""
        guilds = self._spread
        start, self._turn = self._turn, self._turn + count
        return [
            self.sb.build_command_payload(command, options, guild=guilds[(start + i) % len(guilds)])
            for i in range(count)
        ]

    async def run_batch(
        self,
        scenario: str,
        command: str,
        options: dict[str, Any] | None,
        *,
        concurrency: int,
        check: ReplyCheck,
        target: float | None = None,
    ) -> Row:
        payloads = self.payloads(command, options, self.config.n)
        limited_before = self.sb.rate_limited
        machine_before = machine_busy_seconds()
        bot_cpu_before = self.bot.cpu_seconds()
        driver_cpu_before = time.process_time()
        outcomes, elapsed = await self._batch(payloads, concurrency, check)
        driver_cpu = time.process_time() - driver_cpu_before
        bot_cpu_after = self.bot.cpu_seconds()
        machine_after = machine_busy_seconds()
        bot_cpu = other_cores = None
        if bot_cpu_before is not None and bot_cpu_after is not None:
            bot_cpu = (bot_cpu_after - bot_cpu_before) / len(payloads) * 1000
            if machine_before is not None and machine_after is not None and elapsed > 0:
                ours = bot_cpu_after - bot_cpu_before + driver_cpu
                other_cores = max(0.0, (machine_after - machine_before - ours) / elapsed)
        latencies = sorted(o.latency for o in outcomes if o.latency is not None and o.error is None)
        errors = [o.error for o in outcomes if o.error is not None]
        ok = len(outcomes) - len(errors)
        return Row(
            scenario=scenario,
            command="/" + command.lstrip("/"),
            bot=self.bot.kind,
            concurrency=concurrency,
            n=len(payloads),
            per_s=ok / elapsed if elapsed > 0 else math.nan,
            p50_ms=percentile(latencies, 50) * 1000,
            p99_ms=percentile(latencies, 99) * 1000,
            errors=len(errors),
            rate_limited=self.sb.rate_limited - limited_before,
            bot_cpu_ms=bot_cpu,
            driver_cpu_ms=driver_cpu / len(payloads) * 1000,
            other_cores=other_cores,
            target=target,
            error_samples=sorted(set(errors))[:3],
        )

    async def warm_up(self, command: str, options: dict[str, Any] | None, check: ReplyCheck) -> list[str]:
        """Half sequential, half concurrent: warms imports, caches, the HTTP pool and worker threads."""
        count = self.config.warmup
        if count <= 0:
            return []
        first = self.payloads(command, options, count // 2)
        second = self.payloads(command, options, count - count // 2)
        out1, _ = await self._batch(first, 1, check)
        out2, _ = await self._batch(second, max(1, min(self.config.concurrency, len(second))), check)
        return [o.error for o in (*out1, *out2) if o.error is not None]

    async def measure(
        self,
        scenario: str,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        check: ReplyCheck,
        target: float | None = None,
        modes: Iterable[int] | None = None,
    ) -> list[Row]:
        """Probe once, warm up, then one batch of ``n`` per mode (sequential, then ``concurrency`` in flight)."""
        probe = await self._one(self.payloads(command, options, 1)[0], check)
        if probe.error is not None:
            raise ScenarioError(f"/{command.lstrip('/')} on the {self.bot.kind} bot: {probe.error}")
        warm_errors = await self.warm_up(command, options, check)
        if warm_errors:
            samples = ", ".join(sorted(set(warm_errors))[:3])
            print(f"  warning: {len(warm_errors)} warm-up errors for {command}: {samples}", file=sys.stderr)
        rows = []
        for concurrency in modes or (1, self.config.concurrency):
            tries = [
                await self.run_batch(
                    scenario, command, options, concurrency=concurrency, check=check, target=target
                )
                for _ in range(max(1, self.config.repeat))
            ]
            # Best of --repeat: background load only ever makes a batch slower.
            rows.append(max(tries, key=lambda r: (-r.errors, r.per_s)))
        return rows
