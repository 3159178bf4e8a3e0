"""Traffic weights in the environment files."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen import yamlio
from meshgen.traffic.weights import weight_problems
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.environment_files import weight_maps
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG110", "weights-invalid", Severity.ERROR, istio_code=None)
def weights_invalid(ctx: ValidationContext) -> Iterator[Problem]:
    """Traffic weights are not whole numbers 0..100 summing to 100 over defined versions.

    Edit `traffic:` so that every listed version exists under `versions:` and the weights
    add up to 100, or use `meshgen weights set ENV v1=90 v2=10`.
    """
    for ref, data, versions, traffic in weight_maps(ctx):
        for problem in weight_problems(versions.keys(), traffic):
            # Non-integer and out-of-range weights break the environment schema too,
            # and MG102 reports them there once.
            if problem.code in ("type", "range"):
                continue
            line = yamlio.line_of(traffic, problem.version) if problem.version else None
            if line is None:
                line = yamlio.line_of(data, "traffic")
            yield Problem(problem.message, ctx.location(ref.file.path, line))


@rule("MG111", "version-without-weight", Severity.WARNING)
def version_without_weight(ctx: ValidationContext) -> Iterator[Problem]:
    """A version under `versions:` has no entry under `traffic:`; it gets weight 0.

    Give it an explicit weight (0 is fine) so that reviewers see it in the traffic table.
    """
    for ref, _, versions, traffic in weight_maps(ctx):
        for version in versions:
            if version not in traffic:
                yield Problem(
                    f"version {version} has no weight under `traffic:`; add `{version}: 0`",
                    ctx.location(ref.file.path, yamlio.line_of(versions, version)),
                )
