"""Sidecar injection of the namespaces that run workloads."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import labels_of
from meshgen.validate.facts.world import INJECTION_LABEL, REVISION_LABEL, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG409", "namespace-not-injected", Severity.WARNING, istio_code="IST0102")
def namespace_not_injected(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace that runs workloads is not labelled for sidecar injection.

    Label it `istio-injection: enabled` (or `istio.io/rev: <revision>`); to keep a
    namespace out of the mesh on purpose, label it `istio-injection: disabled`.
    """
    for world in worlds(ctx):
        busy = {w.namespace for w in world.workloads()}
        for name, namespace in sorted(world.namespaces().items()):
            labels = labels_of(namespace.data)
            if name in busy and INJECTION_LABEL not in labels and REVISION_LABEL not in labels:
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    f"runs workloads but has neither {INJECTION_LABEL} nor {REVISION_LABEL}: "
                    "its pods get no sidecar",
                )


@rule("MG410", "namespace-both-injection-labels", Severity.WARNING, istio_code="IST0123")
def namespace_both_injection_labels(ctx: ValidationContext) -> Iterator[Problem]:
    """A namespace carries both `istio-injection` and `istio.io/rev`.

    Keep one: `istio-injection: enabled` for the default revision, or `istio.io/rev` for
    a revisioned control plane; with both, which one wins depends on the webhook order.
    """
    for world in worlds(ctx):
        for _, namespace in sorted(world.namespaces().items()):
            labels = labels_of(namespace.data)
            if INJECTION_LABEL in labels and REVISION_LABEL in labels:
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    f"has both {INJECTION_LABEL}={labels[INJECTION_LABEL]} and "
                    f"{REVISION_LABEL}={labels[REVISION_LABEL]}",
                )
