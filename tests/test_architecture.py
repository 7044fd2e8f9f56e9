"""The import graph of rackforge, walked from the source with :mod:`ast` (module-level,
function-level and ``TYPE_CHECKING`` imports alike): no circles, imports point down only
(DESIGN.md, Layout), no stage imports another, no function-level import of rackforge code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "rackforge"
GROUND = {"units", "errors", "calendar", "highs", "jsonable", "inputs", "cache", "code_version"}
DOMAINS = {"catalog", "design", "checks", "perf", "sourcing", "factory", "deploy", "economics",
           "compare", "compare_spec", "risk_spec", "scenario"}
FRONT_ENDS = {"cli", "report", "serve", "sweep"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported rackforge module, line, inside a function) for every import statement."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {id(n) for f in ast.walk(tree)
              if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
              for n in ast.walk(f) if n is not f}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                       else node.module for a in node.names]
        else:
            continue
        out += [(t, node.lineno, id(node) in nested) for t in targets
                if t in MODULES and t != name]
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else "rackforge"


def test_no_import_circle():
    """Depth-first search for a back edge, function-level and TYPE_CHECKING imports included."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name], _ = "open", path.append(name)
        for target, _, _ in GRAPH[name]:
            if state.get(target) == "open":
                pytest.fail("import circle: " + " -> ".join(path[path.index(target):]
                                                            + [target]))
            if target not in state:
                visit(target)
        state[name], _ = "done", path.pop()

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_no_function_level_import_of_rackforge_code():
    found = [f"{name}:{line} imports {target}" for name, edges in GRAPH.items()
             for target, line, nested in edges if nested]
    assert found == []


def test_a_function_level_import_says_why():
    """Only a heavy optional dependency may be imported in a function, with a comment."""
    bad = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for func in (n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom) and \
                        "# deferred:" not in lines[node.lineno - 1]:
                    bad.append(f"{name}:{node.lineno}")
    assert bad == []


def test_imports_point_down():
    upward = []
    for name, edges in GRAPH.items():
        layer = _layer(name)
        for target, line, _ in edges:
            to = _layer(target)
            if layer in GROUND and to in DOMAINS | FRONT_ENDS | {"stages", "pipeline"}:
                upward.append(f"{name}:{line} -> {target}")
            if layer in DOMAINS and to in FRONT_ENDS | {"stages", "pipeline"}:
                upward.append(f"{name}:{line} -> {target}")
            if layer in {"stages", "pipeline"} and to in FRONT_ENDS:
                upward.append(f"{name}:{line} -> {target}")
    assert upward == []


def test_no_stage_imports_another():
    stages = {m for m in MODULES if m.startswith("rackforge.stages.")}
    crossing = [f"{name} -> {target}" for name in stages for target, _, _ in GRAPH[name]
                if target.startswith("rackforge.stages")]
    assert stages and crossing == []


def test_modules_stay_small():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}
