"""Hosts as Istio resolves them: Services and ServiceEntries, scoped by `exportTo`.

istioctl looks a destination host up in a registry where every Service (visible where
its `networking.istio.io/exportTo` annotation says, by default everywhere) and every
ServiceEntry host (visible where its `exportTo` says) is keyed by the namespaces that
can see it, with wildcard hosts matched last. A host is written in full for lookups:
`reviews` in namespace `default` is `reviews.default.svc.cluster.local`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshgen.render import Manifest
from meshgen.validate.facts.access import as_list, as_map, spec

if TYPE_CHECKING:
    from meshgen.validate.facts.world import World

CLUSTER_DOMAIN = "svc.cluster.local"
EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo"
EVERYWHERE = "*"


def to_fqdn(host: str, namespace: str) -> str:
    """A cluster-local short name in full (`reviews` -> `reviews.<ns>.svc.cluster.local`)."""
    if not host or host.startswith("*"):
        return host
    if "." not in host:
        return f"{host}.{namespace}.{CLUSTER_DOMAIN}"
    if host.count(".") == 1:
        return f"{host}.{CLUSTER_DOMAIN}"
    if host.endswith(".svc"):
        return f"{host}.cluster.local"
    return host


def host_matches(first: str, second: str) -> bool:
    """Istio's host matching: equal, or one a wildcard (`*`, `*.example.com`) covering the other."""
    if first == second:
        return True
    first_wild, second_wild = first.startswith("*"), second.startswith("*")
    if first_wild and second_wild:
        return first[1:].endswith(second[1:]) or second[1:].endswith(first[1:])
    if first_wild:
        return second.endswith(first[1:])
    if second_wild:
        return first.endswith(second[1:])
    return False


@dataclass(frozen=True)
class Port:
    number: int
    name: str
    protocol: str
    target: int | str | None = None


@dataclass(frozen=True)
class HostEntry:
    """A host a Service or ServiceEntry provides, with its ports."""

    host: str
    namespace: str
    ports: tuple[Port, ...]
    source: Manifest


def _scopes(export_to: Sequence[Any], namespace: str) -> list[str]:
    scopes = [namespace if str(item) == "." else str(item) for item in export_to]
    return [EVERYWHERE] if not scopes or EVERYWHERE in scopes else scopes


def service_ports(service: Manifest) -> tuple[Port, ...]:
    ports = []
    for port in as_list(spec(service).get("ports")):
        if isinstance(port, Mapping) and isinstance(port.get("port"), int):
            target = port.get("targetPort")
            ports.append(
                Port(
                    port["port"],
                    str(port.get("name") or ""),
                    str(port.get("protocol") or "TCP"),
                    target if isinstance(target, int | str) else None,
                )
            )
    return tuple(ports)


class HostRegistry:
    """Every host of one cluster, by the scope (a namespace, or `*`) that can see it."""

    def __init__(
        self, services: Sequence[tuple[Manifest, str]], entries: Sequence[tuple[Manifest, str]]
    ):
        self._scoped: dict[tuple[str, str], HostEntry] = {}
        self._wildcards: list[tuple[str, HostEntry]] = []
        for entry, namespace in entries:
            body = spec(entry)
            ports = tuple(
                Port(p["number"], str(p.get("name") or ""), str(p.get("protocol") or ""))
                for p in as_list(body.get("ports"))
                if isinstance(p, Mapping) and isinstance(p.get("number"), int)
            )
            for scope in _scopes(as_list(body.get("exportTo")), namespace):
                for host in as_list(body.get("hosts")):
                    fqdn = to_fqdn(str(host), namespace)
                    self._add(scope, HostEntry(fqdn, namespace, ports, entry))
        for service, namespace in services:
            annotation = str(
                as_map(as_map(service.data.get("metadata")).get("annotations")).get(
                    EXPORT_TO_ANNOTATION, ""
                )
            )
            export_to = [item.strip() for item in annotation.split(",") if item.strip()]
            fqdn = to_fqdn(service.name, namespace)
            for scope in _scopes(export_to, namespace):
                self._add(scope, HostEntry(fqdn, namespace, service_ports(service), service))

    def _add(self, scope: str, entry: HostEntry) -> None:
        if entry.host.startswith("*"):
            self._wildcards.append((scope, entry))
        else:
            self._scoped.setdefault((scope, entry.host), entry)

    def lookup(self, host: str, namespace: str, export_to: Sequence[Any] = ()) -> HostEntry | None:
        """The entry a host names, seen from `namespace` by a resource exported to `export_to`."""
        fqdn = to_fqdn(host, namespace)
        found = self._scoped.get((EVERYWHERE, fqdn))
        if found is not None:
            return found
        scopes = [namespace if str(e) == "." else str(e) for e in export_to] or [namespace]
        for scope in scopes:
            found = self._scoped.get((scope, fqdn))
            if found is not None:
                return found
        for scope, entry in self._wildcards:
            if scope in (EVERYWHERE, namespace) and fqdn.lstrip("*").endswith(entry.host[1:]):
                return entry
        return None


@dataclass(frozen=True)
class Destination:
    """One destination of a VirtualService: where it sits (`http[0].route[1]`) and its fields."""

    where: str
    protocol: str
    host: str
    subset: str | None
    port: int | None
    weight: Any
    mirror: bool = False


def destinations(manifest: Manifest) -> Iterator[Destination]:
    """Every route and mirror destination of a VirtualService."""
    body = spec(manifest)
    for protocol in ("http", "tcp", "tls"):
        for index, route_rule in enumerate(as_list(body.get(protocol))):
            if not isinstance(route_rule, Mapping):
                continue
            for position, entry in enumerate(as_list(route_rule.get("route"))):
                if isinstance(entry, Mapping):
                    yield _destination(
                        f"{protocol}[{index}].route[{position}]",
                        protocol,
                        entry.get("destination"),
                        entry.get("weight"),
                    )
            if protocol != "http":
                continue
            if isinstance(route_rule.get("mirror"), Mapping):
                yield _destination(
                    f"http[{index}].mirror", protocol, route_rule["mirror"], None, True
                )
            for position, entry in enumerate(as_list(route_rule.get("mirrors"))):
                if isinstance(entry, Mapping):
                    yield _destination(
                        f"http[{index}].mirrors[{position}]",
                        protocol,
                        entry.get("destination"),
                        None,
                        True,
                    )


def _destination(
    where: str, protocol: str, value: Any, weight: Any, mirror: bool = False
) -> Destination:
    body = as_map(value)
    port = as_map(body.get("port")).get("number")
    subset = body.get("subset")
    return Destination(
        where,
        protocol,
        str(body.get("host") or ""),
        str(subset) if subset else None,
        port if isinstance(port, int) else None,
        weight,
        mirror,
    )


def registry(world: World) -> HostRegistry:
    """The World's hosts, indexed once."""
    found = world.cache.get("hosts")
    if not isinstance(found, HostRegistry):
        found = HostRegistry(
            [(s, world.namespace_of(s)) for s in world.kind("Service")],
            [(e, world.namespace_of(e)) for e in world.istio("ServiceEntry")],
        )
        world.cache["hosts"] = found
    return found
