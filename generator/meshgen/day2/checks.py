"""What `meshgen validate` checks of day-2 changes: platform pins every environment
agrees on (or records as its own), and apps that render disjoint objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.day2 import pins as pinning
from meshgen.errors import ConfigError
from meshgen.render import Rendering
from meshgen.repo import MANIFEST_NAME, Repo, load_repo


@dataclass(frozen=True)
class Spot:
    path: str
    line: int
    message: str


def left_behind(repo: Repo, manifest: Any) -> Iterator[Spot]:
    """Pins that differ from what meshgen.yaml records for their environment."""
    found = pinning.find(repo)
    for component in sorted({p.component for p in found}):
        shared, explicit = pinning.recorded(manifest, component)
        if shared is None and not explicit:
            continue
        for environment, releases in sorted(pinning.effective(found, component).items()):
            expected = explicit.get(environment, shared)
            for pin in releases.values():
                if expected is None or pin.version == expected:
                    continue
                where = (
                    f"its own pin environments[{environment}].versions"
                    if environment in explicit
                    else "versions"
                )
                yield Spot(
                    pin.path,
                    pin.line,
                    f"{environment} runs {component} {pin.version} ({pin.release}) but "
                    f"{MANIFEST_NAME} records {expected} ({where}): the environment is left "
                    f"behind; run `meshgen platform upgrade {component} {expected} --env "
                    f"{environment}`, or record the version it runs on purpose under "
                    f"environments[{environment}].versions",
                )


_CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer"})


def shared_objects(
    renderings: Iterable[Rendering], namespaces: Mapping[str, str]
) -> Iterator[Spot]:
    """Objects two apps render in one environment: their releases would fight over them."""
    owners: dict[tuple[str, str, str, str, str], tuple[str, str, int]] = {}
    for rendering in renderings:
        for manifest in rendering.manifests:
            namespace = (
                ""
                if manifest.kind in _CLUSTER_SCOPED
                else manifest.namespace or namespaces.get(rendering.environment, "")
            )
            key = (
                rendering.environment,
                manifest.api_version.split("/")[0] if "/" in manifest.api_version else "",
                manifest.kind,
                namespace,
                manifest.name,
            )
            first = owners.setdefault(key, (rendering.app, manifest.source, manifest.line))
            if first[0] != rendering.app:
                shown = "/".join(p for p in (manifest.kind, namespace, manifest.name) if p)
                yield Spot(
                    manifest.source,
                    manifest.line,
                    f"{shown} in {rendering.environment} is rendered by {first[0]} "
                    f"({first[1]}) and by {rendering.app}: each object must belong to one "
                    "app; leave namespaces to the GitOps layer (namespace.create: false) "
                    "and give each app its own names",
                )


def pin_versions(root: Path) -> dict[tuple[str, str], str]:
    """(environment, component) -> the version(s) its pins name, for `meshgen diff`."""
    if not (root / MANIFEST_NAME).is_file():
        return {}
    try:
        repo = load_repo(root)
    except ConfigError:
        return {}
    found = pinning.find(repo)
    versions: dict[tuple[str, str], str] = {}
    for component in sorted({p.component for p in found}):
        for environment, releases in pinning.effective(found, component).items():
            named = sorted({pin.version for pin in releases.values()})
            versions[(environment, component)] = "/".join(named)
    return versions


def pin_changes(base: Path, head: Path) -> list[str]:
    """`staging: istio 1.30.3 -> 1.30.4` for each environment whose platform moves."""
    before, after = pin_versions(base), pin_versions(head)
    changes = []
    for environment, component in sorted({*before, *after}):
        old = before.get((environment, component))
        new = after.get((environment, component))
        if old != new and old is not None and new is not None:
            changes.append(f"{environment}: {component} {old} -> {new}")
    return changes
