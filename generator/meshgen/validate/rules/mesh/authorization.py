"""AuthorizationPolicy references (istioctl's auth.AuthorizationPoliciesAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.endpoints import endpoints, workload_selector
from meshgen.validate.facts.injection import workload_in_mesh
from meshgen.validate.facts.world import World, problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule

ROOT_NAMESPACE = "istio-system"


def _policies(world: World) -> list[Manifest]:
    return [
        p
        for p in world.kind("AuthorizationPolicy")
        if p.api_version.startswith("security.istio.io/")
    ]


def _namespace_matches(name: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return name.endswith(pattern[1:])
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name.lower() == pattern.lower()


@rule(
    "MG437",
    "authorization-policy-no-workload",
    Severity.WARNING,
    istio_code="IST0127",
    istio_analyzer="auth.AuthorizationPoliciesAnalyzer",
)
def authorization_policy_no_workload(ctx: ValidationContext) -> Iterator[Problem]:
    """An AuthorizationPolicy applies to no meshed workload.

    Correct `selector.matchLabels` (a policy applies to pods of its own namespace, or of
    every namespace in the root namespace istio-system), or remove the policy.
    """
    for world in worlds(ctx):
        root = str(world.mesh_config()[0].get("rootNamespace") or ROOT_NAMESPACE)
        meshed = [
            pod
            for pod, workload in zip(endpoints(world), world.workloads(), strict=True)
            if workload_in_mesh(
                world, workload.namespace, workload.template_metadata, workload.containers
            )
        ]
        for policy in _policies(world):
            namespace = world.namespace_of(policy)
            selector = workload_selector(policy)
            if namespace == root and not selector:
                continue
            pods = meshed if namespace == root else [p for p in meshed if p.namespace == namespace]
            if not any(selects(selector, pod.labels) for pod in pods):
                shown = ", ".join(f"{k}={v}" for k, v in selector.items()) or "the whole namespace"
                yield problem_at(
                    ctx, world, policy, f"applies to {shown}, where no meshed workload runs"
                )


@rule(
    "MG438",
    "authorization-policy-namespace-not-found",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="auth.AuthorizationPoliciesAnalyzer",
)
def authorization_policy_namespace_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """An AuthorizationPolicy rule names a source namespace that does not exist.

    Correct the namespace in `rules[].from[].source.namespaces` (or `notNamespaces`).
    """
    for world in worlds(ctx):
        names = list(world.namespaces())
        for policy in _policies(world):
            for rule_entry in as_list(spec(policy).get("rules")):
                for source in as_list(as_map(rule_entry).get("from")):
                    body = as_map(as_map(source).get("source"))
                    for key in ("namespaces", "notNamespaces"):
                        for pattern in as_list(body.get(key)):
                            if not any(_namespace_matches(n, str(pattern)) for n in names):
                                yield problem_at(
                                    ctx,
                                    world,
                                    policy,
                                    f"{key} names {pattern!r}, which matches no Namespace",
                                )
