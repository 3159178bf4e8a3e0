"""Canary steps measured against the base branch, computed once per run for the MG7xx rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from meshgen.traffic import guardrails
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Location, Problem, Severity


@dataclass(frozen=True)
class Outcome:
    skipped: str | None = None
    problems: dict[str, list[Problem]] = field(default_factory=dict)


def outcome(ctx: ValidationContext) -> Outcome:
    """The guard rails' verdict on the change, computed once per run."""
    return ctx.memo(_compute)


def _compute(ctx: ValidationContext) -> Outcome:
    rails = guardrails.from_manifest(ctx.config.data)
    if ctx.repo is None or not rails.enabled:
        return Outcome()
    # A MESHGEN_BASE_REF that names no commit raises BaseRefNotFound (a ConfigError):
    # validation stops rather than reporting the rails as merely not checked.
    baseline = guardrails.find_baseline(ctx.root, rails, ctx.options.base_ref)
    if not isinstance(baseline, guardrails.Baseline):
        return Outcome(skipped=baseline)
    root, base, base_ref, overrides = ctx.root, baseline.commit, baseline.ref, baseline.overrides
    problems: dict[str, list[Problem]] = {}
    for ref in ctx.environment_files:
        env = ref.contents
        if env is None or not env.is_mapping:
            continue
        before = guardrails.weights_at(root, base, ref.file.path)
        if before is None:
            # A new environment file: nothing deployed yet, so no step to measure.
            continue
        previous = rails.previous(ref.environment.name)
        previous_before = (
            guardrails.weights_at(
                root, base, ctx.repo.environment_file_path(previous, ref.app.name)
            )
            if previous
            else None
        )
        after = env.whole_weights()
        for violation in guardrails.check_change(
            rails, ref.environment.name, before, after, previous_before
        ):
            line = env.weight_line(violation.version)
            message = f"{violation.message} (compared with {base_ref} at {base[:12]})"
            severity = None
            if violation.rule_id in overrides:
                message += f"; overridden by a {guardrails.OVERRIDE_TRAILER} commit trailer"
                severity = Severity.WARNING
            problems.setdefault(violation.rule_id, []).append(
                Problem(message, _location(ctx, ref.file.path, line), severity)
            )
    return Outcome(problems=problems)


def _location(ctx: ValidationContext, path: Path, line: int | None) -> Location:
    return ctx.location(path, line)
