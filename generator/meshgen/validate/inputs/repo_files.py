"""meshgen's own files as validation reads them: the config and the environment files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.repo import App, Environment, Repo, repo_from_manifest
from meshgen.validate.schemas import meshgen_files
from meshgen.yaml_lines import load_with_lines


@dataclass(frozen=True)
class LoadedFile:
    """A YAML file a person maintains: its round-trip tree, or why it could not be read."""

    path: Path
    data: Any
    error: ConfigError | None = None


@dataclass(frozen=True)
class EnvironmentFileRef:
    """The environment file of one app in one environment (the chart's values file)."""

    environment: Environment
    app: App
    file: LoadedFile
    contents: EnvironmentFile | None = None
    """The file as `meshgen.environment_file` read it; None when it could not be read."""


def load(path: Path) -> LoadedFile:
    """A file people maintain, read to check: values and lines, no comments."""
    try:
        return LoadedFile(path, load_with_lines(path))
    except ConfigError as exc:
        return LoadedFile(path, None, exc)


def repo_model(root: Path, config: LoadedFile) -> Repo | ConfigError | None:
    """The repo model, when the config is readable and well-formed; else what stops the
    model being built (an app chart outside the repository, say), or None when the config
    is unreadable (reported as such)."""
    if config.error is not None or not isinstance(config.data, Mapping):
        return None
    try:
        return repo_from_manifest(root, config.data)
    except ConfigError as exc:
        return exc


def environment_files(repo: Repo, environments: Sequence[Environment]) -> list[EnvironmentFileRef]:
    return [
        _environment_file(environment, app, repo.environment_file_path(environment.name, app.name))
        for environment in environments
        for app in repo.apps
    ]


def _environment_file(environment: Environment, app: App, path: Path) -> EnvironmentFileRef:
    try:
        contents = EnvironmentFile.read_to_check(path)
    except ConfigError as exc:
        return EnvironmentFileRef(environment, app, LoadedFile(path, None, exc))
    return EnvironmentFileRef(environment, app, LoadedFile(path, contents.tree), contents)


def schema_errors(
    files: Sequence[EnvironmentFileRef],
) -> dict[Path, list[meshgen_files.SchemaError]]:
    return {
        ref.file.path: meshgen_files.check_environment_file(ref.file.data)
        for ref in files
        if ref.file.error is None
    }


def value_position(mapping: Any, key: str) -> tuple[int, int] | None:
    """1-based (line, column) of the value of `key` in a round-trip mapping, if recorded."""
    lc = getattr(mapping, "lc", None)
    if lc is None or not isinstance(mapping, Mapping) or key not in mapping:
        return None
    try:
        line, column = lc.value(key)
    except (KeyError, TypeError):
        return None
    return int(line) + 1, int(column) + 1
