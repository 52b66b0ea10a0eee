"""The extension modules the bot loads, found by the entry points and handed to ``Cupola``.

Imports run one way (cogs → bot), so nothing in ``bot/`` imports ``cogs``: the entry point names the
package and :func:`find_extensions` walks it on disk without importing it, the way discord.py's
``examples/advanced_startup.py`` hands its ``initial_extensions`` to the bot.
"""

from __future__ import annotations

import importlib.util
import pkgutil

COGS = "cogs"
"""The package of the bot's command groups (one module each)."""


def find_extensions(package: str = COGS) -> list[str]:
    """Every module in ``package``, except private ones (leading underscore)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{package} is not an importable package")
    return [
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(spec.submodule_search_locations)
        if not info.name.startswith("_")
    ]
