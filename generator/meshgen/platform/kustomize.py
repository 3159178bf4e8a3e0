"""What a folder of this repository applies, as kustomize (and so Flux) builds it.

A folder with a kustomization.yaml applies its `resources` (files, and folders built the
same way, recursively) and the ConfigMaps and Secrets its generators make. A folder
without one applies every YAML file under it, as kustomize-controller generates the
kustomization itself. Remote resources are not followed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.platform.objects import in_repo, items, mapping, text

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class Generated:
    """A ConfigMap or Secret a kustomization generates, and the files it reads."""

    kind: str
    name: str
    namespace: str
    files: tuple[tuple[str, str], ...]
    """(data key, repository-relative path) pairs."""
    source: str
    """The kustomization that generates it."""


@dataclass
class Build:
    """The repository files one folder applies, and the objects its generators make."""

    files: list[str] = field(default_factory=list)
    generated: dict[tuple[str, str], Generated] = field(default_factory=dict)

    def generated_file(self, kind: str, name: str, key: str) -> str | None:
        """The file behind `key` of a generated ConfigMap or Secret (any namespace)."""
        for (found_kind, found_name), item in self.generated.items():
            if (found_kind, found_name) == (kind, name):
                return next((path for k, path in item.files if k == key), None)
        return None


# Reads a repository-relative YAML file (None when absent or unreadable).
Loader = Callable[[str], Any]


def build(root: Path, folder: str, load: Loader | None = None) -> Build:
    """Everything `folder` (repository-relative) applies."""
    result = Build()
    _build(root, in_repo(folder), result, set(), "", load or partial(_load, root))
    return result


def _load(root: Path, relative: str) -> Any:
    try:
        return yamlio.load_roundtrip(root / relative)
    except ConfigError:
        return None


def _build(
    root: Path, folder: str, result: Build, seen: set[str], namespace: str, load: Loader
) -> None:
    if folder in seen or not (root / folder).is_dir():
        return
    seen.add(folder)
    kustomization = next(
        (f"{folder}/{name}" for name in KUSTOMIZATION_FILES if (root / folder / name).is_file()),
        None,
    )
    if kustomization is None:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                result.files.append(path.relative_to(root).as_posix())
        return
    data = mapping(load(kustomization))
    # The innermost `namespace:` is applied last by kustomize, so the outermost wins.
    namespace = namespace or text(data.get("namespace"))
    for entry in items(data.get("resources")):
        reference = text(entry)
        if not reference or "://" in reference:
            continue
        target = in_repo(posixpath.join(folder, reference))
        if (root / target).is_dir():
            _build(root, target, result, seen, namespace, load)
        elif (root / target).is_file() and target not in result.files:
            result.files.append(target)
    for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for generator in items(data.get(key)):
            _generate(kind, mapping(generator), folder, kustomization, namespace, result)


def _generate(
    kind: str,
    generator: Mapping[str, object],
    folder: str,
    kustomization: str,
    namespace: str,
    result: Build,
) -> None:
    name = text(generator.get("name"))
    if not name:
        return
    files = []
    for entry in items(generator.get("files")):
        key, _, path = text(entry).rpartition("=")
        relative = in_repo(posixpath.join(folder, path))
        files.append((key or posixpath.basename(path), relative))
    existing = result.generated.get((kind, name))
    if existing is not None and text(generator.get("behavior")) == "merge":
        # An overlay's `behavior: merge` adds keys to the base's generator; its keys win.
        keys = {key for key, _ in files}
        files = [*(pair for pair in existing.files if pair[0] not in keys), *files]
    result.generated[(kind, name)] = Generated(
        kind,
        name,
        namespace or text(generator.get("namespace")),
        tuple(files),
        kustomization,
    )
