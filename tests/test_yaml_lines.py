"""Reading to check (`yaml_lines.loads_with_lines`) answers exactly as the round-trip
reader does: the same values of the same types, the same line and column of every key,
value and item, the same errors. Validation reads every file people maintain this way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.yaml_lines import loads_with_lines

PROJECT = Path(__file__).resolve().parents[1]
# Every YAML file people maintain that the project holds: the chart's values, the default
# environment files, the template, the test cases (hostile and odd ones included).
CORPUS = sorted(
    path
    for folder in ("charts", "environments", "cookiecutter-template", "tests")
    for path in (PROJECT / folder).rglob("*.y*ml")
    if "templates" not in path.parts and "__pycache__" not in path.parts
)


def typed(value: Any) -> Any:
    """`value` as plain data that tells a boolean from an integer from a string."""
    if isinstance(value, dict):
        return {str(key): typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if yamlio.is_boolean(value):
        return ("bool", bool(value))
    for kind in (int, float, str):
        if isinstance(value, kind):
            return (kind.__name__, kind(value))
    return (type(value).__name__, repr(value))


def positions(node: Any, where: str = "") -> list[tuple[str, tuple[int, ...]]]:
    """Where ruamel says every mapping, sequence, key, value and item starts."""
    found: list[tuple[str, tuple[int, ...]]] = []
    if isinstance(node, dict):
        found.append((where, (node.lc.line, node.lc.col)))
        for key, value in node.items():
            # A key merged in (`<<`) has no position of its own.
            found.append((f"{where}.{key}", tuple((node.lc.data or {}).get(key, ()))))
            found += positions(value, f"{where}.{key}")
    elif isinstance(node, list):
        found.append((where, (node.lc.line, node.lc.col)))
        for index, item in enumerate(node):
            found.append((f"{where}[{index}]", tuple((node.lc.data or {}).get(index, ()))))
            found += positions(item, f"{where}[{index}]")
    return found


def outcome(read: Callable[[str, Path], Any], text: str, path: Path) -> tuple[str, Any]:
    try:
        tree = read(text, path)
    except ConfigError as exc:
        return "error", (str(exc), exc.line)
    return "tree", (typed(tree), positions(tree))


def assert_same(text: str, path: Path = Path("values.yaml")) -> None:
    assert outcome(loads_with_lines, text, path) == outcome(yamlio.loads_roundtrip, text, path)


def test_the_corpus_is_the_projects() -> None:
    assert len(CORPUS) > 300


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.relative_to(PROJECT).as_posix())
def test_every_yaml_file_of_the_project_reads_the_same(path: Path) -> None:
    assert_same(path.read_text(encoding="utf-8", errors="replace"), path)


def test_every_file_of_fresh_repositories_reads_the_same(
    repo_copy: Callable[[str], Path],
) -> None:
    checked = 0
    for engine in ("argocd", "flux"):
        root = repo_copy(engine)
        for path in sorted(root.rglob("*.y*ml")):
            if ".git" in path.parts or "templates" in path.parts:
                continue
            text = path.read_text()
            if "\n---" in text:
                continue  # streams of documents are read by split_documents
            assert_same(text, path)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "text",
    [
        "env: y\nother: n\n",  # YAML 1.1 booleans PyYAML reads as words
        "replicas: 1e3\nratio: 1.5e3\n",  # a float to Helm and ruamel, a word to PyYAML
        "mode: 0o17\nneg: -_1\nhalf: ._5\nodd: ._\n",
        "a: b\t\nc: 'd'\t\ne: x\ty\n",  # tabs: the round-trip reader refuses some
        "a: b\t\r\nc: d\r\n",
        'a: "x\u2028y"\nb: x\u2028y\nc: \x85\n',
        "\n\ufeffa: 1\n",
        "a: 1\n\ufeff\nb: 2\n",
        "a: |# c\n  x\n",
        "%YAML 1.2\n---\na: yes\n",
        "a: !!bool 'y'\nb: !!str 12\nc: !!omap [d: 1, e: 2]\nf: !!set {g: 1}\n",
        "a: 0b_\n",
        "a: 0x_\n",
        "a: &a\n  b: *a\n",  # an alias inside the node it names
        "a: &t true\nb: *t\nc: &n 3\nd: *n\n",  # anchored scalars
        "on: yes\noff: no\n",
        "key:\nnext: 1\n",  # an empty value: ruamel places it at the next token
        "a: &x {b: 1}\nc: *x\n",
        "a: &x\n  b: 1\nc:\n  <<: *x\n  d: 2\n",  # a merge key
        "when: 2024-01-01\n",  # a timestamp
        "tagged: !custom value\n",
        "a: 1\na: 2\n",  # a duplicate key
        "a: [1, 2\n",  # invalid YAML
        "? [complex]\n: key\n",
        "# only a comment\n",
        "",
        "- a\n- {b: c}\n- - d\n",
        'quoted: "1e3"\nsingle: \'y\'\nhost: "staging.acme.io"\n',
    ],
)
def test_what_the_fast_reader_leaves_to_the_round_trip_reads_the_same(text: str) -> None:
    assert_same(text)


def test_an_alias_bomb_is_refused_as_the_round_trip_refuses_it() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, "
        bomb += f"*{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
    with pytest.raises(ConfigError, match="aliases expand"):
        loads_with_lines(bomb, Path("bomb.yaml"))


def test_a_tree_read_to_check_has_every_line() -> None:
    tree = loads_with_lines("a: 1\nb:\n  c: [x, y]\n", Path("v.yaml"))
    assert yamlio.line_of(tree, "b") == 2
    assert yamlio.line_of_path(tree, ["b", "c", "1"]) == 3


def test_lines_of_documents_count_newlines_only() -> None:
    from meshgen.yaml_lines import DocumentLines

    text = 'a: "x\u2028y"\n---\nkind: K\nspec:\n  version: 1\n'
    documents = list(yamlio.split_documents(text, "pins.yaml"))
    assert [document.line for document in documents] == [1, 3]
    assert DocumentLines(text).line(3, ["spec", "version"]) == 5
