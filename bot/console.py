"""``cupola console``: the sandbox and the real bot in one process, behind a text prompt.

Works with no token and no network: slash commands typed at the prompt travel the same gateway and
REST path as on Discord. Every message the bot makes visible (replies, follow-ups, edits, posts in
any channel: the photo of the day, feed announcements) is printed as it happens, marked with its
channel. Typed input is checked the way Discord's client checks it before sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import re
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.core import Cupola
from bot.db import Database
from bot.extensions import find_extensions
from bot.sandbox import CommandError, Sandbox, Upload
from bot.sandbox.interactions import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from bot.sandbox.model import Guild, User

BANNER = """Cupola console: a local Discord sandbox, no network needed.
Type a slash command (try /help), `help` for the list, `help /admin photo add` for one command,
a number to press a button, `as member` / `as admin` to switch who types, `quit` to leave."""

TYPE_NAMES = {
    STRING: "text",
    INTEGER: "whole number",
    BOOLEAN: "true/false",
    USER: "user",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "user or role",
    NUMBER: "number",
    ATTACHMENT: "file path",
}
GROUPS = (SUB_COMMAND, SUB_COMMAND_GROUP)
# Tasks discord.py runs a slash command or a button press in: the console waits for them to end.
BOT_TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-dynamic-item")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "y", "on", "1"), ("false", "no", "n", "off", "0")
NAME_VALUE = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w-]*):(?=\s|$)")


# --------------------------------------------------------------------------- rendering
_MENTION = re.compile(r"<(#|@!?|@&)(\d+)>|<t:(-?\d+)(?::([tTdDfFR]))?>")


def humanize(text: str, sandbox: Sandbox | None) -> str:
    """What a Discord client draws for <#id>, <@id>, <@&id> and <t:…> markup (times in UTC)."""

    def replace(match: re.Match[str]) -> str:
        kind, ident, stamp, style = match.groups()
        if stamp is not None:
            when = datetime.fromtimestamp(int(stamp), UTC)
            if style == "R":
                return _relative(when)
            fmt = {"t": "%H:%M", "T": "%H:%M:%S", "d": "%Y-%m-%d", "D": "%d %B %Y"}.get(style or "f")
            return when.strftime(fmt or "%d %B %Y %H:%M") + " UTC"
        if sandbox is None:
            return match.group(0)
        number = int(ident)
        if kind == "#":
            channel = sandbox.channels.get(number)
            return f"#{channel.name}" if channel else "#unknown-channel"
        if kind == "@&":
            role = next(
                (r for g in sandbox.guilds.values() for r in g.roles.values() if r.id == number), None
            )
            return f"@{role.name}" if role else "@unknown-role"
        user = sandbox.users.get(number)
        return f"@{user.username}" if user else "@unknown-user"

    return _MENTION.sub(replace, text)


def _relative(when: datetime) -> str:
    seconds = (when - datetime.now(UTC)).total_seconds()
    amount, unit = abs(seconds), "seconds"
    for size, name in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if amount >= size:
            amount, unit = amount / size, name
            break
    text = f"{round(amount)} {unit}"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def render_message(
    message: dict[str, Any],
    *,
    files_dir: Path | None = None,
    sandbox: Sandbox | None = None,
    event: str = "create",
) -> str:
    """A Discord message as plain text: where it is, content, embeds, attachments, numbered buttons."""
    lines: list[str] = []
    header = "Cupola"
    if sandbox is not None:
        channel = sandbox.channels.get(int(message.get("channel_id") or 0))
        if channel is not None:
            header += f" in #{channel.name}"
    flags = message.get("flags", 0)
    if flags & 64:
        header += " (only you can see this)"
    if event == "edit":
        header += " (edited)"
    if flags & 128:
        lines.append(f"── {header} ── is thinking…")
        return "\n".join(lines)
    lines.append(f"── {header} ──")
    lines.extend(humanize(line, sandbox) for line in _body_lines(message, files_dir, sandbox))
    return "\n".join(lines)


