"""The cluster each environment becomes, as the mesh analyzers see it.

A `World` holds the objects one cluster would get: an environment's rendered objects
plus the repository's static objects (platform/, gitops/), or, for plain files, every
object given. It also knows what the platform charts install but no manifest shows:
the Istio ingress gateway (from the `gateway` chart's values) and istiod's meshConfig
(from the `istiod` chart's values), read from values files and from Argo CD
Applications or Flux HelmReleases that carry inline values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from meshgen.errors import ConfigError
from meshgen.render import Manifest
from meshgen.repo import find_root
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts import environment_values
from meshgen.validate.facts.access import as_map, labels_of, spec, str_map
from meshgen.validate.facts.gateway_installs import (
    GatewayInstall,
    chart_installs,
    install_from_values,
    release_from_file,
    service_ports,
    service_target_ports,
    values_file_chart,
)
from meshgen.validate.facts.gitops import managed_namespaces
from meshgen.validate.facts.hosts import CLUSTER_DOMAIN
from meshgen.validate.facts.mesh_context import (
    MeshContext,
    default_gateway_objects,
    load_mesh_config,
)
from meshgen.validate.facts.meshconfig import DEFAULT_MESH_CONFIG
from meshgen.validate.facts.workloads import Workload
from meshgen.validate.findings import ObjectRef, Problem, Severity
from meshgen.validate.inputs.static_files import repo_static_files

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod")
INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
T = TypeVar("T")


def is_istio(manifest: Manifest, kind: str) -> bool:
    return manifest.kind == kind and manifest.api_version.startswith("networking.istio.io/")


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@dataclass
class World:
    """The objects of one cluster (one environment), indexed for the analyzers."""

    environment: str
    objects: Sequence[Manifest]
    values_documents: Sequence[tuple[Path, Any]] = ()
    default_namespace: str = "default"
    shared: frozenset[int] = frozenset()
    """ids of the objects every environment shares (static files): reported unlabelled."""
    context: MeshContext = field(default_factory=MeshContext)
    """What the input cannot show: the mesh configuration, the default ingress gateway."""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    """Facts other modules derive once per World (hosts, endpoints)."""
    shared_memo: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    """Facts of the shared objects, one dict for all the Worlds of a run (per_object)."""
    _namespaces: Mapping[str, Manifest] | None = field(default=None, repr=False)
    by_kind: dict[str, list[Manifest]] = field(default_factory=dict, repr=False)
    """`objects` by kind, in their order: given by _worlds (which indexes the shared
    objects once for every World), else indexed here."""
    # Several analyzers ask each World for its gateways and meshConfig; both read every
    # static object, which each World shares, so computing them once per World keeps a
    # run linear in environments.
    _installs: list[GatewayInstall] | None = field(default=None, repr=False)
    _mesh_config: tuple[dict[str, Any], str | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.by_kind:
            self.by_kind = _by_kind(self.objects)

    def label(self, manifest: Manifest | None = None) -> str:
        if not self.environment or (manifest is not None and id(manifest) in self.shared):
            return ""
        return f"[{self.environment}] "

    def kind(self, kind: str) -> list[Manifest]:
        return self.by_kind.get(kind, [])

    def istio(self, kind: str) -> list[Manifest]:
        return [m for m in self.kind(kind) if is_istio(m, kind)]

    def namespace_of(self, manifest: Manifest) -> str:
        return manifest.namespace or self.default_namespace

    # -- Kubernetes ----------------------------------------------------------------

    def workloads(self) -> list[Workload]:
        """The objects whose pods a Service or gateway selector can select (not Jobs)."""
        if "workloads" not in self.cache:  # asked for per namespace, per gateway...
            self.cache["workloads"] = self._workloads()
        return list(self.cache["workloads"])

    def _workloads(self) -> list[Workload]:
        found = []
        for kind in WORKLOAD_KINDS:
            for manifest in self.kind(kind):
                template = manifest.data if kind == "Pod" else spec(manifest).get("template")
                if kind == "Job" or not isinstance(template, Mapping):
                    continue
                found.append(
                    Workload(
                        self.environment,
                        manifest,
                        as_map(template.get("spec")),
                        self.namespace_of(manifest),
                    )
                )
        return found

    def services_selecting(self, workload: Workload) -> list[Manifest]:
        """The Services (with a selector) of the workload's namespace that select its pods."""
        return [
            s
            for s in self.kind("Service")
            if self.namespace_of(s) == workload.namespace
            and (selector := str_map(spec(s).get("selector")))
            and selects(selector, workload.pod_labels)
        ]

    def service(self, name: str, namespace: str) -> Manifest | None:
        for manifest in self.kind("Service"):
            if manifest.name == name and self.namespace_of(manifest) == namespace:
                return manifest
        return None

    def service_entry_hosts(self) -> set[str]:
        hosts: set[str] = set()
        for entry in self.istio("ServiceEntry"):
            for host in spec(entry).get("hosts") or []:
                hosts.add(str(host))
        return hosts

    def resolve_service(self, host: str, namespace: str) -> tuple[str, str] | None:
        """(name, namespace) of the Service a cluster-local host names, else None."""
        if "*" in host:
            return None
        if "." not in host:
            return host, namespace
        suffixes = (f".{CLUSTER_DOMAIN}", ".svc")
        for suffix in suffixes:
            if host.endswith(suffix):
                parts = host[: -len(suffix)].split(".")
                if len(parts) == 2:
                    return parts[0], parts[1]
        return None

    def fqdn(self, host: str, namespace: str) -> str:
        resolved = self.resolve_service(host, namespace)
        if resolved is None:
            return host
        return f"{resolved[0]}.{resolved[1]}.{CLUSTER_DOMAIN}"

    def namespaces(self) -> Mapping[str, Manifest]:
        # Asked for by a dozen analyzers; every environment's World holds the namespaces
        # of all the static files, so building it each time would grow with the square
        # of the environments.
        if self._namespaces is None:
            self._namespaces = MappingProxyType({m.name: m for m in self.kind("Namespace")})
        return self._namespaces

    def sorted_namespaces(self) -> Sequence[tuple[str, Manifest]]:
        """(name, Namespace) in name order, as the namespace analyzers report them."""
        if "sorted namespaces" not in self.cache:
            self.cache["sorted namespaces"] = tuple(sorted(self.namespaces().items()))
        found: Sequence[tuple[str, Manifest]] = self.cache["sorted namespaces"]
        return found

    def labels(self, manifest: Manifest) -> Mapping[str, str]:
        """An object's `metadata.labels` as text (computed once for a shared object)."""
        return self.per_object("labels", manifest, _labels)

    def per_object(self, fact: str, manifest: Manifest, compute: Callable[[Manifest], T]) -> T:
        """`compute(manifest)`, a fact of the object alone, computed once per run for an
        object every World shares (a static one), and once per World for the others."""
        if id(manifest) in self.shared:
            memo = self.shared_memo
        else:
            memo = self.cache.setdefault("per-object", {})
        key = (fact, id(manifest))
        if key not in memo:
            memo[key] = compute(manifest)
        result: T = memo[key]
        return result

    # -- what the platform charts install ------------------------------------------

    def gateway_installs(self) -> list[GatewayInstall]:
        if self._installs is None:
            self._installs = self._find_gateway_installs()
        return list(self._installs)

    def _find_gateway_installs(self) -> list[GatewayInstall]:
        installs = [
            install_from_values(name, values, origin)
            for name, values, origin in self._chart_values("gateway")
        ]
        for workload in self.workloads():
            if workload.manifest.kind == "Pod" and not workload.pod_labels:
                continue
            services = self.services_selecting(workload)
            ports: frozenset[int] | None = None
            exposed: frozenset[int] | None = None
            if services:
                ports = frozenset(p for s in services for p in service_target_ports(s))
                exposed = frozenset(p for s in services for p in service_ports(s))
            installs.append(
                GatewayInstall(
                    workload.manifest.name,
                    workload.pod_labels,
                    services[0].name if services else None,
                    ports,
                    workload.manifest.ref,
                    workload.namespace,
                    exposed,
                )
            )
        return installs

    def mesh_config(self) -> tuple[dict[str, Any], str | None]:
        """istiod's meshConfig (defaults filled in) and where it was found, if anywhere."""
        if self._mesh_config is None:
            self._mesh_config = self._find_mesh_config()
        mesh, origin = self._mesh_config
        return dict(mesh), origin

    def _find_mesh_config(self) -> tuple[dict[str, Any], str | None]:
        if self.context.mesh_config is not None:
            return {**DEFAULT_MESH_CONFIG, **self.context.mesh_config}, self.context.mesh_origin
        for _, values, origin in self._chart_values("istiod"):
            mesh = values.get("meshConfig")
            if isinstance(mesh, Mapping):
                return {**DEFAULT_MESH_CONFIG, **mesh}, origin
        for config_map in self.kind("ConfigMap"):
            data = config_map.data.get("data")
            if config_map.name == "istio" and isinstance(data, Mapping) and "mesh" in data:
                try:
                    mesh = yaml.safe_load(str(data["mesh"]))
                except yaml.YAMLError:
                    continue
                if isinstance(mesh, Mapping):
                    return {**DEFAULT_MESH_CONFIG, **mesh}, config_map.ref
        return dict(DEFAULT_MESH_CONFIG), None

    def _chart_values(self, chart: str) -> Iterator[tuple[str, Mapping[str, Any], str]]:
        """(release name, values, origin) for every install of an Istio chart `chart`.

        An Application or HelmRelease without inline values takes them from the repo's
        values files (`valueFiles`, `valuesFrom` a generated ConfigMap) when there are
        any: it is then the same install, not a second one with chart defaults.
        """
        from_files = False
        for path, document in self.values_documents:
            if isinstance(document, Mapping) and values_file_chart(path) == chart:
                from_files = True
                yield release_from_file(path), document, path.as_posix()
        for kind in ("HelmRelease", "Application"):
            for manifest in self.kind(kind):
                installs = self.per_object("installs", manifest, chart_installs).get(chart, ())
                for release, values in installs:
                    if not isinstance(values, Mapping) and from_files:
                        continue
                    yield release, values if isinstance(values, Mapping) else {}, manifest.ref


