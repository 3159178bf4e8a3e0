"""Policies and Kubernetes Gateway API gateways (istioctl's k8sgateway.SelectorAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.endpoints import endpoints, workload_selector
from meshgen.validate.facts.world import problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule

# Istio labels the pods it deploys for a Gateway API Gateway with the Gateway's name.
GATEWAY_NAME_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
_POLICIES = {
    "RequestAuthentication": "security.istio.io/",
    "AuthorizationPolicy": "security.istio.io/",
    "WasmPlugin": "extensions.istio.io/",
    "Telemetry": "telemetry.istio.io/",
}


@rule(
    "MG455",
    "selector-on-gateway-api-gateway",
    Severity.WARNING,
    istio_code="IST0166",
    istio_analyzer="k8sgateway.SelectorAnalyzer",
)
def selector_on_gateway_api_gateway(ctx: ValidationContext) -> Iterator[Problem]:
    """A policy's selector picks the pods of a Kubernetes Gateway API Gateway.

    Attach the policy to the Gateway with `targetRefs` (kind Gateway, group
    gateway.networking.k8s.io); a selector has no effect on such gateways.
    """
    for world in worlds(ctx):
        gateway_pods = [
            pod for pod in endpoints(world) if any(key in pod.labels for key in GATEWAY_NAME_LABELS)
        ]
        if not gateway_pods:
            continue
        for kind, group in _POLICIES.items():
            for policy in world.kind(kind):
                selector = workload_selector(policy)
                if not policy.api_version.startswith(group) or not selector:
                    continue
                namespace = world.namespace_of(policy)
                hit = next(
                    (
                        p
                        for p in gateway_pods
                        if p.namespace == namespace and selects(selector, p.labels)
                    ),
                    None,
                )
                if hit is not None:
                    yield problem_at(
                        ctx,
                        world,
                        policy,
                        f"selector picks {hit.origin.ref}, a Gateway API gateway: use targetRefs",
                    )