def _body_lines(message: dict[str, Any], files_dir: Path | None, sandbox: Sandbox | None) -> list[str]:
    lines: list[str] = []
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
    buttons = _buttons(message)
    if buttons:
        lines.append(
            "   ".join(
                f"[{i}] {b.get('label') or b.get('emoji', {}).get('name', '?')}"
                + (" (disabled)" if b.get("disabled") else "")
                for i, b in enumerate(buttons, 1)
            )
        )
    return lines


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 2
    ]


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


# --------------------------------------------------------------------------- schemas
@dataclass(frozen=True)
class Target:
    """A command as typed: its path ("admin photo add"), its schema and its own options."""

    path: str
    schema: dict[str, Any]
    options: list[dict[str, Any]]
    subs: list[dict[str, Any]]

    @property
    def leaf(self) -> bool:
        return not self.subs


def _admin_only(schema: dict[str, Any]) -> bool:
    perms = schema.get("default_member_permissions")
    return perms is not None and int(perms) != 0


def describe_option(option: dict[str, Any]) -> str:
    """ "question (text, required, 1–300 characters): Your question" for `help /iss ask`."""
    facts = [TYPE_NAMES.get(option["type"], "value"), "required" if option.get("required") else "optional"]
    low, high = option.get("min_length"), option.get("max_length")
    if low is not None or high is not None:
        facts.append(f"{low or 0}–{high} characters" if high is not None else f"at least {low} characters")
    low, high = option.get("min_value"), option.get("max_value")
    if low is not None and high is not None:
        facts.append(f"{low}–{high}")
    elif low is not None:
        facts.append(f"at least {low}")
    elif high is not None:
        facts.append(f"at most {high}")
    if option.get("autocomplete"):
        facts.append("suggestions with Tab")
    line = f"{option['name']}: ({', '.join(facts)}) {option.get('description', '')}".rstrip()
    if option.get("choices"):
        line += "; one of: " + ", ".join(str(c["value"]) for c in option["choices"])
    return line


