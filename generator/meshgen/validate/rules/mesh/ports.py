"""Service port names and protocol selection (istioctl's service.PortNameAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import spec
from meshgen.validate.facts.hosts import Port, service_ports
from meshgen.validate.facts.injection import SYSTEM_NAMESPACES
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

# Protocols Istio reads from a port name's prefix (`http-web`) or from `appProtocol`.
PROTOCOLS = frozenset(
    {"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "udp", "mongo", "redis", "mysql"}
)


def _protocol_known(service: Manifest, port: Port) -> bool:
    if port.protocol.upper() == "UDP":
        return True
    for item in spec(service).get("ports") or []:
        if isinstance(item, dict) and item.get("port") == port.number and item.get("appProtocol"):
            return str(item["appProtocol"]).lower() in PROTOCOLS
    name = port.name.lower()
    return name in PROTOCOLS or name.split("-", 1)[0] in PROTOCOLS


def _checked_services(world: World) -> Iterator[tuple[Manifest, Port]]:
    for service in world.kind("Service"):
        if world.namespace_of(service) in SYSTEM_NAMESPACES:
            continue
        for port in service_ports(service):
            yield service, port


@rule(
    "MG422",
    "port-name-protocol",
    Severity.INFO,
    istio_code="IST0118",
    istio_analyzer="service.PortNameAnalyzer",
)
def port_name_protocol(ctx: ValidationContext) -> Iterator[Problem]:
    """A Service port's name does not say its protocol, so Istio has to sniff it.

    Name the port `<protocol>[-<suffix>]` (`http`, `http-web`, `grpc`, `tcp-db`), or set
    `appProtocol`.
    """
    for world in worlds(ctx):
        for service, port in _checked_services(world):
            if spec(service).get("type") == "ExternalName":
                continue  # MG423
            if not _protocol_known(service, port):
                yield problem_at(
                    ctx,
                    world,
                    service,
                    f"port {port.number} name {port.name or '(none)'!r} does not start with a "
                    "protocol Istio knows",
                )


@rule(
    "MG423",
    "external-name-port-name",
    Severity.WARNING,
    istio_code="IST0150",
    istio_analyzer="service.PortNameAnalyzer",
)
def external_name_port_name(ctx: ValidationContext) -> Iterator[Problem]:
    """An ExternalName Service's port is named `tcp` or names no protocol.

    Name it for the protocol it serves (`http`, `https`, `tls-...`); the proxy may not
    forward traffic of a bare `tcp` port of an ExternalName Service correctly.
    """
    for world in worlds(ctx):
        for service, port in _checked_services(world):
            if spec(service).get("type") != "ExternalName":
                continue
            if port.name.lower() == "tcp" or not _protocol_known(service, port):
                yield problem_at(
                    ctx,
                    world,
                    service,
                    f"ExternalName port {port.number} is named {port.name or '(none)'!r}",
                )
