"""Workload selectors of namespaced policies (Sidecar, Telemetry): which pods each
selects, and which policies overlap.

Istio applies at most one selector-less policy of a kind per namespace and at most one
selecting policy per pod; more is undefined behaviour, which istioctl reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.endpoints import Endpoint, endpoints
from meshgen.validate.facts.world import World, problem_at, selects, worlds
from meshgen.validate.findings import Problem


@dataclass(frozen=True)
class SelectorReport:
    """Policies of one kind: selector-less duplicates, selectors matching nothing, overlaps."""

    unselective: list[tuple[Manifest, list[str]]] = field(default_factory=list)
    """Each selector-less policy sharing its namespace with another, with their names."""
    matching_nothing: list[tuple[Manifest, Mapping[str, str]]] = field(default_factory=list)
    overlapping: list[tuple[Manifest, list[str], Endpoint]] = field(default_factory=list)
    """Each policy selecting a pod another one selects too: the policies, and the pod."""


def analyze_selectors(
    world: World,
    policies: Sequence[Manifest],
    selector_of: Callable[[Manifest], dict[str, str]],
) -> SelectorReport:
    report = SelectorReport()
    pods = endpoints(world)
    without: dict[str, list[Manifest]] = {}
    by_pod: dict[int, list[Manifest]] = {}
    pod_of: dict[int, Endpoint] = {}
    for policy in policies:
        namespace = world.namespace_of(policy)
        selector = selector_of(policy)
        if not selector:
            without.setdefault(namespace, []).append(policy)
            continue
        selected = [p for p in pods if p.namespace == namespace and selects(selector, p.labels)]
        if not selected:
            report.matching_nothing.append((policy, selector))
        for pod in selected:
            by_pod.setdefault(id(pod), []).append(policy)
            pod_of[id(pod)] = pod
    for group in without.values():
        if len(group) > 1:
            names = sorted(p.name for p in group)
            report.unselective.extend((policy, names) for policy in group)
    reported: set[int] = set()
    for key, group in by_pod.items():
        if len(group) < 2:
            continue
        names = sorted(p.name for p in group)
        for policy in group:
            if id(policy) not in reported:
                reported.add(id(policy))
                report.overlapping.append((policy, names, pod_of[key]))
    return report


@dataclass(frozen=True)
class PolicyKind:
    """A namespaced policy kind with a workload selector, as its findings name it."""

    plural: str
    selector_field: str
    policies: Callable[[World], list[Manifest]]
    selector_of: Callable[[Manifest], dict[str, str]]

    def reports(self, ctx: ValidationContext) -> Iterator[tuple[World, SelectorReport]]:
        for world in worlds(ctx):
            yield world, analyze_selectors(world, self.policies(world), self.selector_of)


def without_selector(ctx: ValidationContext, kind: PolicyKind) -> Iterator[Problem]:
    """Each selector-less policy that shares its namespace with another one."""
    for world, report in kind.reports(ctx):
        for policy, names in report.unselective:
            message = f"{kind.plural} {', '.join(names)} all have no {kind.selector_field}"
            yield problem_at(ctx, world, policy, message)


def selecting_no_pod(ctx: ValidationContext, kind: PolicyKind) -> Iterator[Problem]:
    """Each policy whose selector matches no pod of its namespace."""
    for world, report in kind.reports(ctx):
        for policy, selector in report.matching_nothing:
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            message = f"{kind.selector_field} {shown} matches no pod in its namespace"
            yield problem_at(ctx, world, policy, message)


def selecting_one_pod_twice(ctx: ValidationContext, kind: PolicyKind) -> Iterator[Problem]:
    """Each policy selecting a pod that another policy of its kind selects too."""
    for world, report in kind.reports(ctx):
        for policy, names, pod in report.overlapping:
            message = f"{kind.plural} {', '.join(names)} all select the pods of {pod.origin.ref}"
            yield problem_at(ctx, world, policy, message)
