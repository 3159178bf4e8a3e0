"""ServiceEntry addresses (istioctl's serviceentry.Analyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _addresses_allocated(world: World) -> bool:
    """Whether the proxies allocate addresses themselves (DNS capture with auto-allocation)."""
    mesh, _ = world.mesh_config()
    metadata = as_map(as_map(mesh.get("defaultConfig")).get("proxyMetadata"))
    return (
        str(metadata.get("ISTIO_META_DNS_CAPTURE")).lower() == "true"
        and str(metadata.get("ISTIO_META_DNS_AUTO_ALLOCATE")).lower() == "true"
    )


@rule(
    "MG436",
    "service-entry-address-required",
    Severity.WARNING,
    istio_code="IST0134",
    istio_analyzer="serviceentry.Analyzer",
)
def service_entry_address_required(ctx: ValidationContext) -> Iterator[Problem]:
    """A ServiceEntry serves TCP (or an unnamed protocol) but has no addresses.

    Give it `addresses` (a virtual IP), name the port's protocol (HTTP, TLS...), or let
    the proxies allocate addresses (meshConfig.defaultConfig.proxyMetadata
    ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE "true").
    """
    for world in worlds(ctx):
        if _addresses_allocated(world):
            continue
        for entry in world.istio("ServiceEntry"):
            if as_list(spec(entry).get("addresses")):
                continue
            for port in as_list(spec(entry).get("ports")):
                protocol = str(as_map(port).get("protocol") or "").upper()
                if protocol in ("", "TCP"):
                    yield problem_at(
                        ctx,
                        world,
                        entry,
                        f"port {as_map(port).get('number')} ({protocol or 'no protocol'}) "
                        "needs addresses",
                    )
