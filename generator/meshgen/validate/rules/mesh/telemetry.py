"""Telemetry resources: selectors, overlaps and providers (istioctl's
telemetry.SelectorAnalyzer, DefaultSelectorAnalyzer and ProviderAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map
from meshgen.validate.facts.endpoints import workload_selector
from meshgen.validate.facts.selectors import (
    PolicyKind,
    selecting_no_pod,
    selecting_one_pod_twice,
    without_selector,
)
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _telemetries(world: World) -> list[Manifest]:
    return [t for t in world.kind("Telemetry") if t.api_version.startswith("telemetry.istio.io/")]


TELEMETRIES = PolicyKind("Telemetries", "selector", _telemetries, workload_selector)


@rule(
    "MG430",
    "telemetries-without-selector",
    Severity.ERROR,
    istio_code="IST0160",
    istio_analyzer="telemetry.DefaultSelectorAnalyzer",
)
def telemetries_without_selector(ctx: ValidationContext) -> Iterator[Problem]:
    """More than one Telemetry without a selector in one namespace.

    Keep one namespace-wide Telemetry per namespace and give the others a `selector`.
    """
    yield from without_selector(ctx, TELEMETRIES)


@rule(
    "MG431",
    "telemetry-selects-no-pods",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="telemetry.SelectorAnalyzer",
)
def telemetry_selects_no_pods(ctx: ValidationContext) -> Iterator[Problem]:
    """A Telemetry's selector matches no pod in its namespace.

    Correct `selector.matchLabels`, or remove the Telemetry.
    """
    yield from selecting_no_pod(ctx, TELEMETRIES)


@rule(
    "MG432",
    "telemetries-select-same-pod",
    Severity.ERROR,
    istio_code="IST0159",
    istio_analyzer="telemetry.SelectorAnalyzer",
)
def telemetries_select_same_pod(ctx: ValidationContext) -> Iterator[Problem]:
    """Two Telemetry resources select the same pod.

    Make the selectors disjoint, or merge the resources.
    """
    yield from selecting_one_pod_twice(ctx, TELEMETRIES)


@rule(
    "MG433",
    "telemetry-no-provider",
    Severity.WARNING,
    istio_code="IST0157",
    istio_analyzer="telemetry.ProviderAnalyzer",
)
def telemetry_no_provider(ctx: ValidationContext) -> Iterator[Problem]:
    """An access-logging entry names no provider and the mesh sets no default one.

    Name a provider (`providers: [{name: envoy}]`), set
    meshConfig.defaultProviders.accessLogging, or mark the entry `disabled: true`.
    """
    for world in worlds(ctx):
        mesh, _ = world.mesh_config()
        if as_list(as_map(mesh.get("defaultProviders")).get("accessLogging")):
            continue
        for telemetry in _telemetries(world):
            for item in as_list(as_map(telemetry.data.get("spec")).get("accessLogging")):
                entry = as_map(item)
                if not as_list(entry.get("providers")) and entry.get("disabled") is not True:
                    yield problem_at(
                        ctx,
                        world,
                        telemetry,
                        "has an accessLogging entry without providers, and meshConfig sets no "
                        "default: it is ignored",
                    )