def problem_at(
    ctx: ValidationContext,
    world: World,
    manifest: Manifest,
    message: str,
    severity: Severity | None = None,
) -> Problem:
    return Problem(
        f"{world.label(manifest)}{manifest.ref}: {message}",
        ctx.location(manifest.source, manifest.line),
        severity,
        ObjectRef(manifest.api_version, manifest.kind, world.namespace_of(manifest), manifest.name),
    )


def worlds(ctx: ValidationContext) -> list[World]:
    """One World per environment (its renders plus the static objects), or, without
    renders, a single World of the static objects (the plain-object mode)."""
    return ctx.memo(_worlds)


def _worlds(ctx: ValidationContext) -> list[World]:
    static = ctx.static_objects
    # Namespaces Argo CD creates come first: a Namespace manifest of the same name wins.
    managed = managed_namespaces(ctx)
    values = ctx.values_documents
    namespaces = {e.name: e.namespace for e in ctx.environments}
    rendered: dict[str, list[Manifest]] = {}
    for rendering in ctx.renderings:
        rendered.setdefault(rendering.environment, []).extend(rendering.manifests)
    if not rendered:
        context = _files_context(ctx)
        values = [*values, *_repository_values(ctx)]
        has_chart = any(values_file_chart(path) == "gateway" for path, _ in values)
        assumed = [] if has_chart else default_gateway_objects(static, context)
        return [World("", [*managed, *static, *assumed], values, context=context)]
    shared = frozenset(id(obj) for obj in (*managed, *static))
    shared_memo: dict[tuple[str, int], Any] = {}
    first, last = _by_kind(managed), _by_kind(static)
    values_seen = environment_values.EnvironmentValues(values, namespaces)
    return [
        World(
            env,
            [*managed, *objects, *static],
            values_seen.for_environment(env),
            default_namespace=namespaces.get(env, env),
            shared=shared,
            shared_memo=shared_memo,
            by_kind=_joined(first, _by_kind(objects), last),
        )
        for env, objects in rendered.items()
    ]


