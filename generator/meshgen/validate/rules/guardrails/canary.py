"""Guard rails on the size and order of canary steps."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen import yamlio
from meshgen.traffic import guardrails
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.canary import outcome
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG700", "guardrails-not-checked", Severity.INFO)
def guardrails_not_checked(ctx: ValidationContext) -> Iterator[Problem]:
    """Guard rails are configured but could not be checked: there is no base to compare with.

    Run validate inside the git repository, with the base branch (guardrails.baseBranch,
    default main) fetched, or set MESHGEN_BASE_REF to the ref a change merges into.
    """
    found = outcome(ctx)
    if found.skipped:
        yield Problem(f"guard rails not checked: {found.skipped}", ctx.location(ctx.config.path))


@rule("MG701", "guardrail-max-step", Severity.ERROR)
def guardrail_max_step(ctx: ValidationContext) -> Iterator[Problem]:
    """A version's weight moves more points in one change than guardrails.maxStep allows.

    Make smaller steps (`meshgen shift ENV --to VERSION --step N`), one pull request each.
    To override on purpose, use --force: the commit then carries a
    `Meshgen-Override: MG701` trailer and this finding becomes a warning.
    """
    yield from outcome(ctx).problems.get(guardrails.MAX_STEP_RULE, [])


@rule("MG702", "guardrail-environment-order", Severity.ERROR)
def guardrail_environment_order(ctx: ValidationContext) -> Iterator[Problem]:
    """A version gains traffic in an environment before it has 100 % in the previous one.

    guardrails.order lists environments in promotion order; promote the version to 100 %
    in the previous environment first (and merge that), or override with --force, which
    adds a `Meshgen-Override: MG702` trailer to the commit.
    """
    yield from outcome(ctx).problems.get(guardrails.ORDER_RULE, [])


@rule("MG703", "guardrail-unknown-environment", Severity.ERROR)
def guardrail_unknown_environment(ctx: ValidationContext) -> Iterator[Problem]:
    """guardrails.maxStep or guardrails.order names an environment meshgen.yaml does not declare.

    A guard rail must fail closed: a misspelt name (`prod` for `production`) would leave
    the real environment without its step limit or its place in the order, in silence.
    Fix the name, or add the environment under `environments:`.
    """
    data = ctx.config.data
    if ctx.repo is None or not isinstance(data, Mapping):
        return
    section = data.get("guardrails")
    if not isinstance(section, Mapping):
        return
    declared = {environment.name for environment in ctx.repo.environments}
    for key in ("maxStep", "order"):
        node = section.get(key)
        names = list(node) if isinstance(node, Mapping | list) else []
        for index, name in enumerate(names):
            if str(name) not in declared:
                line = yamlio.line_of(node, index if isinstance(node, list) else name)
                yield Problem(
                    f"guardrails.{key} names {name!r}, which is not under `environments:`",
                    ctx.location(ctx.config.path, line),
                )
