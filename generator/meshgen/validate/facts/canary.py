"""Canary steps measured against the base branch, computed once per run for the MG7xx rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meshgen import yamlio
from meshgen.errors import ConfigError, GitError
from meshgen.render import to_plain
from meshgen.traffic import guardrails
from meshgen.traffic.weights import whole_weights
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
    # git loads only for repositories that use guard rails.
    from meshgen import vcs

    root = ctx.root
    try:
        if not vcs.is_repository(root):
            return Outcome(skipped=f"{root} is not inside a git repository")
        if vcs.head_commit(root) is None:
            return Outcome(skipped="the repository has no commits yet")
        # A MESHGEN_BASE_REF that names no commit raises BaseRefNotFound (a ConfigError):
        # validation stops rather than reporting the rails as merely not checked.
        found = vcs.find_base(root, rails.base_branch, ctx.options.base_ref)
        if found is None:
            tried = " nor ".join(vcs.base_candidates(rails.base_branch))
            return Outcome(
                skipped=f"neither {tried} names a commit ({guardrails.ENV_BASE_REF} is not set)"
            )
        base_ref, base_tip = found
        base = vcs.merge_base(root, base_tip, "HEAD") or base_tip
        overrides = guardrails.overridden_rules(vcs.commit_messages(root, base, "HEAD"))
    except GitError as exc:
        return Outcome(skipped=str(exc))

    problems: dict[str, list[Problem]] = {}
    for ref in ctx.environment_files:
        data = ref.file.data
        if ref.file.error is not None or not isinstance(data, Mapping):
            continue
        before = _weights_at(root, base, ref.file.path)
        if before is None:
            # A new environment file: nothing deployed yet, so no step to measure.
            continue
        previous = rails.previous(ref.environment.name)
        previous_before = (
            _weights_at(root, base, ctx.repo.overlay_path(previous, ref.app.name))
            if previous
            else None
        )
        after = whole_weights(data)
        traffic = data.get("traffic")
        for violation in guardrails.check_change(
            rails, ref.environment.name, before, after, previous_before
        ):
            line = yamlio.line_of(traffic, violation.version) or yamlio.line_of(data, "traffic")
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


def _weights_at(root: Path, commit: str, path: Path) -> dict[str, int] | None:
    from meshgen import vcs

    text = vcs.read_file_at(root, commit, path)
    if text is None:
        return None
    try:
        return whole_weights(to_plain(yamlio.loads_roundtrip(text, path)))
    except ConfigError:
        return {}
