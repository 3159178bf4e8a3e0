"""The chart releases the GitOps engine makes in each environment, with their values.

Read from the objects themselves, whatever the folder layout:

- Argo CD: every Application, and every element of an ApplicationSet's list generator,
  whose source names a `chart` is a release in the cluster its destination names; its
  values are its `helm.valueFiles` (`$values/...` from this repository), then
  `helm.values` / `helm.valuesObject`.
- Flux: environment `<env>` is what gitops/flux/clusters/<env>/ applies, following each
  Kustomization's `path` through kustomize builds; a HelmRelease there is a release in
  that environment, its values are its `valuesFrom` ConfigMaps (generated from files of
  this repository by the same build), then its inline `values`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.platform import kustomize
from meshgen.platform.objects import Objects, at, in_repo, items, mapping, of_kind, text
from meshgen.platform.values import ValuesSource
from meshgen.render import Manifest

FLUX_CLUSTERS = "gitops/flux/clusters"
IN_CLUSTER = ("in-cluster", "https://kubernetes.default.svc")
_GO_TEMPLATE_KEY = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class ChartRelease:
    """One Helm release of a chart from a chart repository, in one place."""

    manifest: Manifest
    """The Application, ApplicationSet or HelmRelease that makes it."""
    cluster: str
    """Argo CD: the destination cluster (name, else server). Flux: the environment."""
    chart: str
    repository: str
    version: str
    namespace: str
    values: tuple[ValuesSource, ...]
    name: str = ""
    """The Helm release name."""
    repository_object: Manifest | None = None
    """Flux: the HelmRepository the chart comes from."""


@dataclass(frozen=True)
class ArgoApplication:
    """An Application, or one an ApplicationSet's list generator makes."""

    manifest: Manifest
    name: str
    spec: Mapping[str, Any]


def argocd_applications(objects: Objects) -> Iterator[ArgoApplication]:
    for manifest in objects.all:
        spec = mapping(manifest.data.get("spec"))
        if of_kind(manifest, "argoproj.io", "Application"):
            yield ArgoApplication(manifest, manifest.name, spec)
        elif of_kind(manifest, "argoproj.io", "ApplicationSet"):
            template = mapping(at(spec, "template"))
            for generator in items(spec.get("generators")):
                for element in items(at(generator, "list", "elements")):
                    filled = mapping(expand_go_template(template, mapping(element)))
                    name = text(at(filled, "metadata", "name")) or manifest.name
                    yield ArgoApplication(manifest, name, mapping(filled.get("spec")))


def expand_go_template(node: Any, element: Mapping[str, Any]) -> Any:
    """Fill `{{ .key }}` placeholders of a Go-templated ApplicationSet from one element."""
    if isinstance(node, str):
        return _GO_TEMPLATE_KEY.sub(lambda m: str(element.get(m.group(1), m.group(0))), node)
    if isinstance(node, Mapping):
        return {key: expand_go_template(value, element) for key, value in node.items()}
    if isinstance(node, list):
        return [expand_go_template(item, element) for item in node]
    return node


