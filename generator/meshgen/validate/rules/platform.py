"""The platform around the app: Istio ingress settings, ACME solvers, GitOps wiring.

These rules read the static files under cluster/, platform/ and gitops/ and check
that they fit together: what istiod's meshConfig names is what the gateway release
creates, the ACME HTTP-01 solvers use an ingress class the mesh serves, every
environment is deployed by the GitOps engine, every path the engine reads exists, and
istiod expects the Istio CNI node agent exactly where one is installed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.model import Location, Problem, Severity, rule

ISTIOD_VALUES = "platform/istio/istiod.values.yaml"
GATEWAY_VALUES = "platform/istio/gateway.values.yaml"
ISTIO_INGRESS_CONTROLLER = "istio.io/ingress-controller"
# istiod's own defaults (mesh.v1alpha1 MeshConfig and pilot's K8S_INGRESS_NS).
DEFAULT_INGRESS_SERVICE = "istio-ingressgateway"
DEFAULT_INGRESS_SELECTOR = "ingressgateway"
DEFAULT_INGRESS_CLASS = "istio"
DEFAULT_ISTIOD_NAMESPACE = "istio-system"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml")
_GO_TEMPLATE_KEY = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}")


# -- reading objects defensively: a hand-edited file may hold anything ---------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = _map(value).get(key)
    return value


def _is(manifest: Manifest, group: str, kind: str) -> bool:
    return manifest.kind == kind and manifest.api_version.startswith(f"{group}/")


def _line_of_text(ctx: ValidationContext, manifest: Manifest, needle: str) -> int:
    """The first line at or after the object's start that contains `needle`."""
    try:
        lines = (ctx.root / manifest.source).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return manifest.line
    for number in range(manifest.line, len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return manifest.line


def _repo_path(path: str) -> str:
    """A path inside the repository, normalised (`./a/../b/` -> `b`)."""
    return posixpath.normpath(path.strip().lstrip("/")) if path.strip() else "."


def _repo_url(ctx: ValidationContext) -> str:
    return _text(_map(ctx.manifest.data).get("repoUrl"))


# -- Helm releases the GitOps engine installs -----------------------------------------


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
        spec = _map(manifest.data.get("spec"))
        if _is(manifest, "argoproj.io", "Application"):
            namespace = _text(_dig(spec, "destination", "namespace"))
            for source in _application_sources(spec):
                chart = _text(source.get("chart"))
                if chart:
                    # Argo CD names the release after the Application unless told otherwise.
                    name = _text(_dig(source, "helm", "releaseName")) or manifest.name
                    releases.append(Release(chart, name, namespace, manifest))
        elif _is(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            chart = _text(_dig(spec, "chart", "spec", "chart"))
            target = _text(spec.get("targetNamespace"))
            # helm-controller's default release name is `[<targetNamespace>-]<name>`.
            default = f"{target}-{manifest.name}" if target else manifest.name
            name = _text(spec.get("releaseName")) or default
            releases.append(Release(chart, name, target or manifest.namespace, manifest))
    return releases


def _application_sources(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sources = [_map(spec.get("source"))] + [_map(s) for s in _list(spec.get("sources"))]
    return [source for source in sources if source]


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    data: Mapping[str, Any]


def _load_values(ctx: ValidationContext, relative: str) -> ValuesFile | None:
    path = ctx.root / relative
    if not path.is_file():
        return None
    try:
        data = yamlio.load_roundtrip(path)
    except ConfigError:
        return None
    return ValuesFile(path, _map(data))


# -- MG501 ---------------------------------------------------------------------------


@rule("MG501", "ingress-gateway-mismatch", Severity.ERROR)
def ingress_gateway_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """istiod's meshConfig ingress settings do not name the gateway release's Service and pods.

    Kubernetes Ingresses (and so cert-manager's HTTP-01 challenges) are served by the pods
    labelled `istio: <meshConfig.ingressSelector>`, and get the address of the Service
    `<meshConfig.ingressService>` in the namespace `env.K8S_INGRESS_NS`. Release the
    `gateway` chart as `istio-gateway` in istio-ingress (or change
    platform/istio/istiod.values.yaml to match the release name, its `istio` pod label and
    its namespace).
    """
    istiod = _load_values(ctx, ISTIOD_VALUES)
    gateway_values = _load_values(ctx, GATEWAY_VALUES)
    if istiod is None:
        return
    mesh = _map(istiod.data.get("meshConfig"))
    env = _map(istiod.data.get("env"))
    service = _text(mesh.get("ingressService")) or DEFAULT_INGRESS_SERVICE
    selector = _text(mesh.get("ingressSelector")) or DEFAULT_INGRESS_SELECTOR
    istiod_namespaces = {r.namespace for r in helm_releases(ctx) if r.chart == "istiod"}
    default_namespace = min(istiod_namespaces) if istiod_namespaces else DEFAULT_ISTIOD_NAMESPACE
    namespace = _text(env.get("K8S_INGRESS_NS")) or default_namespace
    values = gateway_values.data if gateway_values is not None else {}

    def at(mapping: Mapping[str, Any], key: str) -> Location:
        return ctx.location(istiod.path, yamlio.line_of(mapping, key) or yamlio.line_of(mapping))

    for release in helm_releases(ctx):
        if release.chart != "gateway":
            continue
        # The gateway chart names its objects after `name` (default: the release) and
        # labels pods `istio: <that name without "istio-">` unless `labels.istio` is set.
        service_name = _text(values.get("name")) or release.name
        label = _text(_dig(values, "labels", "istio")) or service_name.removeprefix("istio-")
        where = f"{release.manifest.kind} {release.manifest.name} ({release.manifest.source})"
        if service != service_name:
            yield Problem(
                f"meshConfig.ingressService is {service!r}, but the gateway release of "
                f"{where} creates the Service {service_name!r}",
                at(mesh, "ingressService"),
            )
        if selector != label:
            yield Problem(
                f"meshConfig.ingressSelector is {selector!r}, but the gateway pods of "
                f"{where} carry `istio: {label}`",
                at(mesh, "ingressSelector"),
            )
        if release.namespace and namespace != release.namespace:
            yield Problem(
                f"istiod looks for the ingress Service in namespace {namespace!r} "
                f"(env.K8S_INGRESS_NS), but {where} installs the gateway in "
                f"{release.namespace!r}",
                at(env, "K8S_INGRESS_NS") if env else at(istiod.data, "meshConfig"),
            )


# -- MG502 ---------------------------------------------------------------------------


@rule("MG502", "acme-solver-class-not-served", Severity.ERROR)
def acme_solver_class_not_served(ctx: ValidationContext) -> Iterator[Problem]:
    """An ACME HTTP-01 solver uses an ingress class that the mesh does not serve.

    The challenge Ingress cert-manager creates is answered only if istiod serves its
    class: `ingressClassName` must name an IngressClass whose controller is
    `istio.io/ingress-controller` (platform/cert-manager/ingress-class.yaml), or the
    `class` annotation must equal meshConfig.ingressClass; and meshConfig.
    ingressControllerMode must not be OFF. Set the solver's `ingressClassName: istio`.
    """
    istiod = _load_values(ctx, ISTIOD_VALUES)
    mesh = _map(istiod.data.get("meshConfig")) if istiod is not None else {}
    raw_mode = mesh.get("ingressControllerMode")
    # Unquoted, OFF reads as the boolean false (YAML 1.1, as Helm reads values).
    mode = "OFF" if raw_mode is False else _text(raw_mode).upper()
    mesh_class = _text(mesh.get("ingressClass")) or DEFAULT_INGRESS_CLASS
    classes = {
        obj.name: _text(_dig(obj.data, "spec", "controller"))
        for obj in ctx.static_objects
        if _is(obj, "networking.k8s.io", "IngressClass")
    }
    for issuer in ctx.static_objects:
        if issuer.kind not in ("ClusterIssuer", "Issuer"):
            continue
        if not issuer.api_version.startswith("cert-manager.io/"):
            continue
        for solver in _list(_dig(issuer.data, "spec", "acme", "solvers")):
            ingress = _dig(solver, "http01", "ingress")
            if not isinstance(ingress, Mapping):
                continue
            class_name = _text(ingress.get("ingressClassName"))
            annotation = _text(ingress.get("class"))
            reason = _unserved_reason(class_name, annotation, mode, mesh_class, classes)
            if reason is None:
                continue
            needle = "ingressClassName" if class_name else "class" if annotation else "ingress"
            line = _line_of_text(ctx, issuer, needle)
            yield Problem(
                f"{issuer.kind} {issuer.name}: HTTP-01 challenges would go unanswered: {reason}",
                ctx.location(issuer.source, line),
            )


def _unserved_reason(
    class_name: str, annotation: str, mode: str, mesh_class: str, classes: Mapping[str, str]
) -> str | None:
    """Why istiod would not serve the solver's Ingress, or None when it would."""
    reason: str | None = None
    if mode == "OFF":
        reason = f"meshConfig.ingressControllerMode is OFF in {ISTIOD_VALUES}"
    elif class_name and class_name not in classes:
        reason = f"no IngressClass {class_name!r} is defined under platform/"
    elif class_name and classes[class_name] != ISTIO_INGRESS_CONTROLLER:
        reason = (
            f"IngressClass {class_name!r} has controller {classes[class_name]!r}, "
            f"not {ISTIO_INGRESS_CONTROLLER!r}"
        )
    elif not class_name and annotation and annotation != mesh_class:
        reason = f"class {annotation!r} is not meshConfig.ingressClass {mesh_class!r}"
    elif not class_name and not annotation and mode != "DEFAULT":
        reason = "the solver names no ingress class, and istiod serves only class-named Ingresses"
    return reason


# -- MG503 ---------------------------------------------------------------------------


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
    for manifest, spec in _argocd_application_specs(ctx):
        destination = _map(spec.get("destination"))
        cluster = _text(destination.get("name")) or _text(destination.get("server"))
        namespace = _text(destination.get("namespace"))
        for source in _application_sources(spec):
            path = _text(source.get("path"))
            if not path or source.get("chart"):
                continue
            base = _repo_path(path)
            values = frozenset(
                _argocd_values_path(base, _text(v))
                for v in _list(_dig(source, "helm", "valueFiles"))
            )
            found.append((manifest, Deployment(base, cluster, namespace, values)))
    return found


def _argocd_values_path(source_path: str, value_file: str) -> str:
    # `$values/...` is relative to the repository of the `ref: values` source (this one).
    if value_file.startswith("$"):
        return _repo_path(value_file.partition("/")[2])
    return _repo_path(posixpath.join(source_path, value_file))


def _argocd_application_specs(
    ctx: ValidationContext,
) -> Iterator[tuple[Manifest, Mapping[str, Any]]]:
    """Application specs, with each ApplicationSet's list generator expanded."""
    for manifest in ctx.static_objects:
        spec = _map(manifest.data.get("spec"))
        if _is(manifest, "argoproj.io", "Application"):
            yield manifest, spec
        elif _is(manifest, "argoproj.io", "ApplicationSet"):
            template = _map(_dig(spec, "template", "spec"))
            for generator in _list(spec.get("generators")):
                for element in _list(_dig(generator, "list", "elements")):
                    yield manifest, _expand(template, _map(element))


def _expand(node: Any, element: Mapping[str, Any]) -> Any:
    """Fill `{{ .key }}` placeholders of a Go-templated ApplicationSet from one element."""
    if isinstance(node, str):
        return _GO_TEMPLATE_KEY.sub(lambda m: str(element.get(m.group(1), m.group(0))), node)
    if isinstance(node, Mapping):
        return {key: _expand(value, element) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand(item, element) for item in node]
    return node


def flux_deployments(ctx: ValidationContext, environment: str) -> list[Deployment]:
    """App charts from this repository that the Flux of `environment`'s cluster installs.

    A cluster's Flux applies gitops/flux/clusters/<env>/ and the folders its
    Kustomizations point at; HelmReleases in those folders are that cluster's.
    """
    cluster_dir = f"gitops/flux/clusters/{environment}"
    applied = {cluster_dir}
    for manifest in ctx.static_objects:
        if _is(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization") and (
            manifest.source.startswith(f"{cluster_dir}/")
        ):
            applied.add(_repo_path(_text(_dig(manifest.data, "spec", "path"))))
    found = []
    for manifest in ctx.static_objects:
        if not _is(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            continue
        folder = posixpath.dirname(manifest.source)
        if not any(folder == d or folder.startswith(f"{d}/") for d in applied):
            continue
        spec = _map(manifest.data.get("spec"))
        chart_spec = _map(_dig(spec, "chart", "spec"))
        if _text(_dig(chart_spec, "sourceRef", "kind")) != "GitRepository":
            continue
        values = frozenset(_repo_path(_text(v)) for v in _list(chart_spec.get("valuesFiles")))
        namespace = _text(spec.get("targetNamespace")) or manifest.namespace
        chart = _repo_path(_text(chart_spec.get("chart")))
        found.append(Deployment(chart, environment, namespace, values))
    return found


@rule("MG503", "environment-not-deployed", Severity.ERROR)
def environment_not_deployed(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment in meshgen.yaml has no Argo CD Application or Flux HelmRelease for an app.

    Nothing would deploy the app there. With Argo CD, add the environment (its name,
    namespace and cluster) to the elements of the app's ApplicationSet in
    gitops/argocd/apps/; with Flux, add gitops/flux/clusters/<env>/ and
    gitops/flux/apps/<env>/ as `meshgen new` writes them for another environment.
    """
    repo = ctx.repo
    if repo is None or repo.gitops not in ("argocd", "flux"):
        return
    argocd = [d for _, d in argocd_deployments(ctx)] if repo.gitops == "argocd" else []
    for environment in ctx.environments:
        deployments = argocd if repo.gitops == "argocd" else flux_deployments(ctx, environment.name)
        for app in repo.apps:
            overlay = ctx.rel(repo.overlay_path(environment.name, app.name))
            chart = _repo_path(app.chart)
            target = (
                (environment.cluster, environment.namespace)
                if repo.gitops == "argocd"
                else (environment.name, environment.namespace)
            )
            if any(
                d.chart == chart and (d.cluster, d.namespace) == target and overlay in d.values
                for d in deployments
            ):
                continue
            engine = "Argo CD Application" if repo.gitops == "argocd" else "Flux HelmRelease"
            where = (
                f"cluster {environment.cluster!r}"
                if repo.gitops == "argocd"
                else f"gitops/flux/clusters/{environment.name}/"
            )
            yield Problem(
                f"environment {environment.name!r}: no {engine} deploys {chart} with "
                f"{overlay} to namespace {environment.namespace!r} ({where})",
                ctx.location(ctx.manifest.path, _environment_line(ctx, environment.name)),
            )


def _environment_line(ctx: ValidationContext, name: str) -> int | None:
    data = _map(ctx.manifest.data)
    for entry in _list(data.get("environments")):
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return yamlio.line_of(entry)
    return yamlio.line_of(data, "environments")


# -- MG504 ---------------------------------------------------------------------------


@rule("MG504", "gitops-path-missing", Severity.ERROR)
def gitops_path_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """A path the GitOps engine reads from this repository does not exist.

    The sync would fail on the cluster. Fix the path in the object or kustomization.yaml
    named (paths are relative to the repository root, or to the kustomization's folder),
    or restore the file or folder it names.
    """
    yield from _argocd_missing_paths(ctx)
    yield from _flux_missing_paths(ctx)
    yield from _kustomization_missing_paths(ctx)


def _missing(ctx: ValidationContext, relative: str, *, folder: bool) -> bool:
    path = ctx.root / relative
    return not (path.is_dir() if folder else path.is_file())


def _argocd_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    repo_url = _repo_url(ctx)
    seen: set[tuple[str, str]] = set()
    for manifest, spec in _argocd_application_specs(ctx):
        sources = _application_sources(spec)
        values_from_here = any(
            _text(s.get("ref")) == "values" and _text(s.get("repoURL")) == repo_url for s in sources
        )
        for source in sources:
            from_here = _text(source.get("repoURL")) == repo_url
            base = _repo_path(_text(source.get("path"))) if source.get("path") else ""
            checks: list[tuple[str, str, bool]] = []
            if from_here and base:
                checks.append((_text(source.get("path")), base, True))
            for value_file in _list(_dig(source, "helm", "valueFiles")):
                text = _text(value_file)
                readable = values_from_here if text.startswith("$") else bool(from_here and base)
                if readable:
                    checks.append((text, _argocd_values_path(base, text), False))
            for written, relative, folder in checks:
                key = (manifest.source, relative)
                if key in seen or not _missing(ctx, relative, folder=folder):
                    continue
                seen.add(key)
                what = "folder" if folder else "file"
                yield Problem(
                    f"{manifest.kind} {manifest.name}: {what} {relative} does not exist",
                    ctx.location(manifest.source, _line_of_text(ctx, manifest, written.strip())),
                )


def _flux_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    for manifest in ctx.static_objects:
        spec = _map(manifest.data.get("spec"))
        checks: list[tuple[str, bool]] = []
        if _is(manifest, "kustomize.toolkit.fluxcd.io", "Kustomization"):
            if _text(_dig(spec, "sourceRef", "kind")) == "GitRepository" and spec.get("path"):
                checks.append((_text(spec.get("path")), True))
        elif _is(manifest, "helm.toolkit.fluxcd.io", "HelmRelease"):
            chart_spec = _map(_dig(spec, "chart", "spec"))
            if _text(_dig(chart_spec, "sourceRef", "kind")) == "GitRepository":
                checks.append((_text(chart_spec.get("chart")), True))
                checks.extend((_text(v), False) for v in _list(chart_spec.get("valuesFiles")))
        for written, folder in checks:
            relative = _repo_path(written)
            if written and _missing(ctx, relative, folder=folder):
                what = "folder" if folder else "file"
                yield Problem(
                    f"{manifest.kind} {manifest.name}: {what} {relative} does not exist",
                    ctx.location(manifest.source, _line_of_text(ctx, manifest, written)),
                )


def kustomization_files(ctx: ValidationContext) -> list[Path]:
    return [f.path for f in ctx.static_files if f.path.name in KUSTOMIZATION_FILES]


def _kustomization_missing_paths(ctx: ValidationContext) -> Iterator[Problem]:
    for path in kustomization_files(ctx):
        try:
            data = _map(yamlio.load_roundtrip(path))
        except ConfigError:
            continue
        folder = path.parent
        references: list[tuple[Any, Any, str]] = []
        resources = _list(data.get("resources"))
        references.extend((resources, index, _text(item)) for index, item in enumerate(resources))
        for generator in _list(data.get("configMapGenerator")) + _list(data.get("secretGenerator")):
            files = _list(_map(generator).get("files"))
            for index, item in enumerate(files):
                # `key=path` names the key; the file is after the `=`.
                references.append((files, index, _text(item).rpartition("=")[2]))
        for node, index, reference in references:
            if not reference or "://" in reference:
                continue
            target = (folder / reference).resolve()
            if not target.exists():
                yield Problem(
                    f"kustomization refers to {reference}, which does not exist",
                    ctx.location(path, yamlio.line_of(node, index)),
                )


# -- MG505 ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CniSetting:
    """Whether istiod's values turn on Istio CNI, and the values file that says so."""

    enabled: bool
    values: ValuesFile | None


def istiod_cni_setting(ctx: ValidationContext) -> CniSetting:
    """istiod's `cni.enabled` from platform/istio/istiod.values.yaml (chart default: off).

    Istio's documentation spells it `pilot.cni.enabled`: the istiod chart merges the
    `pilot:` mapping over the top level, so that spelling wins when both are present.
    """
    values = _load_values(ctx, ISTIOD_VALUES)
    if values is None:
        return CniSetting(False, None)
    enabled = False
    for holder in (values.data, _map(values.data.get("pilot"))):
        cni = holder.get("cni")
        if isinstance(cni, Mapping) and "enabled" in cni:
            enabled = cni.get("enabled") is True
    return CniSetting(enabled, values)


def mesh_uses_istio_cni(ctx: ValidationContext) -> bool | None:
    """Whether istiod leaves traffic redirection to Istio CNI (no `istio-init` injected).

    None when the repository neither installs istiod nor holds its values: a repository of
    plain manifests says nothing about the mesh it is applied to.
    """
    setting = istiod_cni_setting(ctx)
    if setting.values is None and not any(r.chart == "istiod" for r in helm_releases(ctx)):
        return None
    return setting.enabled


def _release_target(release: Release) -> str:
    """Where a release lands: Argo CD's destination cluster, or a Flux HelmRelease's folder.

    A cluster's Flux applies the HelmReleases of a folder together, so releases in one
    folder always run beside each other.
    """
    if _is(release.manifest, "argoproj.io", "Application"):
        destination = _map(_dig(release.manifest.data, "spec", "destination"))
        cluster = _text(destination.get("name")) or _text(destination.get("server"))
        return f"cluster {cluster!r}"
    return f"{posixpath.dirname(release.manifest.source)}/"


def _sync_wave(manifest: Manifest) -> int | None:
    annotations = _map(_dig(manifest.data, "metadata", "annotations"))
    try:
        return int(_text(annotations.get("argocd.argoproj.io/sync-wave")) or 0)
    except ValueError:
        return None


def _depends_on(manifest: Manifest) -> set[str]:
    return {
        _text(_map(entry).get("name")) for entry in _list(_dig(manifest.data, "spec", "dependsOn"))
    }


def _comes_after(ctx: ValidationContext, later: Release, earlier: Release) -> bool:
    """Whether the engine starts `later` only once `earlier` is ready.

    Argo CD: a higher sync wave. Flux: `earlier` among the HelmReleases `later` depends
    on, directly or through others in the same folder.
    """
    if _is(later.manifest, "argoproj.io", "Application"):
        later_wave, earlier_wave = _sync_wave(later.manifest), _sync_wave(earlier.manifest)
        # An unreadable wave is the schema rules' finding, not an ordering one.
        return later_wave is None or earlier_wave is None or later_wave > earlier_wave
    folder = posixpath.dirname(later.manifest.source)
    neighbours = {
        m.name: m
        for m in ctx.static_objects
        if _is(m, "helm.toolkit.fluxcd.io", "HelmRelease") and posixpath.dirname(m.source) == folder
    }
    seen: set[str] = set()
    pending = _depends_on(later.manifest)
    while pending:
        name = pending.pop()
        if name == earlier.manifest.name:
            return True
        if name in seen or name not in neighbours:
            continue
        seen.add(name)
        pending |= _depends_on(neighbours[name])
    return False


@rule("MG505", "istio-cni-mismatch", Severity.ERROR)
def istio_cni_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """istiod's `cni.enabled` and the Istio CNI release (chart `cni`) disagree, or run out of order.

    With `cni.enabled: true` istiod injects an `istio-validation` init container in place
    of `istio-init`, and it fails on every node without the Istio CNI node agent: release
    the `cni` chart as `istio-cni` in istio-system beside istiod, before it (sync wave or
    dependsOn), with values platform/istio/cni.values.yaml. A `cni` release while istiod's
    `cni.enabled` is not true leaves istiod injecting `istio-init`, which needs NET_ADMIN
    and NET_RAW: set `cni.enabled: true` in platform/istio/istiod.values.yaml.
    """
    releases = helm_releases(ctx)
    istiods = [r for r in releases if r.chart == "istiod"]
    cnis = [r for r in releases if r.chart == "cni"]
    setting = istiod_cni_setting(ctx)
    cni_targets = {_release_target(r) for r in cnis}
    istiod_targets = {_release_target(r) for r in istiods}

    def at(release: Release) -> Location:
        manifest = release.manifest
        return ctx.location(
            manifest.source, _line_of_text(ctx, manifest, f"chart: {release.chart}")
        )

    def where(release: Release) -> str:
        return f"{release.manifest.kind} {release.manifest.name}"

    if setting.enabled:
        for release in istiods:
            target = _release_target(release)
            if target not in cni_targets:
                yield Problem(
                    f"{where(release)} installs istiod with cni.enabled: true "
                    f"({ISTIOD_VALUES}), but no `cni` chart release runs beside it ({target}): "
                    "injected pods would fail their istio-validation init container",
                    at(release),
                )
                continue
            for cni in (r for r in cnis if _release_target(r) == target):
                if not _comes_after(ctx, release, cni):
                    yield Problem(
                        f"{where(release)} is not ordered after {where(cni)}: istiod could "
                        "inject pods before the Istio CNI node agent runs, and they would fail "
                        "their istio-validation init container; give the CNI release an "
                        "earlier sync wave, or list it under istiod's dependsOn",
                        at(release),
                    )
        return
    for release in cnis:
        target = _release_target(release)
        if target in istiod_targets:
            yield Problem(
                f"{where(release)} installs the Istio CNI node agent, but cni.enabled is not "
                f"true in {ISTIOD_VALUES}: istiod still injects istio-init, which needs "
                "NET_ADMIN and NET_RAW",
                at(release),
            )
