"""Gateway routes that skip the subsets the mesh routes by (istioctl's
virtualservice.DestinationHostAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, spec
from meshgen.validate.facts.hosts import destinations
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG453",
    "ingress-route-ignores-subsets",
    Severity.WARNING,
    istio_code="IST0140",
    istio_analyzer="virtualservice.DestinationHostAnalyzer",
)
def ingress_route_ignores_subsets(ctx: ValidationContext) -> Iterator[Problem]:
    """A gateway route sends to a host without a subset, while a mesh VirtualService splits
    that host by subsets.

    The gateway does not apply the mesh VirtualService's subset routing to its requests:
    route to the subsets in the gateway's VirtualService too (or bind one VirtualService
    to both the gateway and `mesh`).
    """
    for world in worlds(ctx):
        services = world.istio("VirtualService")
        split: dict[str, list[str]] = {}
        for other in services:
            hosts = set(as_list(spec(other).get("hosts")))
            for destination in destinations(other):
                if destination.subset and destination.host in hosts and not destination.mirror:
                    split.setdefault(destination.host, []).append(other.name)
        for service in services:
            if not as_list(spec(service).get("gateways")):
                continue
            for destination in destinations(service):
                if destination.protocol != "http" or destination.subset or destination.mirror:
                    continue
                for name in sorted(set(split.get(destination.host, []))):
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"routes to {destination.host} ({destination.where}) without a subset; "
                        f"the subsets of VirtualService {name} do not apply to gateway requests",
                    )