def application_sources(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sources = [mapping(spec.get("source"))] + [mapping(s) for s in items(spec.get("sources"))]
    return [source for source in sources if source]


def destination_cluster(spec: Mapping[str, Any]) -> str:
    destination = mapping(spec.get("destination"))
    return text(destination.get("name")) or text(destination.get("server"))


def argocd_releases(objects: Objects) -> list[ChartRelease]:
    releases = []
    for application in argocd_applications(objects):
        manifest, spec = application.manifest, application.spec
        sources = application_sources(spec)
        cluster = destination_cluster(spec)
        namespace = text(at(spec, "destination", "namespace"))
        for source in sources:
            chart = text(source.get("chart"))
            if not chart:
                continue
            helm = mapping(source.get("helm"))
            values = [
                loaded
                for value_file in items(helm.get("valueFiles"))
                if (loaded := _values_file(objects, _argocd_values_path(text(value_file))))
            ]
            values.extend(_inline(manifest, helm.get("values"), helm.get("valuesObject")))
            releases.append(
                ChartRelease(
                    manifest,
                    cluster,
                    chart,
                    text(source.get("repoURL")),
                    str(source.get("targetRevision") or ""),
                    namespace,
                    tuple(values),
                    # Argo CD names the release after the Application unless told otherwise.
                    text(helm.get("releaseName")) or application.name,
                )
            )
    return releases


def _argocd_values_path(value_file: str) -> str | None:
    # `$values/...` is relative to the repository of the `ref: values` source (this one);
    # other paths are relative to a chart from a chart repository, not in this one.
    return in_repo(value_file.partition("/")[2]) if value_file.startswith("$") else None


def _values_file(objects: Objects, relative: str | None) -> ValuesSource | None:
    tree = objects.load_yaml(relative) if relative is not None else None
    return ValuesSource(relative, tree) if relative is not None and tree is not None else None


def _inline(manifest: Manifest, *values: Any) -> Iterator[ValuesSource]:
    for value in values:
        if isinstance(value, Mapping) and value:
            yield ValuesSource(manifest.source, value)
        elif isinstance(value, str) and value.strip():
            try:
                tree = yamlio.loads_roundtrip(value, Path(manifest.source))
            except ConfigError:
                continue
            # Lines of an embedded block count from the block; the object's start is close.
            yield ValuesSource(manifest.source, tree, manifest.line)


def flux_environments(objects: Objects) -> list[str]:
    """The environments Flux has an entry folder for (gitops/flux/clusters/<env>/)."""
    folder = objects.root / FLUX_CLUSTERS
    if not folder.is_dir():
        return []
    return sorted(child.name for child in folder.iterdir() if child.is_dir())


def flux_builds(objects: Objects, environment: str) -> list[kustomize.Build]:
    """What the Flux of `environment` applies: its entry folder and every Kustomization's
    path reached from it."""
    builds = []
    pending = [f"{FLUX_CLUSTERS}/{environment}"]
    seen: set[str] = set()
    while pending:
        folder = in_repo(pending.pop(0))
        if folder in seen:
            continue
        seen.add(folder)
        built = kustomize.build(objects.root, folder, objects.load_yaml)
        builds.append(built)
        for source in built.files:
            for manifest in objects.by_file.get(source, ()):
                if of_kind(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization"):
                    path = text(at(manifest.data, "spec", "path"))
                    if path and text(at(manifest.data, "spec", "sourceRef", "kind")) in (
                        "GitRepository",
                        "",
                    ):
                        pending.append(path)
    return builds


def flux_releases(objects: Objects, environment: str) -> list[ChartRelease]:
    releases = []
    for built in flux_builds(objects, environment):
        for source in built.files:
            for manifest in objects.by_file.get(source, ()):
                if of_kind(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
                    release = _flux_release(objects, manifest, environment, built)
                    if release is not None:
                        releases.append(release)
    return releases


def _flux_release(
    objects: Objects, manifest: Manifest, environment: str, built: kustomize.Build
) -> ChartRelease | None:
    spec = mapping(manifest.data.get("spec"))
    chart_spec = mapping(at(spec, "chart", "spec"))
    ref = mapping(chart_spec.get("sourceRef"))
    if text(ref.get("kind")) != "HelmRepository":
        return None
    namespace = text(ref.get("namespace")) or manifest.namespace
    repositories = objects.named("HelmRepository", text(ref.get("name")), namespace)
    url = text(at(repositories[0].data, "spec", "url")) if repositories else ""
    values: list[ValuesSource] = []
    for raw in items(spec.get("valuesFrom")):
        entry = mapping(raw)
        kind = text(entry.get("kind"))
        key = text(entry.get("valuesKey")) or "values.yaml"
        if text(entry.get("targetPath")):
            continue  # a single value at a path, not a values file
        path = built.generated_file(kind, text(entry.get("name")), key)
        loaded = _values_file(objects, path)
        if loaded is not None:
            values.append(loaded)
    values.extend(_inline(manifest, spec.get("values")))
    target = text(spec.get("targetNamespace"))
    return ChartRelease(
        manifest,
        environment,
        text(chart_spec.get("chart")),
        url,
        str(chart_spec.get("version") or ""),
        target or manifest.namespace,
        tuple(values),
        # helm-controller's default release name is `[<targetNamespace>-]<name>`.
        text(spec.get("releaseName")) or (f"{target}-{manifest.name}" if target else manifest.name),
        repositories[0] if repositories else None,
    )


def releases_by_environment(
    objects: Objects, engine: str, clusters: Mapping[str, str]
) -> dict[str, list[ChartRelease]]:
    """Chart releases per declared environment (`clusters`: environment -> its cluster)."""
    if engine == "flux":
        return {env: flux_releases(objects, env) for env in clusters}
    found: dict[str, list[ChartRelease]] = {env: [] for env in clusters}
    by_cluster: dict[str, list[str]] = {}
    for env, cluster in clusters.items():
        by_cluster.setdefault(cluster, []).append(env)
    for release in argocd_releases(objects):
        for env in by_cluster.get(release.cluster, ()):
            found[env].append(release)
    return found
