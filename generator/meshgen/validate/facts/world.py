"""The cluster each environment becomes, as the mesh analyzers see it.

A `World` holds the objects one cluster would get: an environment's rendered objects
plus the repository's static objects (platform/, gitops/), or, for plain files, every
object given. It also knows what the platform charts install but no manifest shows:
the Istio ingress gateway (from the `gateway` chart's values) and istiod's meshConfig
(from the `istiod` chart's values), read from values files and from Argo CD
Applications or Flux HelmReleases that carry inline values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, spec, str_map
from meshgen.validate.facts.meshconfig import DEFAULT_MESH_CONFIG
from meshgen.validate.facts.workloads import Workload
from meshgen.validate.findings import Problem

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod")
CLUSTER_DOMAIN = "svc.cluster.local"
INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"


# The Istio `gateway` chart's Service ports when its values set none.
_GATEWAY_CHART_PORTS = ((15021, 15021), (80, 80), (443, 443))


def is_istio(manifest: Manifest, kind: str) -> bool:
    return manifest.kind == kind and manifest.api_version.startswith("networking.istio.io/")


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@dataclass(frozen=True)
class GatewayInstall:
    """An ingress gateway the repository installs: pod labels and its Service's ports.

    `target_ports` is None when the ports are not known (a Deployment without a Service).
    """

    name: str
    pod_labels: Mapping[str, str]
    service_name: str | None
    target_ports: frozenset[int] | None
    origin: str


@dataclass
class World:
    """The objects of one cluster (one environment), indexed for the analyzers."""

    environment: str
    objects: Sequence[Manifest]
    values_documents: Sequence[tuple[Path, Any]] = ()
    default_namespace: str = "default"
    shared: frozenset[int] = frozenset()
    """ids of the objects every environment shares (static files): reported unlabelled."""
    _by_kind: dict[str, list[Manifest]] = field(default_factory=dict, repr=False)
    # Several analyzers ask each World for its gateways and meshConfig; both read every
    # static object, which each World shares, so computing them once per World keeps a
    # run linear in environments.
    _installs: list[GatewayInstall] | None = field(default=None, repr=False)
    _mesh_config: tuple[dict[str, Any], str | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for manifest in self.objects:
            self._by_kind.setdefault(manifest.kind, []).append(manifest)

    def label(self, manifest: Manifest | None = None) -> str:
        if not self.environment or (manifest is not None and id(manifest) in self.shared):
            return ""
        return f"[{self.environment}] "

    def kind(self, kind: str) -> list[Manifest]:
        return self._by_kind.get(kind, [])

    def istio(self, kind: str) -> list[Manifest]:
        return [m for m in self.kind(kind) if is_istio(m, kind)]

    def namespace_of(self, manifest: Manifest) -> str:
        return manifest.namespace or self.default_namespace

    # -- Kubernetes ----------------------------------------------------------------

    def workloads(self) -> list[Workload]:
        """The objects whose pods a Service or gateway selector can select (not Jobs)."""
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

    def namespaces(self) -> dict[str, Manifest]:
        return {m.name: m for m in self.kind("Namespace")}

    # -- what the platform charts install ------------------------------------------

    def gateway_installs(self) -> list[GatewayInstall]:
        if self._installs is None:
            self._installs = self._find_gateway_installs()
        return list(self._installs)

    def _find_gateway_installs(self) -> list[GatewayInstall]:
        installs = [
            _install_from_values(name, values, origin)
            for name, values, origin in self._chart_values("gateway")
        ]
        for workload in self.workloads():
            if workload.manifest.kind == "Pod" and not workload.pod_labels:
                continue
            services = [
                s
                for s in self.kind("Service")
                if self.namespace_of(s) == workload.namespace
                and (selector := str_map(spec(s).get("selector")))
                and selects(selector, workload.pod_labels)
            ]
            ports: frozenset[int] | None = None
            if services:
                ports = frozenset(p for s in services for p in _service_target_ports(s))
            installs.append(
                GatewayInstall(
                    workload.manifest.name,
                    workload.pod_labels,
                    services[0].name if services else None,
                    ports,
                    workload.manifest.ref,
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
            if isinstance(document, Mapping) and _values_file_chart(path) == chart:
                from_files = True
                yield _release_from_file(path), document, path.as_posix()
        for manifest in self.kind("HelmRelease"):
            chart_spec = (spec(manifest).get("chart") or {}).get("spec") or {}
            if isinstance(chart_spec, Mapping) and chart_spec.get("chart") == chart:
                inline = spec(manifest).get("values")
                if not isinstance(inline, Mapping) and from_files:
                    continue
                release = str(spec(manifest).get("releaseName") or manifest.name)
                yield release, inline if isinstance(inline, Mapping) else {}, manifest.ref
        for manifest in self.kind("Application"):
            sources = [spec(manifest).get("source"), *(spec(manifest).get("sources") or [])]
            for source in sources:
                if not isinstance(source, Mapping) or source.get("chart") != chart:
                    continue
                helm = as_map(source.get("helm"))
                values: Any = helm.get("valuesObject")
                if values is None and isinstance(helm.get("values"), str):
                    try:
                        values = yaml.safe_load(helm["values"])
                    except yaml.YAMLError:
                        values = None
                if not isinstance(values, Mapping) and from_files:
                    continue
                release = str(helm.get("releaseName") or manifest.name)
                yield release, values if isinstance(values, Mapping) else {}, manifest.ref


def _values_file_chart(path: Path) -> str | None:
    """Which Istio chart a values file is for, from its name: gateway*.yaml, istiod*.yaml."""
    stem = path.name.split(".")[0]
    if re.fullmatch(r"(istio-)?(ingress)?gateway(-[\w-]+)?", stem):
        return "gateway"
    if re.fullmatch(r"istiod(-[\w-]+)?", stem):
        return "istiod"
    return None


def _release_from_file(path: Path) -> str:
    stem = path.name.split(".")[0]
    return stem if stem.startswith("istio") else f"istio-{stem}"


def _install_from_values(release: str, values: Mapping[str, Any], origin: str) -> GatewayInstall:
    """Mirror the gateway chart's helpers: name, selector labels and Service ports."""
    name = str(values.get("name") or release)
    extra = str_map(values.get("labels"))
    pod_labels = {
        **extra,
        "app": extra.get("app", name),
        "istio": extra.get("istio", name.removeprefix("istio-")),
    }
    service = as_map(values.get("service"))
    ports_value = service.get("ports")
    if isinstance(ports_value, list):
        pairs = []
        for port in ports_value:
            if isinstance(port, Mapping) and isinstance(port.get("port"), int):
                target = port.get("targetPort", port["port"])
                pairs.append(target if isinstance(target, int) else port["port"])
        ports = frozenset(pairs)
    else:
        ports = frozenset(target for _, target in _GATEWAY_CHART_PORTS)
    return GatewayInstall(name, pod_labels, name, ports, origin)


