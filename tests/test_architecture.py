"""The layering of ``monitor/`` (docs/architecture.md): every import points down, and nothing cycles.

The imports are read from the source (``ast``), every ``import`` anywhere in a module counts,
``if TYPE_CHECKING:`` blocks included, so a back-edge cannot hide behind a type annotation. Only
an import inside a function body is allowed to reach the simulator (the demo loads it when run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: The packages of ``monitor``, lowest first: a module may import its own package and those before it.
LAYERS: tuple[str, ...] = (
    "core",
    "store",
    "config",
    "alerts",
    "notify",
    "oncall",
    "directory",
    "escalation",
    "actions",
    "watch",
    "ingest",
    "broker",
    "live",
    "users",
    "reports",
    "web",
    "runtime",
)
#: Modules at the root of ``monitor/``: entry points only.
ENTRY_POINTS = frozenset({"monitor", "monitor.__main__"})


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    target: str
    line: int
    #: inside a function body: runs when called, not when the module is imported
    deferred: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(package: str) -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted((REPO / package).rglob("*.py"))
        if "migrations" not in path.parts or path.name != "env.py"
    }


def imports_of(module: str, path: Path, known: set[str]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), str(path))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    deferred_lines = {line for function in functions for line in range(function.lineno, (function.end_lineno or 0) + 1)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from monitor.notify import texts" imports the module monitor.notify.texts
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for name in names:
            yield Import(module, name, node.lineno, node.lineno in deferred_lines)


def resolve(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "monitor" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


MONITOR = source_modules("monitor")
KNOWN = set(MONITOR) | set(source_modules("devices")) | set(source_modules("simulator"))
IMPORTS = [found for module, path in MONITOR.items() for found in imports_of(module, path, KNOWN)]


def test_the_root_of_monitor_holds_packages_and_entry_points_only() -> None:
    loose = sorted(module for module in MONITOR if module.count(".") == 1 and module not in ENTRY_POINTS)
    loose = [module for module in loose if module.split(".")[1] not in LAYERS]
    assert loose == [], f"modules at the root of monitor/ that belong in a package: {loose}"
    packages = sorted({module.split(".")[1] for module in MONITOR if module.count(".") >= 1} - {"__main__"})
    assert sorted(packages) == sorted(LAYERS), "a package is missing from LAYERS, or LAYERS names one that is gone"


def test_every_import_points_down() -> None:
    back_edges = []
    for found in IMPORTS:
        target = resolve(found.target, KNOWN)
        here, there = layer_of(found.module), layer_of(target or "")
        if here is not None and there is not None and there > here:
            back_edges.append(f"{found.module}:{found.line} imports {target} ({LAYERS[there]} is above {LAYERS[here]})")
    assert back_edges == [], "imports that point up:\n" + "\n".join(back_edges)


def test_no_import_cycle_even_under_type_checking() -> None:
    graph: dict[str, set[str]] = {module: set() for module in MONITOR}
    for found in IMPORTS:
        target = resolve(found.target, set(MONITOR))
        if target is not None and target != found.module and not target.startswith(f"{found.module}."):
            graph[found.module].add(target)
    cycle = _a_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_monitor_imports_the_simulator_only_when_the_demo_runs() -> None:
    eager = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.target.split(".")[0] == "simulator" and not found.deferred
    ]
    assert eager == []


@pytest.mark.parametrize(("importer", "imported"), [("bench", "tests"), ("tests", "bench")])
def test_benchmarks_and_tests_share_the_harness_instead_of_importing_each_other(importer: str, imported: str) -> None:
    modules = source_modules(importer)
    known = set(modules) | set(source_modules(imported))
    crossing = [
        f"{found.module}:{found.line} imports {found.target}"
        for module, path in modules.items()
        for found in imports_of(module, path, known)
        if found.target.split(".")[0] == imported
    ]
    assert crossing == []


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` if it has any (depth-first search with colours)."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == 1:
                return [*trail[trail.index(following) :], following]
            if following not in state and (found := visit(following)) is not None:
                return found
        trail.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None
