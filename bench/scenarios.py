"""The scenario registry: name → async function that takes a ``Harness`` and returns measured rows.

Add a scenario with ``@scenario("iss", bot="cupola", commands=("iss",), target=0.5)``; every row's
"vs floor" divides its interactions/s by the floor's (bare ``/ping``) in the same mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import BotKind, Harness, Row
from bot.sandbox import InteractionRecord

ScenarioFn = Callable[[Harness], Awaitable[list[Row]]]
FLOOR = "floor"


@dataclass(frozen=True)
class Scenario:
    name: str
    bot: BotKind
    commands: tuple[str, ...]
    fn: ScenarioFn
    description: str
    target: float | None = None


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, *, bot: BotKind, commands: tuple[str, ...], target: float | None = None
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register ``fn`` under ``name``; ``commands`` must be synced before it runs."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        if name in SCENARIOS:
            raise ValueError(f"duplicate scenario {name!r}")
        doc = (fn.__doc__ or "").strip().splitlines()
        SCENARIOS[name] = Scenario(name, bot, commands, fn, doc[0] if doc else "", target)
        return fn

    return register


# ---------------------------------------------------------------------- reply checks
def content_is(expected: str) -> Callable[[InteractionRecord], str | None]:
    def check(record: InteractionRecord) -> str | None:
        content = record.reply.get("content")
        return None if content == expected else f"expected {expected!r}, got {content!r}"

    return check


def has_embed_titled(prefix: str) -> Callable[[InteractionRecord], str | None]:
    def check(record: InteractionRecord) -> str | None:
        embeds = record.reply.get("embeds") or []
        title = embeds[0].get("title", "") if embeds else None
        if title is None or not title.startswith(prefix):
            return f"expected an embed titled {prefix!r}…, got {title!r}"
        return None

    return check


# ---------------------------------------------------------------------- scenarios
@scenario(FLOOR, bot="bare", commands=("ping",))
async def floor(h: Harness) -> list[Row]:
    """Bare discord.py bot, /ping → "pong": the ceiling any bot on this machine can reach."""
    return await h.measure(FLOOR, "ping", check=content_is("pong"))


@scenario("core", bot="cupola", commands=("about",), target=0.5)
async def core(h: Harness) -> list[Row]:
    """Cupola /about: gateway → cog → database thread hop → embed reply."""
    return await h.measure("core", "about", check=has_embed_titled("About"))


@scenario("iss", bot="cupola", commands=("iss",), target=0.5)
async def iss(h: Harness) -> list[Row]:
    """Cupola /iss ask: gateway → question index (in memory) → embed with quote and source."""
    question = {"question": "How long does the ISS take to orbit the Earth?"}
    return await h.measure("iss", "iss ask", question, check=has_embed_titled("How long does the ISS"))
