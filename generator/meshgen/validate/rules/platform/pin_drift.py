"""Platform pins: every environment runs what meshgen.yaml records for it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from meshgen.pins import left_behind
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.gitops import key_lines
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG513", "platform-environment-left-behind", Severity.ERROR)
def platform_environment_left_behind(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment's platform chart pins disagree with meshgen.yaml.

    meshgen.yaml `versions:` records what every environment runs, and
    `environments[].versions:` what one runs on purpose (an upgrade in progress). Move the
    pins with `meshgen platform upgrade COMPONENT VERSION [--env ENV]`, which writes both.
    """
    if ctx.repo is None:
        return
    # The static files are parsed already: their objects are what pins are read from.
    parsed = {
        file.path: [(obj.line, obj.data) for obj in file.objects]
        for file in ctx.static_files
        if file.error is None
    }
    finder = partial(key_lines, ctx)
    for spot in left_behind(ctx.repo, ctx.config.data, parsed, finder):
        yield Problem(spot.message, ctx.location(spot.path, spot.line))