def _labels(manifest: Manifest) -> Mapping[str, str]:
    return MappingProxyType(labels_of(manifest.data))


def _by_kind(objects: Sequence[Manifest]) -> dict[str, list[Manifest]]:
    found: dict[str, list[Manifest]] = {}
    for manifest in objects:
        found.setdefault(manifest.kind, []).append(manifest)
    return found


def _joined(*parts: dict[str, list[Manifest]]) -> dict[str, list[Manifest]]:
    """Indexes by kind of consecutive runs of objects, as one index of them all."""
    joined: dict[str, list[Manifest]] = {}
    for part in parts:
        for kind, manifests in part.items():
            joined[kind] = [*joined.get(kind, ()), *manifests]
    return joined


def _repository_values(ctx: ValidationContext) -> list[tuple[Path, Any]]:
    """Plain files checked inside a generated repository (`meshgen render | meshgen
    validate --files -`) run on what its platform/ values install, not on assumptions."""
    if not ctx.files_mode:
        return []
    try:
        root = find_root(ctx.root)
    except ConfigError:
        return []
    return [
        (Path(ctx.rel(file.path)), document.data)
        for file in repo_static_files(root, ctx.rel)
        for document in file.documents
    ]


def _files_context(ctx: ValidationContext) -> MeshContext:
    """For plain files, what istioctl assumes; a repository says what it installs."""
    if not ctx.files_mode:
        return MeshContext()
    path = ctx.options.mesh_config
    mesh = load_mesh_config(ctx.root / path, str(path)) if path is not None else None
    return MeshContext(mesh, str(path) if path else None, ctx.options.default_gateway)
