"""Objects whose status reports a failed condition (istioctl's conditions.ConditionAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

# The kinds whose conditions Istio writes or reads.
_KINDS = ("Service", "ServiceEntry", "AuthorizationPolicy", "Gateway", "HTTPRoute", "GRPCRoute")


@rule(
    "MG454",
    "negative-condition",
    Severity.WARNING,
    istio_code="IST0171",
    istio_analyzer="conditions.ConditionAnalyzer",
)
def negative_condition(ctx: ValidationContext) -> Iterator[Problem]:
    """An object exported from a cluster carries a condition whose status is False.

    Read its reason and message: the controller refused or could not apply the object.
    """
    for world in worlds(ctx):
        for kind in _KINDS:
            for manifest in world.kind(kind):
                status = as_map(manifest.data.get("status"))
                for item in as_list(status.get("conditions")):
                    condition = as_map(item)
                    if str(condition.get("status")) == "False":
                        yield problem_at(
                            ctx,
                            world,
                            manifest,
                            f"condition {condition.get('type')} is False "
                            f"({condition.get('reason')}: {condition.get('message')})",
                        )
