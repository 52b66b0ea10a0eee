"""What /help lists: the bot's slash commands, each marked admin-only or not, read from the command
tree itself so the list can never drift from what is registered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from discord import app_commands

from bot import permissions

EXAMPLE_QUESTIONS = ("help.example_1", "help.example_2", "help.example_3", "help.example_4")
"""Locale keys of questions the shipped articles answer (a test asks each one)."""


@dataclass(frozen=True, slots=True)
class CommandHelp:
    path: str
    """ "iss ask" """
    description: str
    """English; the renderer translates it."""
    admin: bool


def _admin_only(command: app_commands.Command | app_commands.Group) -> bool:
    node: app_commands.Command | app_commands.Group | None = command
    while node is not None:
        if node.default_permissions is not None and node.default_permissions.value != 0:
            return True
        if isinstance(node, app_commands.Command) and any(
            getattr(check, "__qualname__", "") == permissions._check.__qualname__ for check in node.checks
        ):
            return True
        node = node.parent
    return False


def _walk(
    commands: Iterable[app_commands.Command | app_commands.Group | app_commands.ContextMenu],
) -> Iterable[app_commands.Command]:
    for command in commands:
        if isinstance(command, app_commands.Group):
            yield from _walk(command.commands)
        elif isinstance(command, app_commands.Command):
            yield command


def command_list(tree: app_commands.CommandTree, *, admin: bool) -> list[CommandHelp]:
    """Every slash command this member may use (admins also get theirs), sorted by name."""
    out = [
        CommandHelp(c.qualified_name, str(c.description), _admin_only(c)) for c in _walk(tree.get_commands())
    ]
    return sorted((c for c in out if admin or not c.admin), key=lambda c: c.path)
