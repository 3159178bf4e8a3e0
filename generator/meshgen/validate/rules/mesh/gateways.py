"""Gateways: a workload to select, a binding that exists, hosts and ports it serves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import spec, str_map
from meshgen.validate.facts.world import World, host_matches, problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG405", "gateway-selector-no-workload", Severity.ERROR, istio_code="IST0101")
def gateway_selector_no_workload(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway's selector matches no gateway the repository installs.

    Set `spec.selector` to the labels of the ingress gateway's pods (with the `gateway`
    chart released as `istio-gateway`, that is `istio: gateway`).
    """
    for world in worlds(ctx):
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            if any(selects(selector, install.pod_labels) for install in installs):
                continue
            shown = ", ".join(f"{k}={v}" for k, v in selector.items()) or "(empty)"
            known = ", ".join(
                sorted(
                    {f"istio={i.pod_labels['istio']}" for i in installs if "istio" in i.pod_labels}
                )
            )
            yield problem_at(
                ctx,
                world,
                gateway,
                f"selector {shown} matches no gateway workload"
                + (f" (installed gateways: {known})" if known else " (no gateway installed)"),
            )


def _bound_gateways(world: World, service: Manifest) -> Iterator[tuple[str, Manifest | None]]:
    namespace = world.namespace_of(service)
    gateways = {(world.namespace_of(g), g.name): g for g in world.istio("Gateway")}
    for entry in spec(service).get("gateways") or []:
        name = str(entry)
        if name == "mesh":
            continue
        gw_namespace, _, gw_name = name.rpartition("/")
        yield name, gateways.get((gw_namespace or namespace, gw_name))


@rule("MG406", "gateway-not-found", Severity.ERROR, istio_code="IST0101")
def gateway_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService binds a Gateway that does not exist.

    Name the Gateway as `namespace/name` (the Gateway lives in the ingress gateway's
    namespace), or create it.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for name, gateway in _bound_gateways(world, service):
                if gateway is None:
                    yield problem_at(
                        ctx, world, service, f"binds gateway {name!r}, which does not exist"
                    )


@rule("MG407", "host-not-in-gateway", Severity.WARNING, istio_code="IST0132")
def host_not_in_gateway(ctx: ValidationContext) -> Iterator[Problem]:
    """None of a VirtualService's hosts is served by a Gateway it binds.

    Add the external host to the Gateway's `servers[].hosts`, or correct the host in
    the VirtualService (in a generated repository: `host:` in the environment file).
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            hosts = [str(h) for h in spec(service).get("hosts") or []]
            for name, gateway in _bound_gateways(world, service):
                if gateway is None:
                    continue
                served: list[str] = []
                for server in spec(gateway).get("servers") or []:
                    if isinstance(server, Mapping):
                        served.extend(str(h).rpartition("/")[2] for h in server.get("hosts") or [])
                if not any(host_matches(p, h) for p in served for h in hosts):
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"none of its hosts ({', '.join(hosts)}) is served by gateway "
                        f"{name} (hosts: {', '.join(served) or 'none'})",
                    )


@rule("MG408", "gateway-port-not-on-service", Severity.WARNING, istio_code="IST0162")
def gateway_port_not_on_service(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway listens on a port that the gateway's Service does not expose.

    Add the port to the gateway Service (`service.ports` in the gateway chart's values,
    with `targetPort` equal to the Gateway's port number), or use a port it exposes.
    """
    for world in worlds(ctx):
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            matched = [
                i
                for i in installs
                if selects(selector, i.pod_labels) and i.target_ports is not None
            ]
            if not matched:
                continue
            exposed = frozenset().union(*(i.target_ports or frozenset() for i in matched))
            for server in spec(gateway).get("servers") or []:
                port = (server.get("port") or {}) if isinstance(server, Mapping) else {}
                number = port.get("number") if isinstance(port, Mapping) else None
                if isinstance(number, int) and number not in exposed:
                    service_names = ", ".join(sorted({str(i.service_name) for i in matched}))
                    yield problem_at(
                        ctx,
                        world,
                        gateway,
                        f"listens on port {number}, which Service {service_names} does not "
                        f"expose (target ports: {', '.join(map(str, sorted(exposed)))})",
                    )
