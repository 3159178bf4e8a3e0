"""What the GitOps engine deploys: Helm releases, app deployments, Kustomizations.

Read from the Argo CD Applications (and ApplicationSets) or Flux objects under gitops/.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.platform import objects
from meshgen.platform.releases import expand_go_template
from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, as_text, dig, is_kind, str_map
from meshgen.validate.inputs.key_lines import KeyLines

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml")


def line_of_text(ctx: ValidationContext, manifest: Manifest, needle: str) -> int:
    """The first line at or after the object's start that contains `needle`."""
    return objects.line_of_text(ctx.root, manifest, needle)


def repo_path(path: str) -> str:
    """A path inside the repository, normalised (`./a/../b/` -> `b`)."""
    return posixpath.normpath(path.strip().lstrip("/")) if path.strip() else "."


def repo_url(ctx: ValidationContext) -> str:
    return as_text(as_map(ctx.config.data).get("repoUrl"))


@dataclass(frozen=True)
class Release:
    """A Helm release an Argo CD Application or a Flux HelmRelease makes."""

    chart: str
    name: str
    namespace: str
    manifest: Manifest


def helm_releases(ctx: ValidationContext) -> list[Release]:
    """Every Helm release declared under gitops/, with the name Helm will give it."""
    releases = []
    for manifest in ctx.static_objects:
        spec = as_map(manifest.data.get("spec"))
        if is_kind(manifest, "argoproj.io", "Application"):
            namespace = as_text(dig(spec, "destination", "namespace"))
            for source in application_sources(spec):
                chart = as_text(source.get("chart"))
                if chart:
                    # Argo CD names the release after the Application unless told otherwise.
                    name = as_text(dig(source, "helm", "releaseName")) or manifest.name
                    releases.append(Release(chart, name, namespace, manifest))
        elif is_kind(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            chart = as_text(dig(spec, "chart", "spec", "chart"))
            target = as_text(spec.get("targetNamespace"))
            # helm-controller's default release name is `[<targetNamespace>-]<name>`.
            default = f"{target}-{manifest.name}" if target else manifest.name
            name = as_text(spec.get("releaseName")) or default
            releases.append(Release(chart, name, target or manifest.namespace, manifest))
    return releases


def application_sources(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sources = [as_map(spec.get("source"))] + [as_map(s) for s in as_list(spec.get("sources"))]
    return [source for source in sources if source]


@dataclass(frozen=True)
class Deployment:
    """Where the GitOps engine deploys an app chart, and with which values files."""

    chart: str
    cluster: str
    namespace: str
    values: frozenset[str]


def argocd_deployments(ctx: ValidationContext) -> list[tuple[Manifest, Deployment]]:
    """App charts of this repository that Argo CD Applications (direct or generated) deploy."""
    found = []
    for manifest, spec in argocd_application_specs(ctx):
        destination = as_map(spec.get("destination"))
        cluster = as_text(destination.get("name")) or as_text(destination.get("server"))
        namespace = as_text(destination.get("namespace"))
        for source in application_sources(spec):
            path = as_text(source.get("path"))
            if not path or source.get("chart"):
                continue
            base = repo_path(path)
            values = frozenset(
                argocd_values_path(base, as_text(v))
                for v in as_list(dig(source, "helm", "valueFiles"))
            )
            found.append((manifest, Deployment(base, cluster, namespace, values)))
    return found


def argocd_values_path(source_path: str, value_file: str) -> str:
    # `$values/...` is relative to the repository of the `ref: values` source (this one).
    if value_file.startswith("$"):
        return repo_path(value_file.partition("/")[2])
    return repo_path(posixpath.join(source_path, value_file))


def argocd_application_specs(
    ctx: ValidationContext,
) -> Iterator[tuple[Manifest, Mapping[str, Any]]]:
    """Application specs, with each ApplicationSet's list generator expanded."""
    for manifest in ctx.static_objects:
        spec = as_map(manifest.data.get("spec"))
        if is_kind(manifest, "argoproj.io", "Application"):
            yield manifest, spec
        elif is_kind(manifest, "argoproj.io", "ApplicationSet"):
            template = as_map(dig(spec, "template", "spec"))
            for generator in as_list(spec.get("generators")):
                for element in as_list(dig(generator, "list", "elements")):
                    yield manifest, expand_go_template(template, as_map(element))


def flux_deployments(ctx: ValidationContext, environment: str) -> list[Deployment]:
    """App charts from this repository that the Flux of `environment`'s cluster installs.

    A cluster's Flux applies gitops/flux/clusters/<env>/ and the folders its
    Kustomizations point at; HelmReleases in those folders are that cluster's.
    """
    cluster_dir = f"gitops/flux/clusters/{environment}"
    applied = {cluster_dir}
    for manifest in ctx.static_objects:
        if is_kind(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization") and (
            manifest.source.startswith(f"{cluster_dir}/")
        ):
            applied.add(repo_path(as_text(dig(manifest.data, "spec", "path"))))
    found = []
    for manifest in ctx.static_objects:
        if not is_kind(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            continue
        folder = posixpath.dirname(manifest.source)
        if not any(folder == d or folder.startswith(f"{d}/") for d in applied):
            continue
        spec = as_map(manifest.data.get("spec"))
        chart_spec = as_map(dig(spec, "chart", "spec"))
        if as_text(dig(chart_spec, "sourceRef", "kind")) != "GitRepository":
            continue
        values = frozenset(repo_path(as_text(v)) for v in as_list(chart_spec.get("valuesFiles")))
        namespace = as_text(spec.get("targetNamespace")) or manifest.namespace
        chart = repo_path(as_text(chart_spec.get("chart")))
        found.append(Deployment(chart, environment, namespace, values))
    return found


def kustomization_files(ctx: ValidationContext) -> list[Path]:
    return [f.path for f in ctx.static_files if f.path.name in KUSTOMIZATION_FILES]


def release_target(release: Release) -> str:
    """Where a release lands: Argo CD's destination cluster, or a Flux HelmRelease's folder.

    A cluster's Flux applies the HelmReleases of a folder together, so releases in one
    folder always run beside each other.
    """
    if is_kind(release.manifest, "argoproj.io", "Application"):
        destination = as_map(dig(release.manifest.data, "spec", "destination"))
        cluster = as_text(destination.get("name")) or as_text(destination.get("server"))
        return f"cluster {cluster!r}"
    return f"{posixpath.dirname(release.manifest.source)}/"


def sync_wave(manifest: Manifest) -> int | None:
    annotations = as_map(dig(manifest.data, "metadata", "annotations"))
    try:
        return int(as_text(annotations.get("argocd.argoproj.io/sync-wave")) or 0)
    except ValueError:
        return None


def depends_on(manifest: Manifest) -> set[str]:
    return {
        as_text(as_map(entry).get("name"))
        for entry in as_list(dig(manifest.data, "spec", "dependsOn"))
    }


def comes_after(ctx: ValidationContext, later: Release, earlier: Release) -> bool:
    """Whether the engine starts `later` only once `earlier` is ready.

    Argo CD: a higher sync wave. Flux: `earlier` among the HelmReleases `later` depends
    on, directly or through others in the same folder.
    """
    if is_kind(later.manifest, "argoproj.io", "Application"):
        later_wave, earlier_wave = sync_wave(later.manifest), sync_wave(earlier.manifest)
        # An unreadable wave is the schema rules' finding, not an ordering one.
        return later_wave is None or earlier_wave is None or later_wave > earlier_wave
    folder = posixpath.dirname(later.manifest.source)
    neighbours = {
        m.name: m
        for m in ctx.static_objects
        if is_kind(m, "helm.toolkit.fluxcd.io", "HelmRelease")
        and posixpath.dirname(m.source) == folder
    }
    seen: set[str] = set()
    pending = depends_on(later.manifest)
    while pending:
        name = pending.pop()
        if name == earlier.manifest.name:
            return True
        if name in seen or name not in neighbours:
            continue
        seen.add(name)
        pending |= depends_on(neighbours[name])
    return False


def key_lines(ctx: ValidationContext, path: Path) -> KeyLines:
    """The finder of key lines of a repository file, shared by the rules of a run, so
    that a document is composed once for all of them."""
    finders: dict[Path, KeyLines] = ctx.memo(_key_line_finders)
    if path not in finders:
        finders[path] = KeyLines(path)
    return finders[path]


def _key_line_finders(ctx: ValidationContext) -> dict[Path, KeyLines]:
    return {}


def managed_namespaces(ctx: ValidationContext) -> list[Manifest]:
    """The namespaces Argo CD creates for Applications, as the objects it applies.

    An Application with `syncOptions: [CreateNamespace=true]` makes its destination
    namespace, labelled and annotated from `managedNamespaceMetadata`; no manifest shows
    that namespace, so the rules about namespaces read it from here. Each one points at
    the Application's `managedNamespaceMetadata.labels` (or its `syncOptions`) line. Flux
    applies a Namespace manifest instead, which is already a static object.
    """
    return ctx.memo(_managed_namespaces)


def _managed_namespaces(ctx: ValidationContext) -> list[Manifest]:
    found = []
    for manifest, spec in argocd_application_specs(ctx):
        policy = as_map(spec.get("syncPolicy"))
        options = {
            as_text(option).replace(" ", "") for option in as_list(policy.get("syncOptions"))
        }
        namespace = as_text(dig(spec, "destination", "namespace"))
        if "CreateNamespace=true" not in options or not namespace:
            continue
        managed = as_map(policy.get("managedNamespaceMetadata"))
        metadata: dict[str, Any] = {"name": namespace}
        for key in ("labels", "annotations"):
            if key in managed:
                metadata[key] = str_map(managed.get(key))
        # An ApplicationSet holds the Application's spec under its template.
        prefix = ("spec", "template", "spec") if manifest.kind == "ApplicationSet" else ("spec",)
        keys = ("managedNamespaceMetadata", "labels") if "labels" in managed else ("syncOptions",)
        finder = key_lines(ctx, ctx.root / manifest.source)
        line = finder.line(manifest.line, (*prefix, "syncPolicy", *keys))
        data = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
        found.append(Manifest(manifest.source, line, "", data))
    return found