# --------------------------------------------------------------------------- the console
class Console:
    """Parses a typed line into an interaction, sends it through the sandbox, prints what the bot shows."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        files_dir: Path,
        locale: str = "en-US",
        emit: Callable[[str], None] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.files_dir = files_dir
        self.locale = locale
        self.emit = emit or (lambda text: print(text, flush=True))
        self.guild: Guild = next(iter(sandbox.guilds.values()))
        self.admin = self._user("you")
        self.member = self._user("member")
        self.user: User = self.admin
        self.last_message: dict[str, Any] | None = None
        sandbox.add_message_listener(self._on_message)

    def _user(self, name: str) -> User:
        found = next((m.user for m in self.guild.members.values() if m.user.username == name), None)
        return found or self.sandbox.add_user(name, guild=self.guild)

    @property
    def who(self) -> str:
        return "admin" if self.user is self.admin else "member"

    def _on_message(self, event: str, message: dict[str, Any]) -> None:
        if _buttons(message):
            self.last_message = message
        self.emit(render_message(message, files_dir=self.files_dir, sandbox=self.sandbox, event=event))

    # ------------------------------------------------------------------ schemas
    def commands(self) -> list[dict[str, Any]]:
        return self.sandbox.commands_for(self.guild)

    def command_names(self) -> list[str]:
        names: list[str] = []
        for cmd in self.commands():
            subs = [o for o in cmd.get("options") or [] if o["type"] in GROUPS]
            if not subs:
                names.append(f"/{cmd['name']}")
            for sub in subs:
                inner = [o for o in sub.get("options") or [] if o["type"] == SUB_COMMAND]
                if inner:
                    names.extend(f"/{cmd['name']} {sub['name']} {o['name']}" for o in inner)
                else:
                    names.append(f"/{cmd['name']} {sub['name']}")
        return sorted(names)

    def resolve(self, words: list[str]) -> tuple[Target, list[str]]:
        """The longest command path at the start of ``words``, and the words after it."""
        if not words:
            raise CommandError("type a command, e.g. /about")
        schema = next((c for c in self.commands() if c["name"] == words[0]), None)
        if schema is None:
            close = difflib.get_close_matches(words[0], [c["name"] for c in self.commands()], n=1)
            hint = f" Did you mean /{close[0]}?" if close else ""
            raise CommandError(f"unknown command /{words[0]}; type `help` for the list.{hint}")
        path = [words[0]]
        options = schema.get("options") or []
        rest = words[1:]
        while rest:
            sub = next((o for o in options if o["name"] == rest[0] and o["type"] in GROUPS), None)
            if sub is None:
                break
            path.append(rest.pop(0))
            options = sub.get("options") or []
        subs = [o for o in options if o["type"] in GROUPS]
        plain = [o for o in options if o["type"] not in GROUPS]
        return Target(" ".join(path), schema, plain, subs), rest

    def _sub_list(self, target: Target) -> str:
        return ", ".join(n for n in self.command_names() if n.startswith(f"/{target.path} "))

    def help_text(self, topic: str = "") -> str:
        topic = topic.strip().lstrip("/")
        if topic:
            target, rest = self.resolve(topic.split())
            if rest:
                raise CommandError(f"/{target.path} has no sub-command {rest[0]!r}: {self._sub_list(target)}")
            if not target.leaf:
                return f"/{target.path} has these sub-commands: {self._sub_list(target)}"
            lines = [f"/{target.path}: {self._description(target)}"]
            if _admin_only(target.schema):
                lines.append("  (admins only: Discord hides it from members without Manage Server)")
            if not target.options:
                lines.append("  no options")
            lines.extend(f"  {describe_option(o)}" for o in target.options)
            return "\n".join(lines)
        lines = ["Commands (`help /command` for its options):"]
        for name in self.command_names():
            target, _ = self.resolve(name.lstrip("/").split())
            opts = " ".join(
                f"{o['name']}:" if o.get("required") else f"[{o['name']}:]" for o in target.options
            )
            admin = " (admins)" if _admin_only(target.schema) else ""
            lines.append(f"  {name} {opts}".rstrip() + f"  — {self._description(target)}{admin}")
        lines.append("Options are written name: value, e.g. /iss ask question: How high does the ISS fly?")
        lines.append("`lang zh` / `lang en` switches your language; `as member` / `as admin` who you are.")
        return "\n".join(lines)

    def _description(self, target: Target) -> str:
        node: dict[str, Any] = target.schema
        for name in target.path.split()[1:]:
            node = next(o for o in node.get("options") or [] if o["name"] == name)
        return str(node.get("description", ""))

    # ------------------------------------------------------------------ parsing, as Discord's client does
    def parse(self, line: str) -> tuple[str, dict[str, Any]]:
        """ "/iss ask question: how high" -> ("iss ask", {"question": "how high"}), checked like Discord."""
        target, rest = self.resolve(line.strip().lstrip("/").split())
        if not target.leaf:
            if rest:
                raise CommandError(f"/{target.path} has no sub-command {rest[0]!r}: {self._sub_list(target)}")
            raise CommandError(f"/{target.path} needs a sub-command: {self._sub_list(target)}")
        values = self._split_options(target, " ".join(rest))
        by_name = {o["name"]: o for o in target.options}
        converted = {name: self._convert(by_name[name], raw) for name, raw in values.items()}
        missing = [o for o in target.options if o.get("required") and o["name"] not in converted]
        if missing:
            names = ", ".join(f"{o['name']}: ({o.get('description', '')})" for o in missing)
            raise CommandError(f"/{target.path} needs {names}")
        return target.path, converted

    def _split_options(self, target: Target, text: str) -> dict[str, str]:
        by_name = {o["name"]: o for o in target.options}
        usage = ", ".join(f"{n}:" for n in by_name) or "none"
        if not text:
            return {}
        if not by_name:
            raise CommandError(f"/{target.path} takes no options")
        first = NAME_VALUE.match(text)
        if first is None or first.group(1) not in by_name:
            if first is not None:
                raise CommandError(self._unknown_option(target, first.group(1)))
            if len(by_name) == 1:  # a lone option may be given without its name
                return {next(iter(by_name)): text.strip()}
            raise CommandError(f"write options as name: value (options of /{target.path}: {usage})")
        values: dict[str, str] = {}
        marks = [m for m in NAME_VALUE.finditer(text) if m.group(1) in by_name]
        for m in NAME_VALUE.finditer(text):
            name = m.group(1)
            if name not in by_name and difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.7):
                raise CommandError(self._unknown_option(target, name))
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            name = m.group(1)
            if name in values:
                raise CommandError(f"{name}: is given twice")
            values[name] = text[m.end() : end].strip()
        return values

    def _unknown_option(self, target: Target, name: str) -> str:
        names = [o["name"] for o in target.options]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}:?" if close else ""
        return (
            f"/{target.path} has no option {name}: (its options: {', '.join(f'{n}:' for n in names)}){hint}"
        )

    def _convert(self, option: dict[str, Any], raw: str) -> Any:
        name, kind = option["name"], option["type"]
        if not raw:
            raise CommandError(f"{name}: needs a value ({describe_option(option)})")
        if option.get("choices"):
            for choice in option["choices"]:
                if raw.casefold() in (str(choice["value"]).casefold(), str(choice["name"]).casefold()):
                    return choice["value"]
            allowed = ", ".join(str(c["value"]) for c in option["choices"])
            raise CommandError(f"{name}: {raw!r} is not one of the choices: {allowed}")
        if kind in (INTEGER, NUMBER):
            try:
                value: Any = int(raw) if kind == INTEGER else float(raw)
            except ValueError:
                what = "a whole number" if kind == INTEGER else "a number"
                raise CommandError(f"{name}: {raw!r} is not {what}") from None
            low, high = option.get("min_value"), option.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                bounds = (
                    f"between {low} and {high}"
                    if low is not None and high is not None
                    else (f"at least {low}" if low is not None else f"at most {high}")
                )
                raise CommandError(f"{name}: must be {bounds} (got {raw})")
            return value
        if kind == BOOLEAN:
            if raw.lower() in TRUE_WORDS:
                return True
            if raw.lower() in FALSE_WORDS:
                return False
            raise CommandError(f"{name}: write true or false (got {raw!r})")
        if kind == CHANNEL:
            wanted = raw.lstrip("#").removeprefix("<#").removesuffix(">")
            for channel in self.guild.channels.values():
                if channel.name == wanted or str(channel.id) == wanted:
                    return channel
            known = ", ".join(f"#{c.name}" for c in self.guild.channels.values())
            raise CommandError(f"{name}: there is no channel {raw} on this server (channels: {known})")
        if kind in (USER, MENTIONABLE):
            wanted = raw.lstrip("@")
            for member in self.guild.members.values():
                if member.user.username == wanted or str(member.user.id) == wanted:
                    return member.user
            if kind == USER:
                known = ", ".join(f"@{m.user.username}" for m in self.guild.members.values())
                raise CommandError(f"{name}: there is no member {raw} on this server (members: {known})")
        if kind in (ROLE, MENTIONABLE):
            wanted = raw.lstrip("@")
            for role in self.guild.roles.values():
                if role.name in (wanted, raw) or str(role.id) == wanted:
                    return role
            known = ", ".join(r.name for r in self.guild.roles.values())
            raise CommandError(f"{name}: there is no role {raw} on this server (roles: {known})")
        if kind == ATTACHMENT:
            path = Path(raw).expanduser()
            if not path.is_file():
                raise CommandError(f"{name}: no file at {path}")
            return Upload(path.name, path.read_bytes())
        low, high = option.get("min_length"), option.get("max_length")
        if high is not None and len(raw) > high:
            raise CommandError(f"{name}: at most {high} characters (this is {len(raw)})")
        if low is not None and len(raw) < low:
            raise CommandError(f"{name}: at least {low} characters")
        return raw

    # ------------------------------------------------------------------ tab completion
    async def completions(self, buffer: str) -> list[str]:
        """Whole-line candidates for ``buffer``: command paths, option names, choices and autocomplete."""
        text = buffer.lstrip()
        words = text.lstrip("/").split()
        ends_with_space = text.endswith(" ")
        names = self.command_names()
        try:
            target, rest = self.resolve(words) if words else (None, [])
        except CommandError:
            target, rest = None, []
        if target is None or not target.leaf or (not rest and not ends_with_space):
            typed_path = "/" + " ".join(words) + (" " if ends_with_space and words else "")
            return [n + " " for n in names if n.startswith(typed_path) or not words]
        typed = text[text.index(rest[0]) :] if rest else ""
        head = f"/{target.path} "
        by_name = {o["name"]: o for o in target.options}
        marks = [m for m in NAME_VALUE.finditer(typed) if m.group(1) in by_name]
        given = {m.group(1) for m in marks}
        word = "" if ends_with_space or not rest else rest[-1]
        stem = typed[: len(typed) - len(word)]
        names_next = [head + stem + f"{n}: " for n in by_name if n not in given and n.startswith(word)]
        if not marks:
            return names_next
        current = marks[-1]
        option = by_name[current.group(1)]
        value = typed[current.end() :].strip()
        out = names_next if value and (ends_with_space or " " in value) else []
        if value and ends_with_space:
            return out
        before = head + typed[: current.end()] + " "
        return out + await self._value_candidates(target, option, marks, typed, value, before)

    async def _value_candidates(
        self,
        target: Target,
        option: dict[str, Any],
        marks: list[re.Match[str]],
        typed: str,
        partial: str,
        before: str,
    ) -> list[str]:
        values: list[str] = []
        if option.get("choices"):
            values = [str(c["value"]) for c in option["choices"]]
        elif option["type"] == CHANNEL:
            values = [f"#{c.name}" for c in self.guild.channels.values()]
        elif option["type"] == ROLE:
            values = [r.name for r in self.guild.roles.values()]
        elif option["type"] == BOOLEAN:
            values = ["true", "false"]
        elif option.get("autocomplete"):
            given: dict[str, Any] = {}
            for i, m in enumerate(marks):
                end = marks[i + 1].start() if i + 1 < len(marks) else len(typed)
                given[m.group(1)] = typed[m.end() : end].strip()
            for name in list(given):
                if name != option["name"]:
                    converted = self._try_convert(target, name, given[name])
                    if converted is None:
                        del given[name]
                    else:
                        given[name] = converted
            try:
                choices = await self.sandbox.autocomplete(
                    target.path, given, option["name"], user=self.user, locale=self.locale, timeout=3
                )
            except (CommandError, TimeoutError, ValueError):
                choices = []
            return [before + str(c["value"]) for c in choices]
        return [
            before + v
            for v in values
            if v.casefold().startswith(partial.lstrip("#").casefold())
            or v.casefold().startswith(partial.casefold())
        ]

    def _try_convert(self, target: Target, name: str, raw: str) -> Any:
        option = next(o for o in target.options if o["name"] == name)
        try:
            return self._convert(option, raw)
        except CommandError:
            return None

    # ------------------------------------------------------------------ running
    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until the bot has finished every command or button it is handling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            busy = [
                task
                for task in asyncio.all_tasks()
                if task.get_name().startswith(BOT_TASK_PREFIXES) and not task.done()
            ]
            if not busy:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            await asyncio.wait(busy, timeout=remaining)

    async def handle(self, line: str) -> str:
        """Run one typed line; what the bot shows is emitted as it happens, the return is the console's own word."""
        line = line.strip()
        if not line:
            return ""
        try:
            if line in ("help", "?"):
                return self.help_text()
            if line.startswith("help "):
                return self.help_text(line[5:])
            if line.startswith("lang "):
                self.locale = "zh-CN" if line.split()[1].startswith("zh") else "en-US"
                return f"Language set to {self.locale}."
            if line in ("as member", "as admin"):
                self.user = self.member if line == "as member" else self.admin
                rights = "Manage Server" if self.user is self.admin else "no special permissions"
                article = "an" if self.who == "admin" else "a"
                return f"You are now typing as @{self.user.username}, {article} {self.who} ({rights})."
            if line.isdigit():
                return await self._press(int(line))
            name, options = self.parse(line)
            notice = ""
            target, _ = self.resolve(name.split())
            if _admin_only(target.schema) and self.user is self.member:
                notice = (
                    f"(Discord hides /{target.schema['name']} from members; sending it anyway to show "
                    "the bot's own check)"
                )
                self.emit(notice)
            record = await self.sandbox.invoke(name, options, user=self.user, locale=self.locale, timeout=30)
            await self.settle()
        except (CommandError, OSError) as exc:
            return f"⚠ {exc}"
        except TimeoutError:
            return "⚠ the bot did not answer within 30 s"
        if record.errors and not record.messages:
            return f"⚠ the interaction failed: {', '.join(record.errors)}"
        return ""

    async def _press(self, number: int) -> str:
        message = self.last_message
        buttons = self.sandbox.buttons(message) if message is not None else []
        if message is None or not buttons:
            return "There is no button to press."
        if not 1 <= number <= len(buttons):
            return f"Choose a button from 1 to {len(buttons)}."
        if buttons[number - 1].get("disabled"):
            return f"Button {number} is disabled."
        await self.sandbox.click(message, index=number - 1, user=self.user, locale=self.locale, timeout=30)
        await self.settle()
        return ""


