"""Deprecated Istio fields (istioctl's deprecation.DeprecationAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG441",
    "deprecated-field",
    Severity.WARNING,
    istio_code="IST0002",
    istio_analyzer="deprecation.DeprecationAnalyzer",
)
def deprecated_field(ctx: ValidationContext) -> Iterator[Problem]:
    """An Istio resource uses a deprecated field.

    Use its replacement: `fault.delay.percentage` instead of the integer
    `fault.delay.percent`; a Sidecar's `outboundTrafficPolicy.egressProxy` is ignored.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for index, route in enumerate(as_list(spec(service).get("http"))):
                delay = as_map(as_map(as_map(route).get("fault")).get("delay"))
                if isinstance(delay.get("percent"), int) and delay["percent"] > 0:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"http[{index}].fault.delay.percent is deprecated; use "
                        "fault.delay.percentage",
                    )
        for sidecar in world.istio("Sidecar"):
            policy = as_map(spec(sidecar).get("outboundTrafficPolicy"))
            if policy.get("egressProxy") is not None:
                yield problem_at(
                    ctx,
                    world,
                    sidecar,
                    "outboundTrafficPolicy.egressProxy is deprecated and ignored",
                )
