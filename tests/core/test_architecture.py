"""The apps depend on each other in one direction only: core ← catalog ← scenarios ← delphi ← priorities ← public.

An app may import the apps to its left, never one to its right; the pure modules (foresight/stats.py,
numbers.py, disclosure.py) import none of the apps; no module reaches into another app's private names;
and no two modules import each other, even through an import hidden inside a function.  The checks
read the source with ``ast``: nothing is imported, so a violation is reported before it can bite.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("foresight", "scenarios")

# Left to right: an app may import only the apps before it in this list.
LAYERS = ("core", "catalog", "scenarios", "delphi", "priorities", "public")
APP_PREFIXES = {
    "foresight.core": "core",
    "foresight.catalog": "catalog",
    "scenarios": "scenarios",
    "foresight.delphi": "delphi",
    "foresight.priorities": "priorities",
    # The public site composes the catalog, scenarios and priorities (home, topic list and page, topic API).
    "foresight.public": "public",
}
PURE = {"foresight.stats", "foresight.numbers", "foresight.disclosure"}
# Project wiring: these may import any app (settings name them, urls route to them, celery finds their tasks).
EXEMPT = {"foresight", "foresight.settings", "foresight.urls", "foresight.celery", "foresight.asgi", "foresight.wsgi"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (the most specific one that exists)
    names: tuple[str, ...]  # names taken from it (``from target import a, b``); empty for ``import target``
    line: int
    nested: bool  # inside a function (or class) body rather than at module level

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


def app_of(module: str) -> str | None:
    for prefix, app in APP_PREFIXES.items():
        if module == prefix or module.startswith(prefix + "."):
            return app
    return None


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _walk(node: ast.AST, nested: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, nested
        inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef)
        yield from _walk(child, inner)


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node, nested in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, (), node.lineno, nested))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            plain = [alias.name for alias in node.names if f"{base}.{alias.name}" not in modules]
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:  # ``from package import submodule``
                    found.append(Import(module, f"{base}.{alias.name}", (), node.lineno, nested))
            if plain:
                found.append(Import(module, base, tuple(plain), node.lineno, nested))
    return found


def private_attributes(module: str, path: Path, modules: set[str]) -> Iterator[tuple[str, int]]:
    """``aggregation._median(...)`` where ``aggregation`` is a module of another app imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and is_private(node.attr):
            target = aliases.get(node.value.id)
            if target is not None and app_of(target) != app_of(module):
                yield f"{target}.{node.attr}", node.lineno


def project_imports() -> list[Import]:
    files = source_files()
    modules = set(files)
    result: list[Import] = []
    for module, path in files.items():
        for imp in imports_of(module, path, modules):
            if imp.target.split(".")[0] in PACKAGES:
                result.append(imp)
    return result


def layer_violations(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        if imp.source in EXEMPT:
            continue
        target_app = app_of(imp.target)
        if imp.source in PURE:
            if target_app is not None or imp.target.split(".")[0] in PACKAGES and imp.target not in PURE:
                problems.append(f"{imp.where()}: the pure module {imp.source} imports {imp.target}")
            continue
        source_app = app_of(imp.source)
        if source_app is None or target_app is None:
            if source_app is not None and imp.target in EXEMPT - {"foresight"}:
                problems.append(f"{imp.where()}: {imp.source} imports the project wiring {imp.target}")
            continue
        if LAYERS.index(target_app) > LAYERS.index(source_app):
            problems.append(f"{imp.where()}: {source_app} imports {target_app} ({imp.target}), which is to its right")
    return problems


def private_violations(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        if imp.source in EXEMPT or app_of(imp.source) == app_of(imp.target):
            continue
        private_modules = [part for part in imp.target.split(".") if is_private(part)]
        private_names = [name for name in imp.names if is_private(name)]
        for name in private_modules + private_names:
            problems.append(f"{imp.where()}: imports the private name {name} from {imp.target}")
    files = source_files()
    for module, path in files.items():
        if module in EXEMPT:
            continue
        for name, line in private_attributes(module, path, set(files)):
            problems.append(f"{module}:{line}: uses the private name {name}")
    return problems


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the graph is a few hundred modules, but recursion is not needed)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    components.append(sorted(component))
    return components


def import_graph(imports: list[Import]) -> dict[str, set[str]]:
    modules = set(source_files())
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for imp in imports:
        if imp.target in modules and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    return graph


def cycle_report(graph: dict[str, set[str]], imports: list[Import]) -> list[str]:
    problems = []
    for component in strongly_connected(graph):
        members = set(component)
        edges = sorted(
            f"{imp.where()} → {imp.target}{' (inside a function)' if imp.nested else ''}"
            for imp in imports
            if imp.source in members and imp.target in members and imp.target != imp.source
        )
        problems.append("cycle between " + ", ".join(component) + ":\n    " + "\n    ".join(edges))
    return problems


# --- the tests ---------------------------------------------------------------------------------------------


def test_the_source_is_found_and_parsed() -> None:
    files = source_files()
    assert {"foresight.stats", "foresight.delphi.models", "scenarios.models"} <= set(files)
    assert any(imp.nested for imp in project_imports()), "function-level imports are read too"


def test_apps_import_only_apps_to_their_left() -> None:
    problems = layer_violations(project_imports())
    assert not problems, "imports against " + " ← ".join(LAYERS) + ":\n" + "\n".join(problems)


def test_no_app_uses_another_apps_private_names() -> None:
    problems = private_violations(project_imports())
    assert not problems, "private names used across apps:\n" + "\n".join(problems)


def test_no_import_cycles_between_modules() -> None:
    imports = project_imports()
    problems = cycle_report(import_graph(imports), imports)
    assert not problems, "import cycles (top-level and function-level imports):\n" + "\n".join(problems)


# --- the checks themselves catch what they are meant to catch ------------------------------------------------


def test_the_checks_catch_a_violation_of_each_kind() -> None:
    bad = [
        Import("foresight.core.cache", "foresight.delphi.models", ("Round",), 1, False),
        Import("foresight.catalog.selectors", "scenarios.models", ("ScenarioTopic",), 1, True),
        Import("foresight.priorities.selectors.editions", "foresight.public.views", (), 1, False),
        Import("foresight.public.views", "foresight.priorities.selectors.editions", (), 1, False),  # allowed
        Import("foresight.stats", "foresight.catalog.models", ("Technology",), 1, True),
        Import("foresight.priorities.scoring", "foresight.delphi.services.aggregation", ("_median",), 1, False),
        Import("foresight.delphi.tasks", "foresight.delphi.services.rounds", (), 1, False),
        Import("foresight.delphi.services.rounds", "foresight.delphi.tasks", ("close",), 1, True),
    ]
    assert [p.split(": ", 1)[1] for p in layer_violations(bad)] == [
        "core imports delphi (foresight.delphi.models), which is to its right",
        "catalog imports scenarios (scenarios.models), which is to its right",
        "priorities imports public (foresight.public.views), which is to its right",
        "the pure module foresight.stats imports foresight.catalog.models",
    ]
    assert [p.split(": ", 1)[1] for p in private_violations(bad[5:6])] == [
        "imports the private name _median from foresight.delphi.services.aggregation"
    ]
    graph = {"foresight.delphi.tasks": {"foresight.delphi.services.rounds"}}
    graph["foresight.delphi.services.rounds"] = {"foresight.delphi.tasks"}
    (cycle,) = cycle_report(graph, bad)
    assert "inside a function" in cycle
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
