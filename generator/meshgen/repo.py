"""The model of a generated repository: what `meshgen.yaml` declares and where files are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.credentials import short
from meshgen.errors import ConfigError

MANIFEST_NAME = "meshgen.yaml"
ENVIRONMENTS_DIR = "environments"
CHARTS_DIR = "charts"
# Folders of a generated repo that hold plain objects (and Helm values files, which
# have no apiVersion/kind and are not objects).
STATIC_DIRS = ("cluster", "platform", "gitops")
# Environment and app names become folder and file names: a DNS label cannot hold `/`
# or `..`, so a name can never lead out of the repository.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


@dataclass(frozen=True)
class Environment:
    name: str
    namespace: str
    cluster: str


@dataclass(frozen=True)
class App:
    name: str
    chart: str


@dataclass(frozen=True)
class Repo:
    """A generated repository as declared by its manifest."""

    root: Path
    name: str
    gitops: str
    kubernetes_version: str
    environments: tuple[Environment, ...]
    apps: tuple[App, ...]

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    def environment(self, name: str) -> Environment:
        for environment in self.environments:
            if environment.name == name:
                return environment
        known = ", ".join(e.name for e in self.environments) or "none"
        raise ConfigError(
            f"unknown environment {name!r}; {MANIFEST_NAME} declares: {known}",
            path=self.manifest_path,
        )

    def app(self, name: str | None = None) -> App:
        if name is None:
            return self.apps[0]
        for app in self.apps:
            if app.name == name:
                return app
        known = ", ".join(a.name for a in self.apps)
        raise ConfigError(
            f"unknown app {name!r}; {MANIFEST_NAME} declares: {known}", path=self.manifest_path
        )

    def environment_file_path(self, environment: str, app: str) -> Path:
        return self.root / ENVIRONMENTS_DIR / environment / f"{app}.yaml"

    def chart_path(self, app: App) -> Path:
        return self.root / app.chart


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds a meshgen.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    raise ConfigError(
        f"not a meshgen repository: no {MANIFEST_NAME} in {start} or above; "
        "run meshgen inside a repository (or `meshgen -C DIR ...`), "
        "or create one with `meshgen new`"
    )


def load_repo(path: Path) -> Repo:
    """Read the repository at or above `path`.

    Only what commands need to find their files is checked here; `meshgen validate`
    reports everything else as findings.
    """
    root = find_root(path)
    manifest_path = root / MANIFEST_NAME
    data = yamlio.load_roundtrip(manifest_path)
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping at the top level", path=manifest_path, line=1)
    return repo_from_manifest(root, data)


def exported_repo(root: Path) -> Repo | None:
    """The repository whose files lie at `root` (one side of a diff), or None when `root`
    has no meshgen.yaml or one that cannot be read (a commit from before meshgen, or a
    broken one, which `meshgen validate` reports)."""
    if not (root / MANIFEST_NAME).is_file():
        return None
    try:
        return load_repo(root)
    except ConfigError:
        return None


def repo_from_manifest(root: Path, data: Mapping[str, Any]) -> Repo:
    manifest_path = root / MANIFEST_NAME

    def required(mapping: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in mapping or mapping[key] in (None, ""):
            raise ConfigError(
                f"missing `{where}{key}`", path=manifest_path, line=yamlio.line_of(mapping)
            )
        return mapping[key]

    cluster = required(data, "cluster", "")
    if not isinstance(cluster, Mapping):
        raise ConfigError("`cluster` must be a mapping", path=manifest_path)
    environments_data = required(data, "environments", "")
    apps_data = required(data, "apps", "")
    if not isinstance(environments_data, list) or not isinstance(apps_data, list):
        raise ConfigError("`environments` and `apps` must be lists", path=manifest_path)

    environments: list[Environment] = []
    for entry in environments_data:
        if not isinstance(entry, Mapping):
            raise ConfigError(
                "each environment must be a mapping with a `name`",
                path=manifest_path,
                line=yamlio.line_of(environments_data),
            )
        name = _label(required(entry, "name", "environments[]."), "environment", manifest_path)
        environments.append(
            Environment(
                name=name,
                namespace=str(entry.get("namespace") or name),
                cluster=str(entry.get("cluster") or cluster.get("name", "")),
            )
        )
    apps: list[App] = []
    for entry in apps_data:
        if not isinstance(entry, Mapping):
            raise ConfigError(
                "each app must be a mapping with a `name` and a `chart`",
                path=manifest_path,
                line=yamlio.line_of(apps_data),
            )
        chart = str(required(entry, "chart", "apps[]."))
        if Path(chart).is_absolute() or ".." in Path(chart).parts:
            raise ConfigError(
                f"app chart {short(chart)} must be a folder inside the repository",
                path=manifest_path,
                line=yamlio.line_of(entry, "chart"),
            )
        apps.append(
            App(name=_label(required(entry, "name", "apps[]."), "app", manifest_path), chart=chart)
        )
    return Repo(
        root=root,
        name=str(required(data, "name", "")),
        gitops=str(data.get("gitops", "")),
        kubernetes_version=str(required(cluster, "kubernetesVersion", "cluster.")),
        environments=tuple(environments),
        apps=tuple(apps),
    )


def _label(value: Any, what: str, manifest_path: Path) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise ConfigError(
            f"{what} name {short(value)} is not a DNS label (lowercase letters, digits "
            "and '-', at most 63); rename it in meshgen.yaml",
            path=manifest_path,
        )
    return value
