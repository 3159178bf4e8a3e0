"""What the API server itself says about each environment's objects (`--kubectl`)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG901", "dry-run-rejected", Severity.ERROR)
def dry_run_rejected(ctx: ValidationContext) -> Iterator[Problem]:
    """`kubectl apply --dry-run` (run with `--kubectl`) rejected an object.

    Read the API server's message: an admission webhook (Istio's validation, Pod
    Security) or a missing CRD on that cluster; fix the object, or install what it needs.
    """
    for result in ctx.dry_run_results:
        label = f"[{result.label}] " if result.label else ""
        for rejection in result.rejections:
            manifest = rejection.manifest
            if manifest is None and result.manifests:
                manifest = result.manifests[0]
            if manifest is None:
                location = ctx.location(ctx.config.path)
            else:
                location = ctx.location(manifest.source, manifest.line)
            yield Problem(f"{label}{rejection.message}", location)
