"""Imports run one way (cogs → bot services → models/db), as docs/architecture.md says.

Every import in bot/ and cogs/ is read with ast, wherever it is written (module level, inside a
function, under ``if TYPE_CHECKING``), and resolved to the module it names. Then: nothing in bot/
imports cogs/, and bot/feeds/ and bot/photos/ import nothing from bot/render/, not even for types;
and no imports that run (all but those under ``if TYPE_CHECKING``: a type named back, as
bot/sandbox/control.py names the Sandbox that owns it, never runs) go round in a circle, neither
between modules nor between packages (each bot/<package>/ counts as one, each module directly in
bot/ as one, cogs/ as one).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "cogs")

# bot/knowledge/service.py imports bot.admin (inside a function) while bot/admin.py imports
# bot.knowledge.service and .store: one owner per table (issue 12, item 2) removes it; then empty these.
KNOWN_MODULE_CYCLES: set[frozenset[str]] = set()
KNOWN_PACKAGE_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _type_only(tree: ast.AST) -> set[int]:
    """The ids of the import statements under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return found


def imported(name: str, path: Path, modules: dict[str, Path], *, types: bool = True) -> Iterable[str]:
    """The modules of bot/ and cogs/ that ``name`` (at ``path``) imports, wherever the import is;
    ``types=False`` leaves out the imports made for type checking only."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = set() if types else _type_only(tree)
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # `from bot.feeds import store` imports the module bot.feeds.store when there is one.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import bot.feeds.store as x` / a name in it
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def import_graph(*, types: bool = True) -> dict[str, set[str]]:
    modules = all_modules()
    return {name: set(imported(name, path, modules, types=types)) for name, path in modules.items()}


def unit_of(module: str) -> str:
    """bot/<package>/… is one unit; a module directly in bot/ is its own; cogs/ is one."""
    parts = module.split(".")
    if parts[0] == "cogs":
        return "cogs"
    if len(parts) >= 2 and (ROOT / "bot" / parts[1]).is_dir():
        return f"bot.{parts[1]}"
    return module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = units.setdefault(unit_of(module), set())
        edges.update(unit_of(t) for t in targets if unit_of(t) != unit_of(module))
    return units


def test_the_graph_sees_every_kind_of_import() -> None:
    """The walker itself: module-level, function-level, TYPE_CHECKING and relative imports are seen."""
    graph = import_graph()
    assert "bot.db" in graph["bot.core"]  # module level
    assert "bot.knowledge.service" in graph["bot.cli"]  # inside a function
    assert "bot.background" in graph["bot.feeds.poller"]  # under TYPE_CHECKING
    assert "bot.background" not in import_graph(types=False)["bot.feeds.poller"]
    assert "bot.feeds.store" in graph["cogs.feeds"]  # `from bot.feeds import service, store`
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_in_bot_imports_cogs() -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "bot"
        for target in targets
        if target.split(".")[0] == "cogs"
    )
    assert wrong == []


def test_background_workers_do_not_import_render() -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if unit_of(module) in ("bot.feeds", "bot.photos")
        for target in targets
        if unit_of(target) == "bot.render"
    )
    assert wrong == []


def test_no_import_circle_between_modules() -> None:
    found = [c for c in cycles(import_graph(types=False)) if frozenset(c) not in KNOWN_MODULE_CYCLES]
    assert found == []


def test_no_import_circle_between_packages() -> None:
    graph = package_graph(import_graph(types=False))
    found = [c for c in cycles(graph) if frozenset(c) not in KNOWN_PACKAGE_CYCLES]
    assert found == []
