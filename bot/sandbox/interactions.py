"""Building INTERACTION_CREATE payloads from synced command schemas, and tracking their answers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.model import Channel, Guild, Member, Role, StoredFile, User

# Interaction and option types (Discord's values).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11

# Callback types.
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE = 1, 4, 5
DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 6, 7, 8, 9

EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(frozen=True)
class Upload:
    """A file a test attaches to an attachment option."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


class CommandError(ValueError):
    """The test asked for a command or option the bot never synced."""


@dataclass
class InteractionRecord:
    """One interaction the sandbox sent, with everything the bot answered."""

    id: int
    token: str
    payload: dict[str, Any]
    created_at: float
    response_type: int | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    edits: int = 0

    @property
    def kind(self) -> int:
        return int(self.payload["type"])

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Visible messages: the original (unless still loading) then follow-ups."""
        out = []
        if self.original is not None and not (self.original.get("flags", 0) & LOADING):
            out.append(self.original)
        out.extend(self.followups)
        return out

    @property
    def reply(self) -> dict[str, Any]:
        msgs = self.messages
        if not msgs:
            raise AssertionError(f"interaction {self.id} has no visible reply (errors: {self.errors})")
        return msgs[0]

    @property
    def answered(self) -> bool:
        """True once there is something a user would see (or the interaction failed)."""
        if self.errors and self.response_type is None:
            return True
        if self.response_type in (AUTOCOMPLETE_RESULT, MODAL, PONG):
            return True
        if self.response_type == DEFERRED_UPDATE_MESSAGE:
            return self.edits > 0 or bool(self.followups)
        return bool(self.messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.kind,
            "response_type": self.response_type,
            "messages": self.messages,
            "choices": self.choices,
            "modal": self.modal,
            "errors": self.errors,
        }


def new_token() -> str:
    return "itk_" + secrets.token_urlsafe(24)


def find_command(commands: list[dict[str, Any]], path: str) -> tuple[dict[str, Any], list[str]]:
    """Split "iss ask" into the top-level command schema and the sub-command names under it."""
    parts = path.strip().lstrip("/").split()
    if not parts:
        raise CommandError("empty command")
    for cmd in commands:
        if cmd["name"] == parts[0] and cmd.get("type", 1) == 1:
            return cmd, parts[1:]
    known = sorted(c["name"] for c in commands)
    raise CommandError(f"no command named {parts[0]!r}; synced: {known}")


@dataclass
class Resolved:
    users: dict[str, Any] = field(default_factory=dict)
    members: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


class OptionBuilder:
    """Turns {"name": value} into Discord's nested option list plus its ``resolved`` data."""

    def __init__(self, *, guild: Guild | None, store_file: Any, file_base: str, channel_id: int) -> None:
        self.guild = guild
        self.resolved = Resolved()
        self._store_file = store_file
        self._file_base = file_base
        self._channel_id = channel_id

    def build(
        self,
        schema_options: list[dict[str, Any]],
        path: list[str],
        values: dict[str, Any],
        *,
        focused: str | None = None,
        validate: bool = True,
    ) -> list[dict[str, Any]]:
        if path:
            for opt in schema_options:
                if opt["name"] == path[0] and opt["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
                    inner = self.build(
                        opt.get("options") or [], path[1:], values, focused=focused, validate=validate
                    )
                    return [{"name": opt["name"], "type": opt["type"], "options": inner}]
            raise CommandError(f"no sub-command {path[0]!r}")
        if validate and any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema_options):
            raise CommandError("this command needs a sub-command")
        by_name = {o["name"]: o for o in schema_options}
        out: list[dict[str, Any]] = []
        for name, value in values.items():
            option = by_name.get(name)
            if option is None:
                if validate:
                    raise CommandError(f"unknown option {name!r}; options: {sorted(by_name)}")
                out.append({"name": name, "type": STRING, "value": value})
                continue
            if name == focused:  # what the member has typed so far: always a string, never converted
                out.append({"name": name, "type": option["type"], "value": str(value), "focused": True})
                continue
            entry: dict[str, Any] = {
                "name": name,
                "type": option["type"],
                "value": self._value(option, value),
            }
            out.append(entry)
        if validate and focused is None:
            missing = [o["name"] for o in schema_options if o.get("required") and o["name"] not in values]
            if missing:
                raise CommandError(f"missing required options {missing}")
        return out

    def _value(self, opt: dict[str, Any], value: Any) -> Any:
        kind = opt["type"]
        if kind == USER or (kind == MENTIONABLE and isinstance(value, User | Member)):
            user = value.user if isinstance(value, Member) else value
            self.resolved.users[str(user.id)] = user.to_json()
            if self.guild is not None and user.id in self.guild.members:
                member = self.guild.members[user.id].to_json()
                member.pop("user")
                member["permissions"] = str(self.guild.permissions_of(user.id))
                self.resolved.members[str(user.id)] = member
            return str(user.id)
        if kind == ROLE or (kind == MENTIONABLE and isinstance(value, Role)):
            self.resolved.roles[str(value.id)] = value.to_json()
            return str(value.id)
        if kind == CHANNEL:
            assert isinstance(value, Channel), "channel options take a sandbox Channel"
            data = value.to_json()
            data["permissions"] = str((1 << 50) - 1)
            self.resolved.channels[str(value.id)] = data
            return str(value.id)
        if kind == ATTACHMENT:
            assert isinstance(value, Upload), "attachment options take a sandbox Upload"
            stored: StoredFile = self._store_file(value.filename, value.data, value.content_type)
            data = stored.attachment_json(self._file_base, self._channel_id)
            data["ephemeral"] = True
            self.resolved.attachments[str(stored.id)] = data
            return str(stored.id)
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
        if kind == BOOLEAN:
            return bool(value)
        return value
