"""The package's layers, read from the source: no module imports a layer above its own, and no import circle.

Every import counts, the ones inside functions and under TYPE_CHECKING too: a lazy import keeps a
module out of DAG parsing, but it still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_datapump

PACKAGE = "airflow_provider_datapump"
ROOT = Path(airflow_provider_datapump.__file__).parent

# Bottom to top. A module may import its own layer and those below it; the emulator is apart.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("model", ("airflow_provider_datapump", "_compat", "exceptions", "jobs", "selection", "copy_check", "polling", "get_provider_info", "hints")),
    ("api", ("payloads", "replace", "lineage", "hooks")),
    ("wait", ("waiting",)),
    ("triggers", ("triggers",)),
    ("tasks", ("operators", "sensors")),
]
EMULATOR = "emulator"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (a ``from pkg import sub`` names the submodule when it is one)."""
    found: set[str] = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def layer_of(module: str) -> int | str:
    rest = module.split(".")[1:]
    if not rest:
        return 0
    if rest[0] == EMULATOR:
        return EMULATOR
    for index, (_, tops) in enumerate(LAYERS):
        if rest[0] in tops:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for module, targets in graph().items():
        mine = layer_of(module)
        for target in targets:
            theirs = layer_of(target)
            if (mine == EMULATOR) != (theirs == EMULATOR) and target != PACKAGE:
                upward.append(f"{module} -> {target} (the emulator and the client never import each other)")
            elif mine != EMULATOR and theirs != EMULATOR and theirs > mine:
                upward.append(f"{module} ({LAYERS[mine][0]}) -> {target} ({LAYERS[theirs][0]})")
    assert not upward, "imports that reach up a layer:\n" + "\n".join(sorted(upward))


def test_no_import_circle():
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_checker_sees_lazy_and_type_checking_imports():
    """Guards the guard: the layering test is worthless if the parser misses the imports that matter."""
    edges = graph()
    assert f"{PACKAGE}.jobs" in edges[f"{PACKAGE}.waiting"]  # imported inside methods only
    assert f"{PACKAGE}.hooks.datapump" in edges[f"{PACKAGE}.waiting"]  # under TYPE_CHECKING, and lazily
    assert f"{PACKAGE}.exceptions" in edges[f"{PACKAGE}.jobs"]
