"""The repository's plain objects, indexed, and read defensively.

A hand-edited file may hold anything where a map is expected; the readers here return an
empty value instead of failing, so the checks report what they can.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from meshgen.render import Manifest
from meshgen.repo import STATIC_DIRS


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def at(value: Any, *keys: str) -> Any:
    for key in keys:
        value = mapping(value).get(key)
    return value


def of_kind(manifest: Manifest, group: str, kind: str) -> bool:
    return manifest.kind == kind and manifest.api_version.startswith(f"{group}/")


def in_repo(path: str) -> str:
    """A path inside the repository, normalised (`./a/../b/` -> `b`)."""
    return posixpath.normpath(path.strip().lstrip("/")) if path.strip() else "."


def load_static_objects(root: Path) -> list[Manifest]:
    """The objects of the YAML files under cluster/, platform/ and gitops/ of `root`.

    For a tree exported from git (`meshgen diff`): links are skipped, never followed, and
    a file that cannot be read or parsed holds no objects (validate reports it).
    """
    from meshgen import yamlio
    from meshgen.errors import ConfigError

    found: list[Manifest] = []
    for folder in STATIC_DIRS:
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else ():
            if path.suffix not in (".yaml", ".yml") or path.is_symlink() or not path.is_file():
                continue
            source = path.relative_to(root).as_posix()
            try:
                documents = list(yamlio.split_documents(yamlio.read_text(path), source))
            except ConfigError:
                continue
            for document in documents:
                data = document.data
                if isinstance(data, Mapping) and "apiVersion" in data and "kind" in data:
                    found.append(Manifest(source, document.line, "", data))
    return found


def line_of_text(root: Path, manifest: Manifest, needle: str) -> int:
    """The first line at or after the object's start that contains `needle`."""
    from meshgen import yamlio
    from meshgen.errors import ConfigError

    try:
        # Read as every repository file is: confined, a regular file, bounded in size.
        lines = yamlio.read_text(root / manifest.source).splitlines()
    except (ConfigError, OSError):
        return manifest.line
    for number in range(manifest.line, len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return manifest.line


@dataclass(frozen=True)
class Objects:
    """The plain objects of a repository (cluster/, platform/, gitops/), with its root."""

    root: Path
    all: Sequence[Manifest]
    _yaml: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def load_yaml(self, relative: str) -> Any:
        """A repository file's tree with lines (read to check, not to edit), read once;
        None when absent or unreadable."""
        if relative not in self._yaml:
            from meshgen.errors import ConfigError
            from meshgen.yaml_lines import load_with_lines

            path = self.root / relative
            try:
                self._yaml[relative] = load_with_lines(path) if path.is_file() else None
            except ConfigError:
                self._yaml[relative] = None
        return self._yaml[relative]

    @cached_property
    def by_file(self) -> Mapping[str, tuple[Manifest, ...]]:
        grouped: dict[str, list[Manifest]] = {}
        for manifest in self.all:
            grouped.setdefault(manifest.source, []).append(manifest)
        return {source: tuple(found) for source, found in grouped.items()}

    def of(self, group: str, kind: str) -> Iterator[Manifest]:
        return (m for m in self.all if of_kind(m, group, kind))

    @cached_property
    def _by_kind_and_name(self) -> Mapping[tuple[str, str], tuple[Manifest, ...]]:
        grouped: dict[tuple[str, str], list[Manifest]] = {}
        for manifest in self.all:
            grouped.setdefault((manifest.kind, manifest.name), []).append(manifest)
        return {key: tuple(found) for key, found in grouped.items()}

    def named(self, kind: str, name: str, namespace: str = "") -> list[Manifest]:
        """Objects of `kind` called `name`; an object without a namespace matches any."""
        return [
            m
            for m in self._by_kind_and_name.get((kind, name), ())
            if not namespace or not m.namespace or m.namespace == namespace
        ]
