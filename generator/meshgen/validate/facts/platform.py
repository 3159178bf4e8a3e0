"""The platform layer as the rules see it: the repository's objects, each environment's
chart releases, and the pins of meshgen.yaml, read once per run."""

from __future__ import annotations

from collections.abc import Mapping

from meshgen.platform.objects import Objects
from meshgen.platform.releases import ChartRelease, releases_by_environment
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map


def repo_objects(ctx: ValidationContext) -> Objects:
    return ctx.memo(_repo_objects)


def _repo_objects(ctx: ValidationContext) -> Objects:
    return Objects(ctx.root, tuple(ctx.static_objects))


def declared_clusters(ctx: ValidationContext) -> dict[str, str]:
    """Every environment meshgen.yaml declares (not only those `--env` selects) -> cluster."""
    repo = ctx.repo
    return {env.name: env.cluster for env in repo.environments} if repo is not None else {}


def environment_releases(ctx: ValidationContext) -> Mapping[str, list[ChartRelease]]:
    """The chart releases of each selected environment, in the engine meshgen.yaml names."""
    return ctx.memo(_environment_releases)


def _environment_releases(ctx: ValidationContext) -> Mapping[str, list[ChartRelease]]:
    repo = ctx.repo
    if repo is None or repo.gitops not in ("argocd", "flux"):
        return {}
    clusters = {env.name: env.cluster for env in ctx.environments}
    return releases_by_environment(repo_objects(ctx), repo.gitops, clusters)


def pinned_versions(ctx: ValidationContext) -> dict[str, str]:
    """meshgen.yaml `versions:` (istio, certManager...), as text."""
    versions = as_map(as_map(ctx.config.data).get("versions"))
    return {str(key): str(value) for key, value in versions.items() if value is not None}


def environment_pins(ctx: ValidationContext, key: str) -> set[str]:
    """The versions meshgen.yaml pins for single environments (`environments[].versions`)."""
    return set(ctx.memo(_environment_pins).get(key, ()))


def _environment_pins(ctx: ValidationContext) -> dict[str, set[str]]:
    # Read once: asked for each release of each environment.
    entries = as_map(ctx.config.data).get("environments")
    found: dict[str, set[str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        for key, version in as_map(as_map(entry).get("versions")).items():
            if version is not None:
                found.setdefault(str(key), set()).add(str(version))
    return found


def same_version(left: str, right: str) -> bool:
    """Chart versions as Helm repositories list them, with or without a leading `v`."""
    return left.strip().removeprefix("v") == right.strip().removeprefix("v")


def unique_releases(ctx: ValidationContext) -> list[ChartRelease]:
    """Each release once, though a shared Flux folder makes it in several environments.

    Releases with the same object and values files are one for the checks of their chart,
    version and values; a per-environment values file makes them two.
    """
    seen: dict[tuple[str, int, str, tuple[str, ...]], ChartRelease] = {}
    for releases in environment_releases(ctx).values():
        for release in releases:
            key = (
                release.manifest.source,
                release.manifest.line,
                release.name,
                tuple(v.label for v in release.values),
            )
            seen.setdefault(key, release)
    return list(seen.values())
