"""`meshgen platform upgrade COMPONENT VERSION [--env ENV]`: move every pin of a platform
component, in one environment or in all, and record it in meshgen.yaml.

A pin another environment shares (Flux's one set of HelmReleases) is overridden for the
one environment by a patch of that environment's `platform` Kustomization; moving all
environments moves the shared pin and drops the patches. meshgen.yaml keeps the version
every environment runs under `versions:` and, for one ahead, its own under
`environments[].versions:`, so `meshgen validate` can tell an environment left behind.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from meshgen import pins as pinning
from meshgen import yamlio
from meshgen.day2 import recorded
from meshgen.day2.changes import Changeset, Refused
from meshgen.errors import ConfigError
from meshgen.repo import MANIFEST_NAME, Repo
from meshgen.traffic.guardrails import from_manifest

_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?\Z")
_PATCHES_KEY = re.compile(r"^  patches:[ \t]*$", re.MULTILINE)


class GuardrailRefusal(Refused):
    """guardrails.order says another environment upgrades first."""


def plan_upgrade(
    root: Path,
    component: str,
    version: str,
    *,
    environment: str | None = None,
    force: bool = False,
) -> Changeset:
    state = recorded.read(root)
    repo = state.repo
    found = [p for p in pinning.find(repo) if p.component == component]
    if not found:
        known = sorted({p.component for p in pinning.find(repo)}) or ["none"]
        raise ConfigError(
            f"no pinned chart of {component!r} under gitops/; pinned components: {', '.join(known)}"
        )
    current = sorted({p.version for p in found})
    _check_version(component, version, current)
    targets = (repo.environment(environment).name,) if environment else _names(repo)
    effective = pinning.effective(found, component)
    moving = [
        e for e in targets if any(p.version != version for p in effective.get(e, {}).values())
    ]
    if not force:
        _check_order(state.manifest, component, version, moving, effective, environment)
    writes: dict[str, str] = {}
    for pin in found:
        applies = set(pin.environments)
        if pin.patch:
            continue
        if applies <= set(targets):
            _set_line(writes, repo.root, pin.path, pin.line, pin.version, version)
    if environment is not None:
        shared = [
            p
            for p in found
            if not p.patch
            and environment in p.environments
            and set(p.environments) != {environment}
        ]
        if shared:
            _patch_environment(writes, repo, environment, shared, version)
    else:
        for path in sorted({p.path for p in found if p.patch}):
            _drop_patches(writes, repo.root, path)
    writes[MANIFEST_NAME] = _manifest(state, component, version, environment)
    scope = f"in {environment}" if environment else "in every environment"
    return Changeset(
        root=repo.root,
        subject=f"Upgrade {component} to {version} {scope}",
        command=shlex.join(
            [
                "meshgen",
                "platform",
                "upgrade",
                component,
                version,
                *(["--env", environment] if environment else []),
            ]
        ),
        writes=writes,
    )


def _names(repo: Repo) -> tuple[str, ...]:
    return tuple(e.name for e in repo.environments)


def _check_version(component: str, version: str, current: Sequence[str]) -> None:
    if not _VERSION.match(version):
        raise ConfigError(f"{version!r} is not a chart version such as {current[0]}")
    prefixed = {v.startswith("v") for v in current}
    if prefixed == {True} and not version.startswith("v"):
        raise ConfigError(f"{component} versions are written with a v: v{version}")
    if prefixed == {False} and version.startswith("v"):
        raise ConfigError(f"{component} versions are written without a v: {version[1:]}")


def _check_order(
    manifest: Any,
    component: str,
    version: str,
    moving: Sequence[str],
    effective: Mapping[str, Mapping[str, pinning.Pin]],
    environment: str | None,
) -> None:
    """guardrails.order: an environment upgrades once every one before it runs `version`."""
    order = from_manifest(manifest).order
    for name in moving:
        if name not in order:
            continue
        for before in order[: order.index(name)]:
            if before in moving and environment is None:
                continue
            behind = [p for p in effective.get(before, {}).values() if p.version != version]
            if behind:
                raise GuardrailRefusal(
                    f"refused, nothing changed: guardrails.order in {MANIFEST_NAME} upgrades "
                    f"{before} before {name}, and {before} runs {component} "
                    f"{behind[0].version}; first run `meshgen platform upgrade {component} "
                    f"{version} --env {before}` (or pass --force)"
                )


def _text(writes: Mapping[str, str], root: Path, path: str) -> str:
    return writes[path] if path in writes else yamlio.read_text(root / path)


def _set_line(writes: dict[str, str], root: Path, path: str, line: int, old: str, new: str) -> None:
    lines = _text(writes, root, path).splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    writes[path] = "".join(lines)


def _patch_block(releases: Sequence[str], version: str, environment: str) -> str:
    lines = [
        "  patches:",
        f"    # Platform pins of {environment} ahead of the shared releases; written and",
        "    # removed by `meshgen platform upgrade`.",
    ]
    for release in releases:
        lines += [
            "    - target:",
            "        kind: HelmRelease",
            f"        name: {release}",
            "      patch: |",
            "        - op: replace",
            f"          path: {pinning.VERSION_PATCH_PATH}",
            f'          value: "{version}"',
        ]
    return "\n".join(lines) + "\n"


def _patch_environment(
    writes: dict[str, str],
    repo: Repo,
    environment: str,
    shared: Sequence[pinning.Pin],
    version: str,
) -> None:
    """Override the shared releases' version in `environment`'s Kustomization that applies
    their folder."""
    folder = Path(shared[0].path).parent.as_posix()
    others = [p for p in pinning.find(repo) if p.patch and environment in p.environments]
    releases = sorted({p.release for p in shared} | {p.release for p in others})
    for path in sorted((repo.root / pinning.GITOPS_DIR).rglob("*.yaml")):
        relpath = path.relative_to(repo.root).as_posix()
        if environment not in relpath.split("/")[:-1]:
            continue
        text = _text(writes, repo.root, relpath)
        for chunk in pinning.chunks(text, path):
            spec = chunk.data.get("spec") if isinstance(chunk.data, Mapping) else None
            if chunk.data.get("kind") != "Kustomization" or not isinstance(spec, Mapping):
                continue
            # The shared folder itself, an environment overlay below it, or one that
            # includes it as a base.
            applied = str(spec.get("path", "")).strip("./")
            built = pinning.built_folders(repo.root, applied) | {applied}
            if not any(f == folder or f.startswith(f"{folder}/") for f in built):
                continue
            keep = {p.release: p.version for p in others if p.component != shared[0].component}
            block = _patch_block(releases, version, environment)
            if keep:
                raise ConfigError(
                    f"{relpath}: patches of other components' versions; edit it by hand",
                    path=path,
                )
            new_chunk = _without_patches(chunk.text, path).rstrip("\n") + "\n" + block
            if list(chunk.data.keys())[-1] != "spec":
                raise ConfigError(
                    "`spec` is not the last key of the Kustomization; move it last, or add "
                    "the version patch by hand",
                    path=path,
                    line=chunk.start,
                )
            writes[relpath] = text.replace(chunk.text, new_chunk, 1)
            return
    raise ConfigError(
        f"no Kustomization of environment {environment} applies {folder}; cannot pin "
        f"{environment} alone (upgrade every environment instead)"
    )


def _without_patches(text: str, path: Path) -> str:
    match = _PATCHES_KEY.search(text)
    if match is None:
        return text
    rest = text[match.end() + 1 :].splitlines(keepends=True)
    kept = 0
    for line in rest:
        if line.startswith("    ") or not line.strip():
            kept += 1
            continue
        break
    if kept < len(rest):
        raise ConfigError(
            "`patches` is not the last key of spec; move it last or edit it by hand", path=path
        )
    return text[: match.start()]


def _drop_patches(writes: dict[str, str], root: Path, relpath: str) -> None:
    text = _text(writes, root, relpath)
    for chunk in pinning.chunks(text, root / relpath):
        if _PATCHES_KEY.search(chunk.text) and "# Platform pins of" in chunk.text:
            kept = _without_patches(chunk.text, root / relpath).rstrip("\n") + "\n"
            text = text.replace(chunk.text, kept, 1)
    writes[relpath] = text


def _manifest(
    state: recorded.Recorded, component: str, version: str, environment: str | None
) -> str:
    tree = state.manifest
    key = pinning.MANIFEST_KEYS.get(component)
    if key is None:
        return yamlio.dumps_roundtrip(tree)
    shared = tree["versions"]
    for entry in tree["environments"]:
        if environment is not None and entry.get("name") != environment:
            continue
        own = entry.get("versions")
        wanted = environment is not None and str(shared.get(key)) != version
        if wanted:
            if not isinstance(own, dict):
                entry["versions"] = own = yamlio.CommentedMap()
            own[key] = version
        elif isinstance(own, dict) and key in own:
            del own[key]
            if not own:
                del entry["versions"]
    if environment is None:
        shared[key] = version
    return yamlio.dumps_roundtrip(tree)
