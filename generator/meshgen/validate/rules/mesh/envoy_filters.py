"""EnvoyFilter patches whose operation does not fit what they patch (istioctl's
envoyfilter.EnvoyPatchAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

_ROUTE_TARGETS = ("ROUTE_CONFIGURATION", "HTTP_ROUTE")
_FILTER_TARGETS = ("NETWORK_FILTER", "HTTP_FILTER")


def _patches(world: World) -> Iterator[tuple[Manifest, int, Mapping[str, Any], str, str]]:
    """(EnvoyFilter, index, patch entry, operation, applyTo) of every config patch."""
    for envoy_filter in world.istio("EnvoyFilter"):
        for index, entry in enumerate(as_list(spec(envoy_filter).get("configPatches"))):
            patch = as_map(as_map(entry).get("patch"))
            if not patch:
                break
            yield (
                envoy_filter,
                index,
                as_map(entry),
                str(patch.get("operation", "")).upper(),
                str(as_map(entry).get("applyTo", "")).upper(),
            )


def _relative(operation: str, apply_to: str) -> bool:
    """Operations that patch relative to another filter, so their order matters."""
    if operation in ("INSERT_BEFORE", "INSERT_AFTER"):
        return True
    if operation == "REMOVE":
        return apply_to not in _ROUTE_TARGETS
    if operation == "REPLACE":
        return apply_to in _FILTER_TARGETS
    return False


def _unprioritized(envoy_filter: Manifest) -> bool:
    return not spec(envoy_filter).get("priority")


@rule(
    "MG447",
    "envoy-filter-relative-operation",
    Severity.WARNING,
    istio_code="IST0151",
    istio_analyzer="envoyfilter.EnvoyPatchAnalyzer",
)
def envoy_filter_relative_operation(ctx: ValidationContext) -> Iterator[Problem]:
    """An EnvoyFilter patches relative to another filter but sets no priority.

    Set `priority`, or use INSERT_FIRST or ADD; without it the patch may be applied
    before the filter it refers to exists, and then not at all.
    """
    for world in worlds(ctx):
        for envoy_filter, index, _, operation, apply_to in _patches(world):
            if _relative(operation, apply_to) and _unprioritized(envoy_filter):
                yield problem_at(
                    ctx,
                    world,
                    envoy_filter,
                    f"configPatches[{index}] uses {operation} without a priority",
                )


@rule(
    "MG448",
    "envoy-filter-relative-operation-proxy-version",
    Severity.WARNING,
    istio_code="IST0155",
    istio_analyzer="envoyfilter.EnvoyPatchAnalyzer",
)
def envoy_filter_relative_operation_proxy_version(ctx: ValidationContext) -> Iterator[Problem]:
    """A relative EnvoyFilter patch without priority is limited to a proxy version.

    Set `priority`: during an upgrade, proxies of the old and new version apply the
    patches in a different order.
    """
    for world in worlds(ctx):
        for envoy_filter, index, entry, operation, apply_to in _patches(world):
            version = as_map(as_map(entry.get("match")).get("proxy")).get("proxyVersion")
            if version and _relative(operation, apply_to) and _unprioritized(envoy_filter):
                yield problem_at(
                    ctx,
                    world,
                    envoy_filter,
                    f"configPatches[{index}] uses {operation} for proxy version {version} "
                    "without a priority",
                )


@rule(
    "MG449",
    "envoy-filter-replace-target",
    Severity.ERROR,
    istio_code="IST0152",
    istio_analyzer="envoyfilter.EnvoyPatchAnalyzer",
)
def envoy_filter_replace_target(ctx: ValidationContext) -> Iterator[Problem]:
    """An EnvoyFilter REPLACE patch applies to something other than a filter.

    REPLACE works only with `applyTo: HTTP_FILTER` or `NETWORK_FILTER`; use MERGE for
    other targets.
    """
    for world in worlds(ctx):
        for envoy_filter, index, _, operation, apply_to in _patches(world):
            if operation == "REPLACE" and apply_to not in _FILTER_TARGETS:
                yield problem_at(
                    ctx, world, envoy_filter, f"configPatches[{index}] replaces a {apply_to}"
                )


@rule(
    "MG450",
    "envoy-filter-add-to-route",
    Severity.ERROR,
    istio_code="IST0153",
    istio_analyzer="envoyfilter.EnvoyPatchAnalyzer",
)
def envoy_filter_add_to_route(ctx: ValidationContext) -> Iterator[Problem]:
    """An EnvoyFilter ADD patch applies to a route configuration or HTTP route.

    Envoy ignores ADD there; use MERGE, or INSERT_* on a route list.
    """
    for world in worlds(ctx):
        for envoy_filter, index, _, operation, apply_to in _patches(world):
            if operation == "ADD" and apply_to in _ROUTE_TARGETS:
                yield problem_at(
                    ctx, world, envoy_filter, f"configPatches[{index}] adds to a {apply_to}"
                )


@rule(
    "MG451",
    "envoy-filter-remove-from-route",
    Severity.ERROR,
    istio_code="IST0154",
    istio_analyzer="envoyfilter.EnvoyPatchAnalyzer",
)
def envoy_filter_remove_from_route(ctx: ValidationContext) -> Iterator[Problem]:
    """An EnvoyFilter REMOVE patch applies to a route configuration or HTTP route.

    Envoy ignores REMOVE there; remove the route through its VirtualService instead.
    """
    for world in worlds(ctx):
        for envoy_filter, index, _, operation, apply_to in _patches(world):
            if operation == "REMOVE" and apply_to in _ROUTE_TARGETS:
                yield problem_at(
                    ctx, world, envoy_filter, f"configPatches[{index}] removes from a {apply_to}"
                )
