"""Routing on JWT claims at a gateway (istioctl's virtualservice.JWTClaimRouteAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec, str_map
from meshgen.validate.facts.endpoints import endpoints, workload_selector
from meshgen.validate.facts.gateway_bindings import bindings
from meshgen.validate.facts.mesh_context import ISTIO_NAMESPACE
from meshgen.validate.facts.world import problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule

CLAIM_PREFIX = "@request.auth.claims"


def _claim_key(service: Manifest) -> str | None:
    for route in as_list(spec(service).get("http")):
        for match in as_list(as_map(route).get("match")):
            for field in ("headers", "withoutHeaders"):
                for key in as_map(as_map(match).get(field)):
                    if str(key).startswith(CLAIM_PREFIX):
                        return str(key)
    return None


@rule(
    "MG439",
    "jwt-claim-route-without-authentication",
    Severity.ERROR,
    istio_code="IST0149",
    istio_analyzer="virtualservice.JWTClaimRouteAnalyzer",
)
def jwt_claim_route_without_authentication(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService routes on a JWT claim at a gateway no RequestAuthentication covers.

    Apply a RequestAuthentication to the gateway's pods (in istio-system or their own
    namespace); without it the token is not validated and the claim is never set.
    """
    for world in worlds(ctx):
        authentications = [
            (world.namespace_of(r), workload_selector(r))
            for r in world.kind("RequestAuthentication")
            if r.api_version.startswith("security.istio.io/")
        ]
        pods = endpoints(world)
        for service in world.istio("VirtualService"):
            key = _claim_key(service)
            if key is None:
                continue
            for binding in bindings(world, service):
                if binding.gateway is None or binding.gateway.kind != "Gateway":
                    continue
                selector = str_map(spec(binding.gateway).get("selector"))
                for pod in pods:
                    if not selector or not selects(selector, pod.labels):
                        continue
                    covered = any(
                        namespace in (ISTIO_NAMESPACE, pod.namespace)
                        and selects(ra_selector, pod.labels)
                        for namespace, ra_selector in authentications
                    )
                    if not covered:
                        yield problem_at(
                            ctx,
                            world,
                            service,
                            f"routes on {key} at gateway {binding.full_name}, but no "
                            f"RequestAuthentication applies to its pods ({pod.origin.ref})",
                        )
                        break
