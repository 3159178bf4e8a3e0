"""Guard rails on the size and order of canary steps."""

from __future__ import annotations

from collections.abc import Iterator

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
    if ctx.repo is None:
        return
    declared = {environment.name for environment in ctx.repo.environments}
    for mention in guardrails.from_manifest(ctx.config.data).mentions:
        if mention.name not in declared:
            yield Problem(
                f"guardrails.{mention.key} names {mention.written}, which is not under "
                "`environments:`",
                ctx.location(ctx.config.path, mention.line),
            )