def _readline_setup(console: Console, history: Path, loop: asyncio.AbstractEventLoop) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    cache: dict[str, list[str]] = {}

    def complete(text: str, state: int) -> str | None:
        buffer = readline.get_line_buffer()
        if state == 0 or buffer not in cache:
            future = asyncio.run_coroutine_threadsafe(console.completions(buffer), loop)
            try:
                cache.clear()
                cache[buffer] = future.result(timeout=3)
            except Exception:
                cache[buffer] = []
        options = cache.get(buffer, [])
        return options[state] if state < len(options) else None

    readline.set_completer_delims("")  # candidates are whole lines
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    import atexit

    atexit.register(lambda: readline.write_history_file(history))


@contextlib.asynccontextmanager
async def console_session(
    settings: Settings, *, emit: Callable[[str], None] | None = None
) -> AsyncIterator[tuple[Console, Cupola]]:
    """A sandbox with one server (#general, #photos; an admin "you" and a plain "member"), the real
    bot connected to it with its commands synced, and a Console in front."""
    sandbox = Sandbox(token="console-token")
    guild = sandbox.add_guild("Cupola Console")
    sandbox.add_user("you", guild=guild, roles=[sandbox.role(guild, "Admins")])
    sandbox.add_user("member", guild=guild)
    sandbox.add_channel(guild, "photos")
    await sandbox.start()
    settings = settings.model_copy(deep=True)
    settings.discord.token = sandbox.token
    settings.discord.api_base = sandbox.api_base
    settings.discord.gateway_url = None
    settings.discord.sync_on_start = "off"
    settings.discord.shard_count = None
    settings.discord.shard_ids = None
    bot = Cupola(
        settings=settings,
        db=Database(settings.database_url),
        extensions=find_extensions(),
        guild_ready_timeout=0.05,
    )
    console = Console(sandbox, files_dir=settings.paths.data_dir / "console", emit=emit)
    task: asyncio.Task[None] | None = None
    try:
        await bot.login(sandbox.token)
        task = asyncio.create_task(bot.connect())
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        await bot.knowledge.wait_ready(30)
        await bot.tree.sync()
        yield console, bot
    finally:
        await bot.close()
        await sandbox.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    images: Path | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout

    def emit(text: str) -> None:
        print(text, file=out, flush=True)

    async with console_session(settings, emit=emit) as (console, bot):
        if images is not None:
            from bot.photos.local import attach_local_pictures

            report = await attach_local_pictures(bot.db, bot.images, images)
            emit(report.summary())
        interactive = stdin.isatty()
        if interactive:
            settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
            _readline_setup(console, settings.paths.data_dir / "console_history", asyncio.get_running_loop())
        emit(BANNER)
        while True:
            prompt = "cupola> " if console.user is console.admin else "cupola (member)> "
            try:
                if interactive:
                    line = await asyncio.to_thread(input, prompt)
                else:
                    line = await asyncio.to_thread(stdin.readline)
                    if not line:
                        break
                    emit(f"{prompt}{line.rstrip()}")
            except EOFError:
                break
            if line.strip() in ("quit", "exit", "/quit"):
                break
            answer = await console.handle(line)
            if answer:
                emit(answer)
    return 0
