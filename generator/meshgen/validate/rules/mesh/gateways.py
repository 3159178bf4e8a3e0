"""Gateways and the VirtualServices bound to them (istioctl's gateway and
virtualservice.GatewayAnalyzer checks)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec, str_map
from meshgen.validate.facts.gateway_bindings import bindings, served_hosts
from meshgen.validate.facts.hosts import host_matches
from meshgen.validate.facts.world import problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG405",
    "gateway-selector-no-workload",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="gateway.IngressGatewayPortAnalyzer",
)
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


@rule(
    "MG406",
    "gateway-not-found",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="virtualservice.GatewayAnalyzer",
)
def gateway_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService binds a Gateway that does not exist.

    Name the Gateway as `namespace/name` (an Istio Gateway, or a Kubernetes Gateway API
    Gateway), or create it.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for binding in bindings(world, service):
                if binding.gateway is None and not binding.internal:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"binds gateway {binding.reference!r}, which does not exist "
                        f"(looked for Gateway {binding.full_name})",
                    )


@rule(
    "MG407",
    "host-not-in-gateway",
    Severity.WARNING,
    istio_code="IST0132",
    istio_analyzer="virtualservice.GatewayAnalyzer",
)
def host_not_in_gateway(ctx: ValidationContext) -> Iterator[Problem]:
    """None of a VirtualService's hosts is served by a Gateway it binds.

    Add the host to the Gateway's `servers[].hosts` (as `host`, or `namespace/host` for
    the VirtualService's namespace; `./host` serves only the Gateway's own namespace), or
    correct the host in the VirtualService (in a generated repository: `host:` in the
    environment file).
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            namespace = world.namespace_of(service)
            hosts = [str(h) for h in as_list(spec(service).get("hosts"))]
            for binding in bindings(world, service):
                if binding.internal:
                    continue
                served = served_hosts(world, binding.gateway, namespace) if binding.gateway else []
                if not any(host_matches(p, h) for p in served for h in hosts):
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"none of its hosts ({', '.join(hosts)}) is served by gateway "
                        f"{binding.full_name} to namespace {namespace} "
                        f"(hosts: {', '.join(served) or 'none'})",
                    )


@rule(
    "MG416",
    "gateway-internal-reference",
    Severity.WARNING,
    istio_code="IST0165",
    istio_analyzer="virtualservice.GatewayAnalyzer",
)
def gateway_internal_reference(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService binds a Gateway that Istio generates internally for a Gateway API Gateway.

    Bind the Kubernetes Gateway itself (`namespace/name` of the gateway.networking.k8s.io
    Gateway); the generated names are internal and change without notice.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for binding in bindings(world, service):
                if binding.internal:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"binds {binding.reference!r}, a Gateway Istio generates internally",
                    )


@rule(
    "MG408",
    "gateway-port-not-on-service",
    Severity.WARNING,
    istio_code="IST0162",
    istio_analyzer="gateway.IngressGatewayPortAnalyzer",
)
def gateway_port_not_on_service(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway listens on a port that the gateway's Service does not expose.

    Add the port to the gateway Service (`service.ports` in the gateway chart's values),
    or listen on a port it exposes; clients reach a Gateway server through the Service's
    `port`, which the Service forwards to the gateway pods' target port.
    """
    for world in worlds(ctx):
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            matched = [
                i
                for i in installs
                if selects(selector, i.pod_labels) and i.service_ports is not None
            ]
            if not matched:
                continue
            exposed = frozenset().union(*(i.service_ports or frozenset() for i in matched))
            for server in as_list(spec(gateway).get("servers")):
                number = as_map(as_map(server).get("port")).get("number")
                if isinstance(number, int) and number not in exposed:
                    service_names = ", ".join(sorted({str(i.service_name) for i in matched}))
                    yield problem_at(
                        ctx,
                        world,
                        gateway,
                        f"listens on port {number}, which Service {service_names} does not "
                        f"expose (ports: {', '.join(map(str, sorted(exposed)))})",
                    )
