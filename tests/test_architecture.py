"""The package's shape: imports go one way down the layers, no circles, small modules.

Read from the source with `ast`, without importing meshgen, so that a circle shows up as
a failing test naming the modules, not as an ImportError somewhere else.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "meshgen"
MAX_MODULE_LINES = 400

# Modules still over the limit while they are being split; empty it as they shrink.
OVERSIZED_MODULES_BEING_SPLIT: frozenset[str] = frozenset()

# The units of the package, lowest first: a unit imports only units of lower layers.
PACKAGE_LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "severity", "cache_folder"}),
    frozenset({"safefs"}),
    frozenset({"credentials"}),
    frozenset({"tools", "resources", "yamlio", "domains", "upstream"}),
    frozenset({"yaml_lines"}),
    frozenset({"repo", "environment_file", "helm", "git"}),
    frozenset({"render", "pins"}),
    frozenset({"platform"}),
    frozenset({"kubectl", "traffic", "doctor"}),
    frozenset({"scaffold", "validate"}),
    frozenset({"report", "day2"}),
    frozenset({"cli"}),
    frozenset({"__main__"}),
)

# Inside validate/: data, then readers, then rules, then the engine.
VALIDATE_LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"findings"}),
    frozenset({"options", "schemas"}),
    frozenset({"inputs"}),
    frozenset({"context"}),
    frozenset({"facts"}),
    frozenset({"rules"}),
    frozenset({"registry"}),
    frozenset({"engine"}),
)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:`, which never run."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(package: Path) -> list[Import]:
    """meshgen-internal imports that run (at import time or inside a function)."""
    known = modules(package)
    root = package.name
    found = []
    for name, path in known.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import sub` imports the submodule when there is one.
                targets = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in known
                    else node.module
                    for alias in node.names
                ]
            for target in targets:
                if target.split(".")[0] == root and target != name:
                    found.append(Import(name, target, getattr(node, "lineno", 0)))
    return found


def circles(edges: Iterator[tuple[str, str]] | list[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _layer(unit: str, layers: tuple[frozenset[str], ...]) -> int | None:
    return next((rank for rank, members in enumerate(layers) if unit in members), None)


def layer_violations(
    found: list[Import], layers: tuple[frozenset[str], ...], parent: str
) -> list[str]:
    """Imports between two units of `parent` (its direct children) against the layers."""
    depth = len(parent.split("."))
    problems = []
    for entry in found:
        source, target = entry.importer.split("."), entry.imported.split(".")
        if len(source) <= depth or len(target) <= depth:
            continue
        if ".".join(source[:depth]) != parent or ".".join(target[:depth]) != parent:
            continue
        if source[depth] == target[depth]:
            continue
        mine, theirs = _layer(source[depth], layers), _layer(target[depth], layers)
        if mine is None or theirs is None:
            problems.append(f"{entry.importer}:{entry.line}: unit missing from the layer map")
        elif theirs >= mine:
            problems.append(f"{entry.importer}:{entry.line} imports {entry.imported}")
    return problems


def oversized(package: Path, limit: int) -> list[str]:
    return [
        f"{path.relative_to(package.parent).as_posix()} ({lines} lines)"
        for path in sorted(package.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > limit
    ]


# -- the package ------------------------------------------------------------------------


def test_no_import_circle() -> None:
    found = imports(PACKAGE)
    assert circles([(i.importer, i.imported) for i in found]) == []


def test_units_import_only_lower_layers() -> None:
    assert layer_violations(imports(PACKAGE), PACKAGE_LAYERS, "meshgen") == []


def test_validate_goes_data_readers_rules_engine() -> None:
    assert layer_violations(imports(PACKAGE), VALIDATE_LAYERS, "meshgen.validate") == []


def test_only_the_registry_imports_rules() -> None:
    rules = "meshgen.validate.rules"
    importers = {
        i.importer
        for i in imports(PACKAGE)
        if i.imported == rules or i.imported.startswith(f"{rules}.")
    }
    assert importers == {"meshgen.validate.registry"}


def test_no_module_over_the_limit() -> None:
    too_long = [
        entry
        for entry in oversized(PACKAGE, MAX_MODULE_LINES)
        if entry.split(" ")[0] not in OVERSIZED_MODULES_BEING_SPLIT
    ]
    assert too_long == []


# Environment variables are configuration, read by the command line and handed down as
# options; below it only git's own variables are read (the author git would record) and
# the environment is passed on to a child process, which reads nothing itself.
ENVIRONMENT_READERS_BELOW_CLI = {"meshgen/git/identity.py", "meshgen/git/plumbing.py"}


def environment_reads(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        if relative.startswith("meshgen/cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            reads_os = (
                isinstance(node, ast.Attribute)
                and node.attr in {"environ", "environb", "getenv"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            )
            imports_from_os = isinstance(node, ast.ImportFrom) and node.module == "os"
            if reads_os or imports_from_os:
                found.append(relative)
                break
    return found


def test_environment_variables_are_read_only_by_the_command_line() -> None:
    assert set(environment_reads(PACKAGE)) <= ENVIRONMENT_READERS_BELOW_CLI


def test_the_exceptions_are_still_needed() -> None:
    """An exception that no longer applies is removed, so it cannot hide a new one."""
    still_long = {entry.split(" ")[0] for entry in oversized(PACKAGE, MAX_MODULE_LINES)}
    assert still_long >= OVERSIZED_MODULES_BEING_SPLIT


# -- the checks themselves catch what they are for ------------------------------------


def _write_package(root: Path, files: Mapping[str, str]) -> Path:
    package = root / "meshgen"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_a_circle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from meshgen import b\n",
            "b.py": "def f():\n    import meshgen.a\n",
            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import meshgen.a\n",
        },
    )
    found = imports(package)
    assert circles([(i.importer, i.imported) for i in found]) == [["meshgen.a", "meshgen.b"]]


@pytest.mark.parametrize(
    ("source", "violations"),
    [
        ("from meshgen import render\n", ["meshgen.yamlio:1 imports meshgen.render"]),
        ("from meshgen.errors import X\n", []),
    ],
)
def test_an_import_up_the_layers_is_found(
    tmp_path: Path, source: str, violations: list[str]
) -> None:
    package = _write_package(
        tmp_path,
        {"__init__.py": "", "errors.py": "", "render.py": "", "yamlio.py": source},
    )
    assert layer_violations(imports(package), PACKAGE_LAYERS, "meshgen") == violations


def test_a_long_module_is_found(tmp_path: Path) -> None:
    package = _write_package(tmp_path, {"__init__.py": "", "long.py": "x = 1\n" * 401})
    assert oversized(package, MAX_MODULE_LINES) == ["meshgen/long.py (401 lines)"]


def _whole_value_patterns_ending_in_dollar(tree: ast.AST) -> Iterator[int]:
    """Lines of `re.compile("^...$")` without MULTILINE: `$` also matches before a final
    newline, so `"on\\n"` would pass a check meant for `on` alone."""
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        pattern = node.args[0].value
        flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
        flags += "".join(ast.unparse(k.value) for k in node.keywords)
        multiline = "MULTILINE" in flags or "re.M" in flags or pattern.startswith("(?m)")
        if pattern.startswith("^") and pattern.endswith("$") and not multiline:
            yield node.lineno


def test_patterns_that_check_a_whole_value_end_with_backslash_z() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _whole_value_patterns_ending_in_dollar(ast.parse(path.read_text()))
    ]
    assert found == [], "end these patterns with \\Z, not $: " + ", ".join(found)
