"""The weight table: every environment x version with its weight and image, from disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.credentials import scrub, shown
from meshgen.errors import ConfigError
from meshgen.repo import load_repo
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.weights import weight_problems


@dataclass(frozen=True)
class VersionRow:
    name: str
    weight: object
    """As written: normally an int; anything else is reported by `problems`."""
    repository: str
    tag: str
    replicas: int | None


@dataclass(frozen=True)
class EnvironmentWeights:
    environment: str
    app: str
    file: str
    versions: tuple[VersionRow, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "app": self.app,
            "file": self.file,
            "versions": [
                {
                    "name": row.name,
                    "weight": row.weight,
                    "image": {"repository": row.repository, "tag": row.tag},
                    "replicas": row.replicas,
                }
                for row in self.versions
            ],
            "problems": list(self.problems),
        }


def weight_table(repo_path: Path, app_name: str | None = None) -> list[EnvironmentWeights]:
    """Every environment's weights, of every app or of `app_name`; raises ConfigError when
    meshgen.yaml or an environment file cannot be read, or the app is unknown."""
    repo = load_repo(repo_path)
    apps = (repo.app(app_name),) if app_name is not None else repo.apps
    table = []
    for environment in repo.environments:
        for app in apps:
            path = repo.environment_file_path(environment.name, app.name)
            if not path.is_file():
                raise ConfigError(
                    f"environment {environment.name!r} has no file for {app.name}", path=path
                )
            env = EnvFile.read(path)
            traffic = env.raw_traffic
            rows = []
            for name in env.version_names:
                version = env.version(name)
                weight = traffic.get(name, 0)
                rows.append(
                    VersionRow(
                        shown(name),
                        weight if isinstance(weight, int) else shown(weight),
                        shown(version.repository),
                        shown(version.tag),
                        version.replicas,
                    )
                )
            problems = tuple(scrub(p.message) for p in weight_problems(env.version_names, traffic))
            table.append(
                EnvironmentWeights(
                    environment.name,
                    app.name,
                    path.relative_to(repo.root).as_posix(),
                    tuple(rows),
                    problems,
                )
            )
    return table
