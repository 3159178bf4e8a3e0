"""Telemetry resources: selectors, overlaps and providers (istioctl's
telemetry.SelectorAnalyzer, DefaultSelectorAnalyzer and ProviderAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map
from meshgen.validate.facts.endpoints import workload_selector
from meshgen.validate.facts.selectors import analyze_selectors
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _telemetries(world: World) -> list[Manifest]:
    return [t for t in world.kind("Telemetry") if t.api_version.startswith("telemetry.istio.io/")]


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
    for world in worlds(ctx):
        report = analyze_selectors(world, _telemetries(world), workload_selector)
        for telemetry, names in report.unselective:
            yield problem_at(
                ctx, world, telemetry, f"Telemetries {', '.join(names)} all have no selector"
            )


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
    for world in worlds(ctx):
        report = analyze_selectors(world, _telemetries(world), workload_selector)
        for telemetry, selector in report.matching_nothing:
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            yield problem_at(
                ctx, world, telemetry, f"selector {shown} matches no pod in its namespace"
            )


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
    for world in worlds(ctx):
        report = analyze_selectors(world, _telemetries(world), workload_selector)
        for telemetry, names, pod in report.overlapping:
            yield problem_at(
                ctx,
                world,
                telemetry,
                f"Telemetries {', '.join(names)} all select the pods of {pod.origin.ref}",
            )


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