def _service_target_ports(service: Manifest) -> Iterator[int]:
    for port in spec(service).get("ports") or []:
        if not isinstance(port, Mapping):
            continue
        target = port.get("targetPort")
        if isinstance(target, int):
            yield target
        elif isinstance(port.get("port"), int):
            yield port["port"]


def host_matches(pattern: str, host: str) -> bool:
    """Istio host matching: `*` matches all, `*.example.com` a suffix, else equality."""
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) or host == pattern
    return pattern == host


def route_destinations(manifest: Manifest) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """(protocol, route entries) of every route of a VirtualService."""
    body = spec(manifest)
    for protocol in ("http", "tcp", "tls"):
        for route_rule in body.get(protocol) or []:
            if not isinstance(route_rule, Mapping):
                continue
            route = route_rule.get("route")
            if isinstance(route, list):
                yield protocol, [r for r in route if isinstance(r, Mapping)]


def problem_at(ctx: ValidationContext, world: World, manifest: Manifest, message: str) -> Problem:
    return Problem(
        f"{world.label(manifest)}{manifest.ref}: {message}",
        ctx.location(manifest.source, manifest.line),
    )


def worlds(ctx: ValidationContext) -> list[World]:
    """One World per environment (its renders plus the static objects), or, without
    renders, a single World of the static objects (the plain-object mode)."""
    return ctx.memo(_worlds)


def _worlds(ctx: ValidationContext) -> list[World]:
    static = ctx.static_objects
    values = ctx.values_documents
    namespaces = {e.name: e.namespace for e in ctx.environments}
    rendered: dict[str, list[Manifest]] = {}
    for rendering in ctx.renderings:
        rendered.setdefault(rendering.environment, []).extend(rendering.manifests)
    if not rendered:
        return [World("", static, values)]
    return [
        World(
            env,
            [*objects, *static],
            values,
            default_namespace=namespaces.get(env, env),
            shared=frozenset(id(obj) for obj in static),
        )
        for env, objects in rendered.items()
    ]
