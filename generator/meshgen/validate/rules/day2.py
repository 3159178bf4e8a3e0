"""Rules on what day-2 commands change: platform pins, and objects shared by apps."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.day2 import checks
from meshgen.validate.context import ValidationContext
from meshgen.validate.model import Problem, Severity, rule


@rule("MG506", "platform-environment-left-behind", Severity.ERROR)
def platform_environment_left_behind(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment's platform chart pins disagree with meshgen.yaml.

    meshgen.yaml `versions:` records what every environment runs, and
    `environments[].versions:` what one runs on purpose (an upgrade in progress). Move the
    pins with `meshgen platform upgrade COMPONENT VERSION [--env ENV]`, which writes both.
    """
    if ctx.repo is None:
        return
    for spot in checks.left_behind(ctx.repo, ctx.manifest.data):
        yield Problem(spot.message, ctx.location(spot.path, spot.line))


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
