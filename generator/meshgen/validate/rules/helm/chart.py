"""Helm: every environment renders, and the chart lints clean with its values."""

from __future__ import annotations

import re
from collections.abc import Iterator

from meshgen.traffic.weights import has_weight_problems
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Location, Problem, Severity, rule

# Helm names the failing template as `<chart name>/templates/<file>:<line>:<column>`.
_TEMPLATE_POSITION = re.compile(r"(?<![\w/])[\w.-]+/(templates/[\w./-]+?):(\d+)(?::(\d+))?")


@rule("MG201", "render-failed", Severity.ERROR)
def render_failed(ctx: ValidationContext) -> Iterator[Problem]:
    """The app chart does not render with an environment's values.

    Run `meshgen render --env ENV` to see Helm's full message; it names the template and
    the value that failed.
    """
    for ref, error in ctx.render_failures:
        # The chart refuses broken weights too; MG110 already names the line to fix.
        if has_weight_problems(ref.file.data):
            continue
        location = ctx.location(ref.file.path, 1)
        message = error
        if ctx.repo is not None:
            chart = ctx.repo.chart_path(ref.app)
            message = message.replace(f"{chart}: ", "")
            match = _TEMPLATE_POSITION.search(message)
            if match:
                location = Location(ctx.rel(chart / match[1]), int(match[2]), int(match[3] or 1))
        yield Problem(
            f"[{ref.environment.name}] Helm could not render {ref.app.name} with "
            f"{ctx.rel(ref.file.path)}: {message}",
            location,
        )


@rule("MG202", "helm-lint", Severity.WARNING)
def helm_lint(ctx: ValidationContext) -> Iterator[Problem]:
    """`helm lint --strict` reports a problem with the chart or its values.

    Follow Helm's message; it names the chart file concerned.
    """
    if ctx.repo is None:
        return
    # Render failures are reported once, by MG201.
    failed = {id(ref) for ref, _ in ctx.render_failures}
    for ref, messages in ctx.lint_results:
        if id(ref) in failed:
            continue
        chart = ctx.repo.chart_path(ref.app)
        for message in messages:
            if message.severity is Severity.INFO:
                continue
            path = chart / message.path if message.path else chart / "Chart.yaml"
            yield Problem(
                f"[{ref.environment.name}] {message.message}",
                ctx.location(path, 1),
                message.severity,
            )
