"""Sidecar resources: selectors, overlaps, and where they have no effect (istioctl's
sidecar.SelectorAnalyzer and sidecar.DefaultSelectorAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.endpoints import workload_selector
from meshgen.validate.facts.injection import Mode, namespace_labels, namespace_mode
from meshgen.validate.facts.selectors import (
    PolicyKind,
    selecting_no_pod,
    selecting_one_pod_twice,
    without_selector,
)
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _selector(sidecar: Manifest) -> dict[str, str]:
    return workload_selector(sidecar, "workloadSelector")


def _sidecars(world: World) -> list[Manifest]:
    return world.istio("Sidecar")


SIDECARS = PolicyKind("Sidecars", "workloadSelector", _sidecars, _selector)


@rule(
    "MG426",
    "sidecars-without-selector",
    Severity.ERROR,
    istio_code="IST0111",
    istio_analyzer="sidecar.DefaultSelectorAnalyzer",
)
def sidecars_without_selector(ctx: ValidationContext) -> Iterator[Problem]:
    """More than one Sidecar without a workload selector in one namespace.

    Keep one namespace-wide Sidecar per namespace and give the others a
    `workloadSelector`; which one applies is otherwise undefined.
    """
    yield from without_selector(ctx, SIDECARS)


@rule(
    "MG427",
    "sidecar-selects-no-pods",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="sidecar.SelectorAnalyzer",
)
def sidecar_selects_no_pods(ctx: ValidationContext) -> Iterator[Problem]:
    """A Sidecar's workload selector matches no pod in its namespace.

    Correct `workloadSelector.labels` to the labels of the pods it is for (Sidecars apply
    only to pods of their own namespace), or remove it.
    """
    yield from selecting_no_pod(ctx, SIDECARS)


@rule(
    "MG428",
    "sidecars-select-same-pod",
    Severity.ERROR,
    istio_code="IST0110",
    istio_analyzer="sidecar.SelectorAnalyzer",
)
def sidecars_select_same_pod(ctx: ValidationContext) -> Iterator[Problem]:
    """Two Sidecars select the same pod.

    Make the workload selectors disjoint, or merge the Sidecars; which one applies is
    otherwise undefined.
    """
    yield from selecting_one_pod_twice(ctx, SIDECARS)


@rule(
    "MG429",
    "sidecar-in-ambient-namespace",
    Severity.WARNING,
    istio_code="IST0167",
    istio_analyzer="sidecar.DefaultSelectorAnalyzer",
)
def sidecar_in_ambient_namespace(ctx: ValidationContext) -> Iterator[Problem]:
    """A Sidecar in an ambient namespace, where pods run no sidecar for it to configure.

    Remove it, or move the namespace to sidecar injection; ambient traffic is configured
    through waypoints instead.
    """
    for world in worlds(ctx):
        for sidecar in _sidecars(world):
            labels = namespace_labels(world, world.namespace_of(sidecar))
            if labels is not None and namespace_mode(labels) is Mode.AMBIENT:
                yield problem_at(
                    ctx, world, sidecar, "has no effect: its namespace is in the ambient mesh"
                )
