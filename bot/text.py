"""Control characters (NUL and friends) at the edges: found, named, removed.

PostgreSQL refuses U+0000 in text, the article parser refuses it as "binary", Discord shows the
others as boxes: text from members, feeds and files is checked or cleaned before it is stored.
Tab, line feed and carriage return are ordinary whitespace and are kept.
"""

from __future__ import annotations

import re
from typing import Any

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_controls(text: str) -> bool:
    return CONTROL_CHARS.search(text) is not None


def strip_controls(value: Any) -> Any:
    """``value`` with control characters removed from every string in it (dicts and lists walked)."""
    if isinstance(value, str):
        return CONTROL_CHARS.sub("", value)
    if isinstance(value, dict):
        return {strip_controls(k): strip_controls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(strip_controls(v) for v in value)
    return value


def string_options(options: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """(name, value) of every string option in an interaction's options, sub-commands included."""
    found: list[tuple[str, str]] = []
    for option in options or ():
        if isinstance(option.get("value"), str):
            found.append((str(option.get("name")), option["value"]))
        found.extend(string_options(option.get("options")))
    return found
