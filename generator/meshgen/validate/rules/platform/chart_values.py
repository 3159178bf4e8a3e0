"""Platform values are what the pinned chart accepts."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, partial
from typing import Any

from meshgen import __version__, upstream
from meshgen.platform.values import (
    known_top_level_keys,
    schema_problems,
    unknown_key_problems,
    values_validator,
)
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.platform import unique_releases
from meshgen.validate.findings import Problem, Severity, rule
from meshgen.validate.schemas.verdicts import ObjectValidator, remembering


@cache
def _compiled(name: str, version: str) -> Any:
    info = upstream.chart(name, version)
    schema = info.values_schema() if info is not None else None
    return values_validator(schema if schema is not None else {})


def _validator(ctx: ValidationContext, info: upstream.ChartInfo) -> ObjectValidator | None:
    """The chart's values.schema.json validator, when upstream ships one; merged values
    that passed it before are not checked again (see schemas.verdicts)."""
    if info.values_schema_file is None:
        return None
    identity = f"meshgen {__version__} chart {info.name} {info.version} values schema"
    return remembering(partial(_compiled, info.name, info.version), identity, ctx.verdicts)


@rule("MG512", "platform-values-invalid", Severity.ERROR)
def platform_values_invalid(ctx: ValidationContext) -> Iterator[Problem]:
    """A platform release's values do not fit its pinned chart.

    Where the chart ships a values.schema.json (Istio's gateway, cert-manager), Helm
    refuses the install with these values; where it does not (base, istiod, cni), a key it
    does not know is silently ignored, and the setting is lost. Fix the key named (the
    closest known one is suggested), in the values file shown.
    """
    seen: set[tuple[str, int, str]] = set()
    checked: set[tuple[str, str, tuple[int, ...]]] = set()
    for release in unique_releases(ctx):
        info = upstream.chart(release.chart, release.version)
        if info is None or not release.values:
            continue
        # Environments sharing values files share their findings: check those once.
        group = (info.name, info.version, tuple(id(source.tree) for source in release.values))
        if group in checked:
            continue
        checked.add(group)
        validator = _validator(ctx, info)
        defaults = info.defaults() or {}
        problems = (
            schema_problems(validator, defaults, release.values)
            if validator is not None
            else unknown_key_problems(
                known_top_level_keys(defaults, info.template_keys), release.values
            )
        )
        for problem in problems:
            key = (problem.source.label, problem.line, problem.message)
            if key in seen:
                continue
            seen.add(key)
            yield Problem(
                f"chart {info.name} {info.version}: {problem.message}",
                ctx.location(problem.source.label, problem.line),
            )
