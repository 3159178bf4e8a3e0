"""VirtualServices of the mesh gateway that claim one host (istioctl's
virtualservice.ConflictingMeshGatewayHostsAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, spec
from meshgen.validate.facts.gateway_bindings import MESH
from meshgen.validate.facts.hosts import EVERYWHERE, to_fqdn
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG440",
    "mesh-host-conflict",
    Severity.ERROR,
    istio_code="IST0109",
    istio_analyzer="virtualservice.ConflictingMeshGatewayHostsAnalyzer",
)
def mesh_host_conflict(ctx: ValidationContext) -> Iterator[Problem]:
    """Two VirtualServices bound to the mesh define the same host for the same namespaces.

    Merge them into one VirtualService per host (or export them to different
    namespaces); which one the sidecars use is otherwise undefined.
    """
    for world in worlds(ctx):
        claims: dict[tuple[str, str], list[Manifest]] = {}
        for service in world.istio("VirtualService"):
            gateways = [str(g) for g in as_list(spec(service).get("gateways"))]
            if gateways and MESH not in gateways:
                continue
            namespace = world.namespace_of(service)
            export_to = [str(e) for e in as_list(spec(service).get("exportTo"))]
            scopes = (
                {EVERYWHERE}
                if not export_to or EVERYWHERE in export_to
                else {namespace if e == "." else e for e in export_to}
            )
            for host in {to_fqdn(str(h), namespace) for h in as_list(spec(service).get("hosts"))}:
                for scope in scopes:
                    claims.setdefault((scope, host), []).append(service)
        reported: set[tuple[int, str]] = set()
        for (_, host), services in sorted(claims.items(), key=lambda item: item[0]):
            if len(services) < 2:
                continue
            names = ", ".join(sorted(f"{world.namespace_of(s)}/{s.name}" for s in services))
            for service in services:
                if (id(service), host) not in reported:
                    reported.add((id(service), host))
                    yield problem_at(
                        ctx, world, service, f"VirtualServices {names} all define host {host}"
                    )
