"""What a change does to the clusters: traffic per environment, then the rendered diff.

Both git refs are exported into a temporary folder (`git archive`), so the working tree,
the index and the checked-out branch are never touched. As on a pull request, the base
side is the merge base of the two refs: the diff shows what the head branch changes.
`meshgen.report.diff` renders the result as text or as the pull-request comment.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError, GitError, MeshgenError
from meshgen.git import refs as vcs
from meshgen.helm.base import HelmBackend
from meshgen.pins import pin_changes
from meshgen.platform.charts import ChartRepositories
from meshgen.render import render_app
from meshgen.repo import MANIFEST_NAME, Repo, load_repo
from meshgen.traffic import guardrails
from meshgen.traffic.platform_diff import PlatformDiff, diff_platform
from meshgen.traffic.steps.edit import weight_changes


@dataclass(frozen=True)
class AppState:
    """One app in one environment at one ref."""

    tags: Mapping[str, str]
    weights: Mapping[str, int]
    objects: Mapping[str, str]
    """Rendered objects by `Kind/namespace/name`, in install order, as YAML text."""
    error: str | None = None


@dataclass(frozen=True)
class EnvDiff:
    environment: str
    app: str
    label: str
    base: AppState | None
    head: AppState | None

    @property
    def changes(self) -> list[str]:
        """Traffic and release changes: `v2 10% -> 25%`, `v3 added at 0% (tag 1.2)`..."""
        if self.base is None and self.head is None:
            return []
        if self.base is None:
            return ["environment added"]
        if self.head is None:
            return ["environment removed"]
        out: list[str] = []
        base_tags, head_tags = self.base.tags, self.head.tags
        for version in head_tags:
            if version not in base_tags:
                weight = self.head.weights.get(version, 0)
                out.append(f"{version} added at {weight}% (image tag {head_tags[version]})")
            elif base_tags[version] != head_tags[version]:
                out.append(f"{version} image tag {base_tags[version]} -> {head_tags[version]}")
        for version in base_tags:
            if version not in head_tags:
                out.append(f"{version} retired (was {self.base.weights.get(version, 0)}%)")
        shared = [
            v for v in dict.fromkeys([*base_tags, *head_tags]) if v in base_tags and v in head_tags
        ]
        moved = weight_changes(
            {v: self.base.weights.get(v, 0) for v in shared},
            {v: self.head.weights.get(v, 0) for v in shared},
        )
        return moved + out

    @property
    def rendered_diff(self) -> list[str]:
        """A unified diff per rendered object that changed, so every hunk names its object."""
        if self.errors:
            # A side that failed to render has no objects; diffing it would read as if
            # every object were deleted. The error is reported instead.
            return []
        base = self.base.objects if self.base else {}
        head = self.head.objects if self.head else {}
        lines: list[str] = []
        for ref in dict.fromkeys([*base, *head]):
            old, new = base.get(ref, ""), head.get(ref, "")
            if old == new:
                continue
            name = f"{self.environment}/{ref}"
            lines.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"a/{name}" if old else "/dev/null",
                    tofile=f"b/{name}" if new else "/dev/null",
                )
            )
        return lines

    @property
    def errors(self) -> list[str]:
        return [
            f"{side}: {state.error}"
            for side, state in (("base", self.base), ("head", self.head))
            if state is not None and state.error
        ]


@dataclass(frozen=True)
class DiffResult:
    base_ref: str
    head_ref: str
    base_commit: str
    head_commit: str
    entries: tuple[EnvDiff, ...]
    platform: PlatformDiff = field(default_factory=PlatformDiff)

    @property
    def apps_changed(self) -> bool:
        return any(e.changes or e.rendered_diff or e.errors for e in self.entries)

    @property
    def changed(self) -> bool:
        return self.apps_changed or self.platform.shown or bool(self.platform.changed_files)

    @property
    def incomplete(self) -> list[str]:
        """Labels of the environments whose rendered objects could not be compared."""
        return [entry.label for entry in self.entries if entry.errors]


def diff_refs(
    root: Path,
    backend: HelmBackend,
    *,
    base: str | None = None,
    head: str = "HEAD",
    environments: Sequence[str] = (),
    env_base_ref: str | None = None,
    charts: ChartRepositories | None = None,
) -> DiffResult:
    """Render every environment at the merge base of `base` and `head`, and at `head`;
    compare their platform too (rendering the upstream charts through `charts`, if given)."""
    if not vcs.is_repository(root):
        raise GitError(f"{root} is not inside a git repository; `meshgen diff` compares commits")
    if vcs.head_commit(root) is None:
        raise GitError(f"the repository at {root} has no commits yet; commit, then compare")
    head_commit = vcs.resolve_commit(root, head)
    if base is None:
        rails = _guardrails(root)
        found = vcs.find_base(root, rails.base_branch, env_base_ref)
        if found is None:
            raise GitError(
                f"no base to compare with: neither origin/{rails.base_branch} nor "
                f"{rails.base_branch} exists; pass --base REF"
            )
        base, base_tip = found
    else:
        base_tip = vcs.resolve_commit(root, base)
    base_commit = vcs.merge_base(root, base_tip, head_commit) or base_tip
    with tempfile.TemporaryDirectory(prefix="meshgen-diff-") as scratch:
        base_root = vcs.export_tree(root, base_commit, Path(scratch) / "base")
        head_root = vcs.export_tree(root, head_commit, Path(scratch) / "head")
        base_states = _states(base_root, backend)
        head_states = _states(head_root, backend)
        platform = diff_platform(
            base_root, head_root, backend, environments=environments, charts=charts
        )
        # meshgen.yaml's component pins (`staging: istio 1.30.3 -> 1.30.4`) lead the chart
        # versions they move.
        pins = tuple(pin_changes(base_root, head_root))
        platform = replace(platform, versions=(*pins, *platform.versions))
    keys = list(dict.fromkeys([*base_states, *head_states]))
    known_environments = {environment for environment, _ in keys}
    for wanted in environments:
        if wanted not in known_environments:
            listed = ", ".join(sorted(known_environments)) or "none"
            raise ConfigError(
                f"unknown environment {wanted!r} at both refs; environments: {listed}"
            )
    apps = {app for _, app in keys}
    entries = tuple(
        EnvDiff(
            environment=environment,
            app=app,
            label=environment if len(apps) == 1 else f"{environment}/{app}",
            base=base_states.get((environment, app)),
            head=head_states.get((environment, app)),
        )
        for environment, app in keys
        if not environments or environment in environments
    )
    return DiffResult(base, head, base_commit, head_commit, entries, platform)


def _guardrails(root: Path) -> guardrails.Guardrails:
    try:
        return guardrails.read(root / MANIFEST_NAME)
    except ConfigError:
        return guardrails.Guardrails()


def _states(root: Path, backend: HelmBackend) -> dict[tuple[str, str], AppState]:
    if not (root / MANIFEST_NAME).is_file():
        return {}
    repo = load_repo(root)
    states: dict[tuple[str, str], AppState] = {}
    for environment in repo.environments:
        for app in repo.apps:
            states[(environment.name, app.name)] = _state(repo, environment.name, app.name, backend)
    return states


def _state(repo: Repo, environment_name: str, app_name: str, backend: HelmBackend) -> AppState:
    path = repo.environment_file_path(environment_name, app_name)
    try:
        env = EnvironmentFile.read(path)
    except ConfigError as exc:
        return AppState({}, {}, {}, _relative(str(exc), repo.root))
    tags, weights = env.image_tags(), env.whole_weights()
    try:
        values = env.values()
        rendering = render_app(
            repo, repo.environment(environment_name), repo.app(app_name), backend, values
        )
    except MeshgenError as exc:
        return AppState(tags, weights, {}, f"could not render: {_relative(str(exc), repo.root)}")
    objects: dict[str, str] = {}
    for manifest in rendering.manifests:
        text = f"# Source: {manifest.source}\n{manifest.text.strip(chr(10))}\n"
        # Names are unique per kind and namespace in a release; the counter guards
        # against a chart that breaks that, so no object is hidden from the diff.
        key, count = manifest.ref, 2
        while key in objects:
            key, count = f"{manifest.ref}#{count}", count + 1
        objects[key] = text
    return AppState(tags, weights, objects)


def _relative(message: str, root: Path) -> str:
    # Errors name files in the temporary export; show repo-relative paths instead.
    return message.replace(f"{root}/", "")
