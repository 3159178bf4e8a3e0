"""What a change does to the platform and the GitOps wiring, environment by environment.

Compared between two exported trees: the chart version of each platform release, its
merged values (every values file and inline value, in Helm's order), the plain objects
under cluster/, platform/ and gitops/, and, when the chart repository answers, the
platform charts rendered with those values. Files a cluster receives that changed are
listed too, so a change is never reported as none.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import MeshgenError
from meshgen.helm.base import HelmBackend
from meshgen.helm.worker import is_manifest_source
from meshgen.platform.charts import ChartRepositories
from meshgen.platform.objects import Objects, load_static_objects
from meshgen.platform.releases import ChartRelease, releases_by_environment
from meshgen.platform.values import merged_user_values
from meshgen.render import Manifest
from meshgen.repo import exported_repo

# What reaches a cluster: everything but documentation and CI configuration.
DEPLOYED = ("meshgen.yaml", "cluster/", "platform/", "gitops/", "charts/", "environments/")

# Reads the plain objects of an exported tree.
ObjectLoader = Callable[[Path], Sequence[Manifest]]


@dataclass(frozen=True)
class ReleaseState:
    """A platform release at one ref."""

    chart: str
    version: str
    repository: str
    namespace: str
    name: str
    values: Mapping[str, Any]

    @property
    def values_text(self) -> str:
        return yamlio.dump_manifest(dict(self.values)) if self.values else ""


@dataclass(frozen=True)
class PlatformDiff:
    versions: tuple[str, ...] = ()
    """`istiod 1.30.3 → 1.31.0 (production)`, one per release whose version changed."""
    values: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    rendered: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    changed_files: tuple[str, ...] = ()

    @property
    def shown(self) -> bool:
        """Whether there is a platform change to show (files aside)."""
        return bool(self.versions or self.values or self.objects or self.rendered or self.notes)


def release_states(root: Path, load: ObjectLoader) -> dict[str, dict[str, ReleaseState]]:
    """Environment -> release name -> state, for the repository exported at `root`."""
    repo = exported_repo(root)
    if repo is None:
        return {}
    objects = Objects(root, load(root))
    clusters = {env.name: env.cluster for env in repo.environments}
    states: dict[str, dict[str, ReleaseState]] = {}
    for environment, found in releases_by_environment(objects, repo.gitops, clusters).items():
        states[environment] = {release.name: _state(release) for release in found}
    return states


def _state(release: ChartRelease) -> ReleaseState:
    return ReleaseState(
        release.chart,
        release.version,
        release.repository,
        release.namespace,
        release.name,
        merged_user_values(release.values),
    )


def version_changes(
    base: Mapping[str, Mapping[str, ReleaseState]], head: Mapping[str, Mapping[str, ReleaseState]]
) -> list[str]:
    lines = []
    for environment in dict.fromkeys([*base, *head]):
        old, new = base.get(environment, {}), head.get(environment, {})
        for name in dict.fromkeys([*old, *new]):
            before, after = old.get(name), new.get(name)
            if before is None and after is not None:
                lines.append(f"{after.chart} {after.version} added ({environment})")
            elif after is None and before is not None:
                lines.append(f"{before.chart} {before.version} removed ({environment})")
            elif before is not None and after is not None and before.version != after.version:
                lines.append(f"{after.chart} {before.version} → {after.version} ({environment})")
    return lines


def values_diff(
    base: Mapping[str, Mapping[str, ReleaseState]], head: Mapping[str, Mapping[str, ReleaseState]]
) -> list[str]:
    lines: list[str] = []
    for environment in dict.fromkeys([*base, *head]):
        old, new = base.get(environment, {}), head.get(environment, {})
        for name in dict.fromkeys([*old, *new]):
            before = old[name].values_text if name in old else ""
            after = new[name].values_text if name in new else ""
            lines.extend(_unified(before, after, f"{environment}/{name} (values)"))
    return lines


def objects_diff(base: Sequence[Manifest], head: Sequence[Manifest]) -> list[str]:
    """A unified diff per plain object that changed, named by file and object."""
    old, new = _by_identity(base), _by_identity(head)
    lines: list[str] = []
    for key in dict.fromkeys([*old, *new]):
        lines.extend(_unified(old.get(key, ""), new.get(key, ""), key))
    return lines


def _by_identity(objects: Sequence[Manifest]) -> dict[str, str]:
    found: dict[str, str] = {}
    for manifest in objects:
        key = f"{manifest.source}: {manifest.ref}"
        found[key] = yamlio.dump_manifest(yamlio.to_plain(manifest.data))
    return found


def _unified(old: str, new: str, name: str) -> list[str]:
    if old == new:
        return []
    return list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{name}" if old else "/dev/null",
            tofile=f"b/{name}" if new else "/dev/null",
        )
    )


def changed_files(base_root: Path, head_root: Path) -> list[str]:
    """Files a cluster receives (see DEPLOYED) that differ between the two trees.

    A link is compared by where it points, never followed: its target may lie outside.
    """
    names = _deployed(base_root) | _deployed(head_root)
    return sorted(name for name in names if _read(base_root / name) != _read(head_root / name))


def _deployed(root: Path) -> set[str]:
    found = set()
    for folder, _, files in os.walk(root):
        for name in files:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if relative.startswith(DEPLOYED):
                found.add(relative)
    return found


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink():
            return b"link to " + str(path.readlink()).encode()
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def rendered_diff(
    base: Mapping[str, Mapping[str, ReleaseState]],
    head: Mapping[str, Mapping[str, ReleaseState]],
    backend: HelmBackend,
    charts: ChartRepositories,
    kube_version: str,
) -> tuple[list[str], list[str]]:
    """The platform charts rendered at both refs, for the releases that changed; and notes
    for those that could not be rendered (an unreachable chart repository...)."""
    lines: list[str] = []
    notes: list[str] = []
    for environment in dict.fromkeys([*base, *head]):
        old, new = base.get(environment, {}), head.get(environment, {})
        for name in dict.fromkeys([*old, *new]):
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            label = f"{environment}/{name}"
            try:
                old_text = _render(before, backend, charts, kube_version)
                new_text = _render(after, backend, charts, kube_version)
            except MeshgenError as exc:
                notes.append(f"{label}: not rendered: {exc}")
                continue
            for source in dict.fromkeys([*old_text, *new_text]):
                lines.extend(
                    _unified(
                        old_text.get(source, ""), new_text.get(source, ""), f"{label}/{source}"
                    )
                )
    return lines, notes


def _render(
    state: ReleaseState | None, backend: HelmBackend, charts: ChartRepositories, kube: str
) -> dict[str, str]:
    if state is None:
        return {}
    fetched = charts.fetch(state.repository, state.chart, state.version)
    templates = backend.render(
        fetched.path,
        dict(state.values),
        release=state.name,
        namespace=state.namespace,
        kube_version=kube,
    )
    return {t.source: t.text for t in templates if is_manifest_source(t.source) and t.text.strip()}


def diff_platform(
    base_root: Path,
    head_root: Path,
    backend: HelmBackend,
    *,
    environments: Sequence[str] = (),
    charts: ChartRepositories | None = None,
    load: ObjectLoader = load_static_objects,
) -> PlatformDiff:
    """Everything but the app renders that differs between two exported trees.

    `charts`, when given, fetches the upstream charts to render the platform releases that
    changed; without it (offline) that part is left out.
    """

    def selected(
        states: dict[str, dict[str, ReleaseState]],
    ) -> dict[str, dict[str, ReleaseState]]:
        if not environments:
            return states
        return {env: found for env, found in states.items() if env in environments}

    all_base, all_head = release_states(base_root, load), release_states(head_root, load)
    base, head = selected(all_base), selected(all_head)
    # Files of environments not asked for (environments/<env>/, a folder per environment)
    # are theirs, not this diff's.
    others = (set(all_base) | set(all_head)) - set(environments) if environments else set()
    files = [
        name for name in changed_files(base_root, head_root) if others.isdisjoint(name.split("/"))
    ]
    rendered: list[str] = []
    notes: list[str] = []
    if charts is not None:
        kube = _kubernetes_version(head_root) or _kubernetes_version(base_root)
        if kube:
            rendered, notes = rendered_diff(base, head, backend, charts, kube)
    return PlatformDiff(
        versions=tuple(version_changes(base, head)),
        values=tuple(values_diff(base, head)),
        objects=tuple(objects_diff(load(base_root), load(head_root))),
        rendered=tuple(rendered),
        notes=tuple(notes),
        changed_files=tuple(files),
    )


def _kubernetes_version(root: Path) -> str | None:
    repo = exported_repo(root)
    return repo.kubernetes_version if repo is not None else None
