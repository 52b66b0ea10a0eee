"""``cupola console``: the sandbox and the real bot in one process, behind a text prompt.

Works with no token and no network: slash commands typed at the prompt travel the same gateway and
REST path as on Discord, and the replies are rendered as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.core import Cupola
from bot.db import Database
from bot.sandbox import CommandError, InteractionRecord, Sandbox, Upload
from bot.sandbox.interactions import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    NUMBER,
    ROLE,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)

BANNER = """Cupola console: a local Discord sandbox, no network needed.
Type a slash command (try /about), `help` for the list, a number to press a button, `quit` to leave."""


def render_message(
    message: dict[str, Any], *, files_dir: Path | None = None, sandbox: Sandbox | None = None
) -> str:
    """A Discord message as plain text: content, embeds, attachments, numbered buttons."""
    lines: list[str] = []
    header = "Cupola" + (" (only you can see this)" if message.get("flags", 0) & 64 else "")
    lines.append(f"── {header} ──")
    if message.get("content"):
        lines.append(message["content"])
    for embed in message.get("embeds") or []:
        if embed.get("author", {}).get("name"):
            lines.append(f"│ {embed['author']['name']}")
        if embed.get("title"):
            lines.append(f"┌ {embed['title']}" + (f"  <{embed['url']}>" if embed.get("url") else ""))
        if embed.get("description"):
            lines.extend(f"│ {line}" for line in embed["description"].splitlines())
        for fld in embed.get("fields") or []:
            value = str(fld["value"]).replace("\n", "\n│     ")
            lines.append(f"│ • {fld['name']}: {value}")
        if embed.get("image", {}).get("url"):
            lines.append(f"│ image: {embed['image']['url']}")
        if embed.get("thumbnail", {}).get("url"):
            lines.append(f"│ thumbnail: {embed['thumbnail']['url']}")
        if embed.get("footer", {}).get("text"):
            lines.append(f"└ {embed['footer']['text']}")
    for attachment in message.get("attachments") or []:
        saved = _save_attachment(attachment, files_dir, sandbox)
        lines.append(
            f"📎 {attachment['filename']} ({attachment['size']} bytes)"
            + (f" saved to {saved}" if saved else "")
        )
    buttons = [
        c
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 2
    ]
    if buttons:
        lines.append(
            "   ".join(
                f"[{i}] {b.get('label') or b.get('emoji', {}).get('name', '?')}"
                for i, b in enumerate(buttons, 1)
            )
        )
    return "\n".join(lines)


def _save_attachment(
    attachment: dict[str, Any], files_dir: Path | None, sandbox: Sandbox | None
) -> Path | None:
    if files_dir is None or sandbox is None:
        return None
    stored = sandbox.files.get(int(attachment["id"]))
    if stored is None:
        return None
    files_dir.mkdir(parents=True, exist_ok=True)
    path = files_dir / f"{stored.id}-{Path(stored.filename).name}"
    path.write_bytes(stored.data)
    return path


class Console:
    """Parses a typed line into an interaction, sends it through the sandbox, renders the answer."""

    def __init__(self, sandbox: Sandbox, *, files_dir: Path, locale: str = "en-US") -> None:
        self.sandbox = sandbox
        self.files_dir = files_dir
        self.locale = locale
        self.guild = next(iter(sandbox.guilds.values()))
        self.user = next(m.user for m in self.guild.members.values() if m.user.username == "you")
        self.last_message: dict[str, Any] | None = None

    def command_names(self) -> list[str]:
        names: list[str] = []
        for cmd in self.sandbox.commands_for(self.guild):
            subs = [o for o in cmd.get("options") or [] if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            if not subs:
                names.append(f"/{cmd['name']}")
            for sub in subs:
                inner = [o for o in sub.get("options") or [] if o["type"] == SUB_COMMAND]
                if inner:
                    names.extend(f"/{cmd['name']} {sub['name']} {o['name']}" for o in inner)
                else:
                    names.append(f"/{cmd['name']} {sub['name']}")
        return sorted(names)

    def help_text(self) -> str:
        lines = ["Commands:"]
        for cmd in self.sandbox.commands_for(self.guild):
            lines.append(f"  /{cmd['name']:<12} {cmd.get('description', '')}")
            for sub in cmd.get("options") or []:
                if sub["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
                    opts = " ".join(
                        f"{o['name']}:" for o in sub.get("options") or [] if o["type"] not in (1, 2)
                    )
                    lines.append(f"     {sub['name']:<10} {opts}  {sub.get('description', '')}")
        lines.append("Options are written name: value, e.g. /iss ask question: How high does the ISS fly?")
        lines.append("`lang zh` / `lang en` switches the language you appear to use.")
        return "\n".join(lines)

    def parse(self, line: str) -> tuple[str, dict[str, Any]]:
        """ "/iss ask question: how high" -> ("iss ask", {"question": "how high"})."""
        words = line.strip().lstrip("/").split()
        if not words:
            raise CommandError("type a command, e.g. /about")
        commands = self.sandbox.commands_for(self.guild)
        schema = next((c for c in commands if c["name"] == words[0]), None)
        if schema is None:
            raise CommandError(f"unknown command /{words[0]}; type `help` for the list")
        path = [words[0]]
        options = schema.get("options") or []
        rest = words[1:]
        while rest:
            sub = next(
                (
                    o
                    for o in options
                    if o["name"] == rest[0] and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if sub is None:
                break
            path.append(rest.pop(0))
            options = sub.get("options") or []
        text = " ".join(rest)
        by_name = {o["name"]: o for o in options if o["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP)}
        values: dict[str, Any] = {}
        if text:
            names = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True)) or "(?!)"
            parts = re.split(rf"(?:^|\s)({names}):\s*", text)
            if parts[0].strip():
                if len(by_name) == 1:  # a lone option may be given without its name
                    parts = ["", next(iter(by_name)), parts[0]]
                else:
                    raise CommandError(
                        f"write options as name: value (options: {', '.join(by_name) or 'none'})"
                    )
            for name, raw in zip(parts[1::2], parts[2::2], strict=False):
                values[name] = self._convert(by_name[name], raw.strip())
        return " ".join(path), values

    def _convert(self, option: dict[str, Any], raw: str) -> Any:
        kind = option["type"]
        if kind == INTEGER:
            return int(raw)
        if kind == NUMBER:
            return float(raw)
        if kind == BOOLEAN:
            return raw.lower() in ("1", "true", "yes", "on", "y")
        if kind == CHANNEL:
            name = raw.lstrip("#")
            return next(c for c in self.guild.channels.values() if c.name == name or str(c.id) == name)
        if kind == USER:
            name = raw.lstrip("@")
            return next(
                m.user
                for m in self.guild.members.values()
                if m.user.username == name or str(m.user.id) == name
            )
        if kind == ROLE:
            name = raw.lstrip("@")
            return next(r for r in self.guild.roles.values() if r.name == name or str(r.id) == name)
        if kind == ATTACHMENT:
            path = Path(raw).expanduser()
            return Upload(path.name, path.read_bytes())
        return raw

    def render(self, record: InteractionRecord) -> str:
        if not record.messages:
            return f"(no reply: {', '.join(record.errors) or 'nothing visible'})"
        self.last_message = record.messages[-1]
        return "\n".join(
            render_message(m, files_dir=self.files_dir, sandbox=self.sandbox) for m in record.messages
        )

    async def handle(self, line: str) -> str:
        line = line.strip()
        if not line:
            return ""
        if line in ("help", "/help", "?"):
            return self.help_text()
        if line.startswith("lang "):
            self.locale = "zh-CN" if line.split()[1].startswith("zh") else "en-US"
            return f"Language set to {self.locale}."
        try:
            if line.isdigit():
                if self.last_message is None or not self.sandbox.buttons(self.last_message):
                    return "There is no button to press."
                buttons = self.sandbox.buttons(self.last_message)
                index = int(line) - 1
                if not 0 <= index < len(buttons):
                    return f"Choose a button from 1 to {len(buttons)}."
                record = await self.sandbox.click(
                    self.last_message, index=index, user=self.user, locale=self.locale
                )
            else:
                name, options = self.parse(line)
                record = await self.sandbox.invoke(
                    name, options, user=self.user, locale=self.locale, timeout=30
                )
        except (CommandError, ValueError, StopIteration, OSError) as exc:
            return f"⚠ {exc or 'no such value'}"
        except TimeoutError:
            return "⚠ the bot did not answer within 30 s"
        return self.render(record)


def _readline_setup(console: Console, history: Path) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(history)

    def complete(text: str, state: int) -> str | None:
        buffer = readline.get_line_buffer()
        matches = [n for n in console.command_names() if n.startswith(buffer)]
        # Complete the current word only: strip what is already typed before it.
        offset = len(buffer) - len(text)
        options = [m[offset:] for m in matches]
        return options[state] if state < len(options) else None

    readline.set_completer_delims(" ")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    import atexit

    atexit.register(lambda: readline.write_history_file(history))


async def run_console(settings: Settings, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    sandbox = Sandbox(token="console-token")
    guild = sandbox.add_guild("Cupola Console")
    sandbox.add_user("you", guild=guild, roles=[sandbox.role(guild, "Admins")])
    sandbox.add_channel(guild, "photos")
    await sandbox.start()
    settings = settings.model_copy(deep=True)
    settings.discord.token = sandbox.token
    settings.discord.api_base = sandbox.api_base
    settings.discord.gateway_url = None
    settings.discord.sync_on_start = "off"
    settings.discord.shard_count = None
    settings.discord.shard_ids = None
    bot = Cupola(settings=settings, db=Database(settings.database_url), guild_ready_timeout=0.05)
    console = Console(sandbox, files_dir=settings.paths.data_dir / "console")
    try:
        await bot.login(sandbox.token)
        task = asyncio.create_task(bot.connect())
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        await bot.tree.sync()
        interactive = stdin.isatty()
        if interactive:
            settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
            _readline_setup(console, settings.paths.data_dir / "console_history")
        print(BANNER, file=out, flush=True)
        while True:
            try:
                if interactive:
                    line = await asyncio.to_thread(input, "cupola> ")
                else:
                    line = await asyncio.to_thread(stdin.readline)
                    if not line:
                        break
                    print(f"cupola> {line.rstrip()}", file=out)
            except EOFError:
                break
            if line.strip() in ("quit", "exit", "/quit"):
                break
            answer = await console.handle(line)
            if answer:
                print(answer, file=out, flush=True)
    finally:
        await bot.close()
        await sandbox.stop()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 5)
    return 0
