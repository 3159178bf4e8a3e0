"""The answers a repository was generated from, as its meshgen.yaml records them.

meshgen.yaml holds every answer of `meshgen new` (name, engine, region, domain, pins,
environments, the first app), so the template can be rendered again for the repository:
with its environments plus or minus one, or with a later template version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.repo import MANIFEST_NAME, Environment, Repo, load_repo
from meshgen.scaffold.answers import Answers


@dataclass(frozen=True)
class Recorded:
    """A repository, the answers its manifest records, and its template version."""

    repo: Repo
    answers: Answers
    template_version: int
    manifest: Any
    """The round-trip tree of meshgen.yaml (comments kept), for edits."""

    @property
    def root(self) -> Path:
        return self.repo.root

    def default_cluster(self, environment: str) -> str:
        return f"{self.answers.name}-{environment}"


def read(path: Path) -> Recorded:
    repo = load_repo(path)
    manifest = yamlio.load_roundtrip(repo.manifest_path)
    where = repo.manifest_path

    def text(mapping: Any, key: str) -> str:
        value = mapping.get(key) if isinstance(mapping, Mapping) else None
        if value in (None, ""):
            raise ConfigError(
                f"missing `{key}`, which meshgen needs to render the template again; "
                "restore it from the first commit",
                path=where,
                line=yamlio.line_of(mapping),
            )
        return str(value)

    generator = manifest.get("meshgen")
    version = generator.get("template") if isinstance(generator, Mapping) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(
            "missing `meshgen.template`, the template version the repository was written "
            "with; set it to 1 for a repository written before it was recorded",
            path=where,
            line=yamlio.line_of(manifest, "meshgen"),
        )
    cluster = manifest.get("cluster")
    pins = manifest.get("versions")
    answers = Answers(
        name=repo.name,
        gitops=repo.gitops,
        environments=tuple(e.name for e in repo.environments),
        region=text(cluster, "region"),
        domain=text(manifest, "domain"),
        acme_email=text(manifest, "acmeEmail"),
        repo_url=text(manifest, "repoUrl"),
        kubernetes_version=repo.kubernetes_version,
        istio_version=text(pins, "istio"),
        cert_manager_version=text(pins, "certManager"),
        app_name=repo.apps[0].name,
    )
    return Recorded(repo=repo, answers=answers, template_version=version, manifest=manifest)


def environment_entry(environment: Environment) -> dict[str, str]:
    return {
        "name": environment.name,
        "namespace": environment.namespace,
        "cluster": environment.cluster,
    }


def manifest_relpath() -> str:
    return MANIFEST_NAME
