"""The apps depend on each other in one direction only: core ← catalog ← scenarios ← delphi ← priorities ← public
← bench.

An app may depend on the apps to its left, never on one to its right; the benchmark harness (``bench/``) is
on top and may use all of the product, which never uses it. The pure modules (foresight/stats.py,
numbers.py, disclosure.py) import none of the apps; the project wiring (settings, urls, celery, asgi, wsgi)
may import every app, and only the benchmark imports it; every other module belongs to an app. No module
reaches into another app's private names, however it reaches the module (``from`` import, dotted path,
alias, relative import); and no two modules import each other, even through an import hidden inside a
function, which must say why it is there.

A dependency is more than an ``import`` statement: ``importlib.import_module("…")`` with a constant name,
a model named by string (``ForeignKey("delphi.Study")``), a migration's dependency on another app's
migration and an app label given to ``apps.get_app_config``/``get_model`` all count. The few that point
the wrong way are listed below in :data:`EXCEPTIONS` with their reason; the list can only shrink (an
entry no longer needed fails the test). The checks read the source with ``ast``: nothing is imported, so
a violation is reported before it can bite.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("foresight", "scenarios", "bench")

# Left to right: an app may depend only on the apps before it in this list.
LAYERS = ("core", "catalog", "scenarios", "delphi", "priorities", "public", "bench")
APP_PREFIXES = {
    "foresight.core": "core",
    "foresight.catalog": "catalog",
    "scenarios": "scenarios",
    "foresight.delphi": "delphi",
    "foresight.priorities": "priorities",
    # The public site composes the catalog, scenarios and priorities (home, topic list and page, topic API).
    "foresight.public": "public",
    # The benchmark drives the whole product (its settings, URLs, Celery app, services); nothing imports it.
    "bench": "bench",
}
PURE = {"foresight.stats", "foresight.numbers", "foresight.disclosure"}
# Project wiring: these may import any app (settings name them, urls route to them, celery finds their tasks).
PROJECT = {"foresight", "foresight.settings", "foresight.urls", "foresight.celery", "foresight.asgi", "foresight.wsgi"}
# The layers that may import the project wiring, and why.
PROJECT_IMPORTERS = {"bench": "extends the product's settings and URLs and pings its Celery workers"}

# Dependencies against the direction that the test accepts, each with its reason; keyed by the importing
# module and the string as written. Only to shrink: an entry that no longer matches fails the test.
AUDIT_LINKS = (
    "the audit log (core) keeps real foreign keys to Delphi's studies and rounds: the database keeps them"
    " consistent (deleting a study or round clears the link, the entry stays) and admin lists them; to be"
    " replaced by a generic reference, which needs a data migration"
)
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("foresight.core.models", "delphi.Study"): AUDIT_LINKS,
    ("foresight.core.models", "delphi.Round"): AUDIT_LINKS,
    ("foresight.core.migrations.0001_auditlog", "delphi.study"): AUDIT_LINKS,
    ("foresight.core.migrations.0001_auditlog", "delphi.round"): AUDIT_LINKS,
    ("foresight.core.migrations.0001_auditlog", "delphi 0004_move_auditlog_to_core"): AUDIT_LINKS,
}
# Modules allowed to import a module whose name is computed (``import_module(name)``), and why. None yet.
DYNAMIC_IMPORTS: dict[str, str] = {}

IMPORT = "import"
STRING_IMPORT = "string import"
MODEL_REFERENCE = "model reference"
MIGRATION_DEPENDENCY = "migration dependency"
APP_LABEL = "app label"
RUNTIME = {"import", "string import"}  # the kinds that run: the ones an import cycle is made of
VERBS = {
    IMPORT: "imports",
    STRING_IMPORT: "imports by name",
    MODEL_REFERENCE: "refers to a model of",
    MIGRATION_DEPENDENCY: "has a migration that depends on",
    APP_LABEL: "names the app label of",
}
RELATION_FIELDS = {"ForeignKey", "ManyToManyField", "OneToOneField", "ForeignObject"}
IMPORT_FUNCTIONS = {"importlib.import_module", "builtins.__import__", "django.utils.module_loading.import_string"}
LABEL_FUNCTIONS = {"get_app_config", "get_model"}
PRAGMA = re.compile(r"noqa(:\s*[A-Z]+[0-9]+(,\s*[A-Z]+[0-9]+)*)?|type:\s*ignore(\[[^]]*\])?|pragma:[^#]*")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (the most specific one that exists)
    names: tuple[str, ...]  # names taken from it (``from target import a, b``); empty for ``import target``
    line: int
    nested: bool  # inside a function (or class) body rather than at module level
    kind: str = IMPORT
    written: str = ""  # the string as written, for the kinds other than ``import``

    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Scan:
    """What one module depends on, read from its source."""

    imports: list[Import] = field(default_factory=list)
    private_uses: list[tuple[str, int]] = field(default_factory=list)  # (module.name, line)
    dynamic_imports: list[int] = field(default_factory=list)  # lines importing a computed name
    unexplained: list[int] = field(default_factory=list)  # lines of function-level imports without a reason


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
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


def has_layer(module: str) -> bool:
    return app_of(module) is not None or module in PURE or module in PROJECT


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@functools.cache
def app_labels() -> dict[str, str]:
    """App label → the app's package, read from every ``AppConfig`` (``label``, else the last part of ``name``)."""
    labels: dict[str, str] = {}
    for module, path in source_files().items():
        if not module.endswith(".apps"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            values = {
                target.id: stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                for target in stmt.targets
                if isinstance(target, ast.Name) and isinstance(stmt.value.value, str)
            }
            if "name" in values:
                labels[values.get("label", values["name"].rpartition(".")[2])] = values["name"]
    return labels


def _walk(node: ast.AST, nested: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, nested
        inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef)
        yield from _walk(child, inner)


def _existing(name: str, modules: set[str]) -> str:
    """The most specific module of ``name`` (``a.b.func`` → ``a.b``) that exists; ``name`` if none does."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return name


def _absolute(base: str | None, level: int, package: str) -> str:
    """The module a ``from`` import names, relative ones resolved against ``package``."""
    if not level:
        return base or ""
    anchor = package.split(".")
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, base] if base else anchor)


def _comments(text: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except tokenize.TokenError:
        pass
    return comments


def _is_reason(comment: str | None) -> bool:
    """A comment that says something: not only ``noqa``/``type: ignore``."""
    return comment is not None and bool(re.search(r"[A-Za-z]", PRAGMA.sub("", comment.lstrip("#"))))


def scan_source(module: str, text: str, modules: set[str], is_package: bool = False) -> Scan:
    """Everything the architecture checks need from one module's source."""
    tree = ast.parse(text)
    package = module if is_package else module.rpartition(".")[0]
    scan = Scan()
    # Local name → the module it is bound to (``import a.b`` binds ``a``; ``from a import b``, ``import a.b
    # as c`` and ``c = importlib.import_module("a.b")`` bind a module if ``a.b`` is one); and local name →
    # the dotted name of an imported function (``import_module``, ``__import__``...).
    aliases: dict[str, str] = {}
    functions: dict[str, str] = {"__import__": "builtins.__import__"}
    nested_imports: list[ast.stmt] = []

    def add(target: str, names: tuple[str, ...], node: ast.AST, nested: bool, kind: str, written: str) -> None:
        if target.split(".")[0] in PACKAGES:
            scan.imports.append(Import(module, target, names, getattr(node, "lineno", 0), nested, kind, written))

    for node, nested in _walk(tree):
        if isinstance(node, ast.Import):
            if nested:
                nested_imports.append(node)
            for alias in node.names:
                add(alias.name, (), node, nested, IMPORT, "")
                if alias.asname:
                    aliases[alias.asname] = alias.name
                    functions[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = functions[top] = top
        elif isinstance(node, ast.ImportFrom):
            if nested:
                nested_imports.append(node)
            base = _absolute(node.module, node.level, package)
            plain = []
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in modules:  # ``from package import submodule``
                    add(full, (), node, nested, IMPORT, "")
                    aliases[alias.asname or alias.name] = full
                else:
                    plain.append(alias.name)
                functions[alias.asname or alias.name] = full
            if plain:
                add(base, tuple(plain), node, nested, IMPORT, "")
        elif isinstance(node, ast.Call):
            callee = _dotted(node.func, functions)
            first = _first_string(node)
            if callee in IMPORT_FUNCTIONS:
                imported = _string_import(node, package, modules)
                if imported is None:
                    scan.dynamic_imports.append(node.lineno)
                else:
                    add(imported, (), node, nested, STRING_IMPORT, first or "")
            elif callee.rpartition(".")[2] in RELATION_FIELDS:
                target = _keyword_string(node, "to") or first
                if target and "." in target and target.split(".")[0] in app_labels():
                    label, _, model = target.partition(".")
                    add(app_labels()[label] + ".models", (model,), node, nested, MODEL_REFERENCE, target)
            elif callee.rpartition(".")[2] in LABEL_FUNCTIONS and first and first.split(".")[0] in app_labels():
                add(app_labels()[first.split(".")[0]], (), node, nested, APP_LABEL, first)
        elif isinstance(node, ast.Assign):
            # A migration's ``dependencies = [("delphi", "0004_move_auditlog_to_core"), ...]`` (and ``run_before``)
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            migration = ".migrations." in f"{module}."
            if (
                migration
                and {"dependencies", "run_before"} & set(names)
                and isinstance(node.value, ast.List | ast.Tuple)
            ):
                for item in node.value.elts:
                    pair = [e.value for e in getattr(item, "elts", []) if isinstance(e, ast.Constant)]
                    if len(pair) == 2 and isinstance(pair[0], str) and pair[0] in app_labels():
                        migrations = app_labels()[pair[0]] + ".migrations"
                        target = migrations if pair[1] in ("__first__", "__latest__") else f"{migrations}.{pair[1]!s}"
                        add(target, (), item, nested, MIGRATION_DEPENDENCY, f"{pair[0]} {pair[1]!s}")
            if isinstance(node.value, ast.Call) and _dotted(node.value.func, functions) in IMPORT_FUNCTIONS:
                imported = _string_import(node.value, package, modules)  # ``agg = import_module("…")``
                if imported is not None:
                    for name in names:
                        aliases[name] = imported

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            target = _module_of(node.value, aliases, modules)
            if target is not None:
                scan.private_uses.append((f"{target}.{node.attr}", node.lineno))

    # A run of imports on consecutive lines shares the comment above it.
    comments = _comments(text)
    blocks: list[list[ast.stmt]] = []
    for stmt in sorted(nested_imports, key=lambda n: n.lineno):
        if blocks and stmt.lineno == (blocks[-1][-1].end_lineno or blocks[-1][-1].lineno) + 1:
            blocks[-1].append(stmt)
        else:
            blocks.append([stmt])
    for block in blocks:
        lines = [block[0].lineno - 1]
        lines += [line for imp in block for line in range(imp.lineno, (imp.end_lineno or imp.lineno) + 1)]
        if not any(_is_reason(comments.get(line)) for line in lines):
            scan.unexplained.extend(imp.lineno for imp in block)
    return scan


def _string_import(call: ast.Call, package: str, modules: set[str]) -> str | None:
    """The module ``import_module("…")`` (or ``__import__``, ``import_string``) imports; None if computed."""
    name = _first_string(call)
    if name is None:
        return None
    level = len(name) - len(name.lstrip("."))
    second = call.args[1] if len(call.args) > 1 else None
    anchor = _keyword_string(call, "package") or (second.value if isinstance(second, ast.Constant) else package)
    return _existing(_absolute(name[level:] or None, level, str(anchor)), modules)


def _dotted(node: ast.AST, functions: dict[str, str]) -> str:
    """``importlib.import_module`` for ``importlib.import_module`` or a local name bound to it; else ''."""
    if isinstance(node, ast.Name):
        return functions.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, functions)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return _keyword_string(call, "name")


def _keyword_string(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
    return None


def _module_of(node: ast.AST, aliases: dict[str, str], modules: set[str]) -> str | None:
    """The module an expression names: ``agg``, ``services.aggregation``, ``foresight.delphi.services``..."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _module_of(node.value, aliases, modules)
        if base is not None and f"{base}.{node.attr}" in modules:
            return f"{base}.{node.attr}"
    return None


@functools.cache
def scans() -> dict[str, Scan]:
    files = source_files()
    modules = set(files)
    return {
        module: scan_source(module, path.read_text(encoding="utf-8"), modules, path.name == "__init__.py")
        for module, path in files.items()
    }


def project_imports() -> list[Import]:
    return [imp for scan in scans().values() for imp in scan.imports]


def excepted(imp: Import) -> bool:
    return imp.kind != IMPORT and (imp.source, imp.written) in EXCEPTIONS


def layer_violations(imports: list[Import], modules: set[str] | None = None) -> list[str]:
    modules = set(source_files()) if modules is None else modules
    problems = []
    for imp in imports:
        if imp.source in PROJECT or excepted(imp):
            continue
        target_app = app_of(imp.target)
        verb = VERBS[imp.kind]
        if imp.source in PURE:
            if target_app is not None or imp.target.split(".")[0] in PACKAGES and imp.target not in PURE:
                problems.append(f"{imp.where()}: the pure module {imp.source} {verb} {imp.target}")
            continue
        source_app = app_of(imp.source)
        for module in (imp.source, imp.target):
            if module in modules and not has_layer(module):
                problems.append(
                    f"{imp.where()}: {imp.source} {verb} {imp.target}, and {module} has no layer"
                    " (it belongs to no app, nor to the pure modules or the project wiring)"
                )
        if source_app is None or target_app is None:
            if source_app is not None and source_app not in PROJECT_IMPORTERS and imp.target in PROJECT - {"foresight"}:
                problems.append(f"{imp.where()}: {imp.source} {verb} the project wiring {imp.target}")
            continue
        if LAYERS.index(target_app) > LAYERS.index(source_app):
            problems.append(f"{imp.where()}: {source_app} {verb} {target_app} ({imp.target}), which is to its right")
    return problems


def unlayered_modules() -> list[str]:
    return [
        f"{module} has no layer: put it in an app, or name it pure or project wiring"
        for module in source_files()
        if not has_layer(module)
    ]


def private_violations(imports: list[Import], uses: dict[str, list[tuple[str, int]]] | None = None) -> list[str]:
    problems = []
    for imp in imports:
        if imp.source in PROJECT or app_of(imp.source) == app_of(imp.target):
            continue
        private_modules = [part for part in imp.target.split(".") if is_private(part)]
        private_names = [name for name in imp.names if is_private(name)]
        for name in private_modules + private_names:
            problems.append(f"{imp.where()}: imports the private name {name} from {imp.target}")
    if uses is None:
        uses = {module: scan.private_uses for module, scan in scans().items()}
    for module, found in uses.items():
        if module in PROJECT:
            continue
        for name, line in found:
            if app_of(name) != app_of(module):
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
        if imp.kind in RUNTIME and imp.target in modules and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    return graph


def cycle_report(graph: dict[str, set[str]], imports: list[Import]) -> list[str]:
    problems = []
    for component in strongly_connected(graph):
        members = set(component)
        edges = sorted(
            f"{imp.where()} → {imp.target}{' (inside a function)' if imp.nested else ''}"
            + (f" ({imp.kind})" if imp.kind != IMPORT else "")
            for imp in imports
            if imp.kind in RUNTIME and imp.source in members and imp.target in members and imp.target != imp.source
        )
        problems.append("cycle between " + ", ".join(component) + ":\n    " + "\n    ".join(edges))
    return problems


# --- the tests ---------------------------------------------------------------------------------------------


def test_the_source_is_found_and_parsed() -> None:
    files = source_files()
    assert {"foresight.stats", "foresight.delphi.models", "scenarios.models", "bench.run"} <= set(files)
    assert "foresight.core.migrations.0001_auditlog" in files
    imports = project_imports()
    assert any(imp.nested for imp in imports), "function-level imports are read too"
    assert {imp.kind for imp in imports} >= {IMPORT, MODEL_REFERENCE, MIGRATION_DEPENDENCY}
    assert app_labels()["delphi"] == "foresight.delphi" and app_labels()["scenarios"] == "scenarios"


def test_every_module_has_a_layer() -> None:
    problems = unlayered_modules()
    assert not problems, "modules outside the layers:\n" + "\n".join(problems)


def test_apps_depend_only_on_apps_to_their_left() -> None:
    problems = layer_violations(project_imports())
    assert not problems, "dependencies against " + " ← ".join(LAYERS) + ":\n" + "\n".join(problems)


def test_the_exceptions_are_all_still_needed() -> None:
    seen = {(imp.source, imp.written) for imp in project_imports() if excepted(imp)}
    stale = sorted(set(EXCEPTIONS) - seen)
    assert not stale, "exceptions that no longer match anything (remove them):\n" + "\n".join(map(str, stale))
    unexcused = [imp for imp in project_imports() if excepted(imp) and not layer_violations([unexcepted(imp)])]
    assert not unexcused, "exceptions for dependencies that are allowed anyway (remove them):\n" + "\n".join(
        imp.where() for imp in unexcused
    )


def test_no_app_uses_another_apps_private_names() -> None:
    problems = private_violations(project_imports())
    assert not problems, "private names used across apps:\n" + "\n".join(problems)


def test_no_import_cycles_between_modules() -> None:
    imports = project_imports()
    problems = cycle_report(import_graph(imports), imports)
    assert not problems, "import cycles (top-level and function-level imports):\n" + "\n".join(problems)


def test_modules_are_imported_by_name_only_where_allowed() -> None:
    problems = [
        f"{module}:{line}: imports a module whose name is computed; list the module in DYNAMIC_IMPORTS with why"
        for module, scan in scans().items()
        for line in scan.dynamic_imports
        if module not in DYNAMIC_IMPORTS
    ]
    assert not problems, "\n".join(problems)


def test_function_level_imports_say_why() -> None:
    problems = [
        f"{module}:{line}: an import inside a function needs its reason in a comment (on the line or the one"
        " before), or belongs at the top of the module"
        for module, scan in scans().items()
        for line in scan.unexplained
    ]
    assert not problems, "\n".join(problems)


# --- the checks themselves catch what they are meant to catch ------------------------------------------------


def unexcepted(imp: Import) -> Import:
    """The same dependency, not excepted (its string forgotten)."""
    return Import(imp.source, imp.target, imp.names, imp.line, imp.nested, imp.kind, "")


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
        Import("foresight.public.views", "bench.views", (), 1, False),
        Import("bench.urls", "foresight.urls", ("urlpatterns",), 1, False),  # allowed: the benchmark is on top
        Import("foresight.delphi.views", "foresight.urls", ("urlpatterns",), 1, False),
    ]
    assert [p.split(": ", 1)[1] for p in layer_violations(bad)] == [
        "core imports delphi (foresight.delphi.models), which is to its right",
        "catalog imports scenarios (scenarios.models), which is to its right",
        "priorities imports public (foresight.public.views), which is to its right",
        "the pure module foresight.stats imports foresight.catalog.models",
        "public imports bench (bench.views), which is to its right",
        "foresight.delphi.views imports the project wiring foresight.urls",
    ]
    assert [p.split(": ", 1)[1] for p in private_violations(bad[5:6], {})] == [
        "imports the private name _median from foresight.delphi.services.aggregation"
    ]
    graph = {"foresight.delphi.tasks": {"foresight.delphi.services.rounds"}}
    graph["foresight.delphi.services.rounds"] = {"foresight.delphi.tasks"}
    (cycle,) = cycle_report(graph, bad)
    assert "inside a function" in cycle
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def probe(module: str, text: str, extra: tuple[str, ...] = ()) -> Scan:
    return scan_source(module, text, set(source_files()) | set(extra))


def test_private_names_are_found_through_any_path_to_the_module() -> None:
    agg = "foresight.delphi.services.aggregation"
    texts = [
        "import foresight.delphi.services.aggregation\nforesight.delphi.services.aggregation._r(1)\n",
        "from foresight.delphi import services\nservices.aggregation._r(1)\n",
        "from ..delphi.services import aggregation\naggregation._r(1)\n",
        "from ..delphi import services as s\ns.aggregation._r(1)\n",
        "import foresight.delphi.services.aggregation as a\na._r(1)\n",
        f"import importlib\na = importlib.import_module('{agg}')\na._r(1)\n",
    ]
    for text in texts:
        uses = {"foresight.priorities.scoring": probe("foresight.priorities.scoring", text).private_uses}
        assert [p.split(": ", 1)[1] for p in private_violations([], uses)] == [f"uses the private name {agg}._r"], text
    same_app = probe("foresight.delphi.selectors", "from .services import aggregation\naggregation._r(1)\n")
    assert not private_violations([], {"foresight.delphi.selectors": same_app.private_uses})
    attribute = probe("foresight.priorities.scoring", "from foresight.delphi.models import Study\nStudy._meta\n")
    assert attribute.private_uses == []  # a private attribute of a class, not of a module


def test_string_imports_count_as_imports() -> None:
    for text in [
        "import importlib\n\ndef f():\n    return importlib.import_module('foresight.public.views')\n",
        "from importlib import import_module as load\nload('foresight.public.views')\n",
        "__import__('foresight.public.views')\n",
        "from django.utils.module_loading import import_string\nimport_string('foresight.public.views.home')\n",
        "import importlib\nimportlib.import_module('..public.views', package='foresight.delphi')\n",
    ]:
        scan = probe("foresight.delphi.services.export", text)
        problems = layer_violations(scan.imports)
        assert [p.split(": ", 1)[1] for p in problems] == [
            "delphi imports by name public (foresight.public.views), which is to its right"
        ], text
    computed = probe("foresight.delphi.services.export", "import importlib\nimportlib.import_module(NAME)\n")
    assert computed.dynamic_imports == [2]


def test_a_module_outside_the_layers_is_reported() -> None:
    helper = probe("foresight.helpers_probe", "from foresight.public import views\n", ("foresight.helpers_probe",))
    user = probe("foresight.catalog.views", "from foresight import helpers_probe\n", ("foresight.helpers_probe",))
    modules = set(source_files()) | {"foresight.helpers_probe"}
    problems = layer_violations(helper.imports + user.imports, modules)
    assert len(problems) == 2 and all("foresight.helpers_probe has no layer" in p for p in problems)


def test_model_strings_migrations_and_app_labels_count_as_dependencies() -> None:
    model = probe(
        "foresight.catalog.models",
        "from django.db import models\n\nclass T(models.Model):\n"
        "    s = models.ForeignKey('delphi.Study', on_delete=models.CASCADE)\n"
        "    r = models.ManyToManyField(to='priorities.Edition')\n"
        "    a = models.ForeignKey('Area', on_delete=models.CASCADE)\n",
    )
    migration = probe(
        "foresight.catalog.migrations.0009_probe",
        "class Migration:\n    dependencies = [('scenarios', '0001_initial'), ('catalog', '0008_x')]\n",
    )
    labels = probe("foresight.core.cache", "from django.apps import apps\napps.get_app_config('catalog')\n")
    assert [p.split(": ", 1)[1] for p in layer_violations(model.imports + migration.imports + labels.imports)] == [
        "catalog refers to a model of delphi (foresight.delphi.models), which is to its right",
        "catalog refers to a model of priorities (foresight.priorities.models), which is to its right",
        "catalog has a migration that depends on scenarios (scenarios.migrations.0001_initial), which is to its right",
        "core names the app label of catalog (foresight.catalog), which is to its right",
    ]
    # The documented exception covers only what it names.
    audit = probe("foresight.core.models", "from django.db import models\nmodels.ForeignKey('delphi.Topic')\n")
    assert len(layer_violations(audit.imports)) == 1


def test_a_function_level_import_without_a_reason_is_reported() -> None:
    text = (
        "def f():\n"
        "    import json\n"  # 2: no reason
        "    import csv  # noqa: F401\n"  # 3: a pragma is no reason
        "    # Django must be configured first.\n"
        "    from django.conf import settings\n"  # 5: the line before
        "    from django.db import connection\n"  # 6: same run of imports
        "    import os  # the clock starts after this\n"  # 7: on the line
    )
    assert probe("bench.probe", text).unexplained == [2, 3]
