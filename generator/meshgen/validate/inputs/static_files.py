"""Plain objects: the YAML files under cluster/, platform/ and gitops/, or files given."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshgen import safefs, yamlio
from meshgen.errors import ConfigError
from meshgen.render import Manifest
from meshgen.repo import STATIC_DIRS
from meshgen.validate.findings import STDIN_NAME
from meshgen.validate.inputs.parsed_cache import ParsedDocuments

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class StaticFile:
    """A YAML file under cluster/, platform/ or gitops/: its objects, or why not.

    `documents` holds the file's other documents (Helm values files have no kind), which
    the mesh analyzers read for what the platform charts install, with the line each
    starts on.
    """

    path: Path
    objects: tuple[Manifest, ...]
    error: ConfigError | None = None
    documents: tuple[yamlio.Document, ...] = field(default=(), repr=False)


# Names a path as findings show it (repository-relative, POSIX).
Relative = Callable[[Path], str]


def repo_static_files(
    root: Path, rel: Relative, parsed: ParsedDocuments | None = None
) -> list[StaticFile]:
    """Every YAML file under the static folders, parsed; values files yield no objects."""
    files = []
    for folder in STATIC_DIRS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            # A FIFO or device is handed to the reader, which refuses it as a finding.
            if path.suffix not in (".yaml", ".yml") or path.is_dir():
                continue
            files.append(_load(path, rel, parsed))
    return files


def given_files(
    names: Sequence[str], rel: Relative, parsed: ParsedDocuments | None = None
) -> list[StaticFile]:
    """The files named (folders are searched for YAML and JSON files; `-` is stdin)."""
    files = []
    for name in names:
        if name == "-":
            text = safefs.read_stream(sys.stdin, STDIN_NAME)
            files.append(_parse(Path(STDIN_NAME), STDIN_NAME, text, parsed))
            continue
        path = Path(name)
        if path.is_dir():
            files.extend(
                _load(child, rel, parsed)
                for child in sorted(path.rglob("*"))
                if child.suffix in _MANIFEST_SUFFIXES and child.is_file()
            )
        else:
            files.append(_load(path, rel, parsed))
    return files


def _load(path: Path, rel: Relative, parsed: ParsedDocuments | None) -> StaticFile:
    try:
        text = yamlio.read_text(path)
    except ConfigError as exc:
        return StaticFile(path, (), exc)
    return _parse(path, rel(path), text, parsed)


def _parse(path: Path, source: str, text: str, parsed: ParsedDocuments | None) -> StaticFile:
    try:
        documents = (parsed or ParsedDocuments(None)).split(text, source)
    except ConfigError as exc:
        return StaticFile(path, (), exc)
    objects: list[Manifest] = []
    others: list[yamlio.Document] = []
    for document in documents:
        data = document.data
        if isinstance(data, Mapping) and "apiVersion" in data and "kind" in data:
            objects.extend(_objects(source, document.line, data))
        else:
            others.append(document)
    return StaticFile(path, tuple(objects), documents=tuple(others))


def _objects(source: str, line: int, data: Mapping[str, Any]) -> Iterator[Manifest]:
    items = data.get("items")
    if data.get("kind") == "List" and isinstance(items, list):
        yield from (Manifest(source, line, "", item) for item in items if isinstance(item, Mapping))
    else:
        yield Manifest(source, line, "", data)
