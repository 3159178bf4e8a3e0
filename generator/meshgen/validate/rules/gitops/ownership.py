"""Ownership: every rendered object belongs to one app."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.day2 import checks
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG414", "object-rendered-twice", Severity.ERROR)
def object_rendered_twice(ctx: ValidationContext) -> Iterator[Problem]:
    """Two apps render the same object in one environment.

    Each release would overwrite the other's object, and the GitOps engine would report
    both out of sync. Leave namespaces (and their PeerAuthentication) to the GitOps layer
    with `namespace.create: false`, and give each app its own names.
    """
    if ctx.repo is None:
        return
    namespaces = {e.name: e.namespace for e in ctx.repo.environments}
    for spot in checks.shared_objects(ctx.renderings, namespaces):
        yield Problem(spot.message, ctx.location(spot.path, spot.line))
