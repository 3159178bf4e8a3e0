"""Guard rails on canary steps (meshgen.yaml `guardrails:`), measured against the base branch.

A change is what the working tree holds compared with the merge base of HEAD and the base
branch (`MESHGEN_BASE_REF`, else `origin/<baseBranch>`, else `<baseBranch>`): on a pull
request, everything the pull request changes; on the base branch, what is not yet
committed.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError, GitError
from meshgen.render import to_plain
from meshgen.traffic import guardrails
from meshgen.validate.context import ValidationContext
from meshgen.validate.model import Location, Problem, Severity, rule


@dataclass(frozen=True)
class _Outcome:
    skipped: str | None = None
    problems: dict[str, list[Problem]] = field(default_factory=dict)


_OUTCOMES: weakref.WeakKeyDictionary[ValidationContext, _Outcome] = weakref.WeakKeyDictionary()


@rule("MG700", "guardrails-not-checked", Severity.INFO)
def guardrails_not_checked(ctx: ValidationContext) -> Iterator[Problem]:
    """Guard rails are configured but could not be checked: there is no base to compare with.

    Run validate inside the git repository, with the base branch (guardrails.baseBranch,
    default main) fetched, or set MESHGEN_BASE_REF to the ref a change merges into.
    """
    outcome = _outcome(ctx)
    if outcome.skipped:
        yield Problem(
            f"guard rails not checked: {outcome.skipped}", ctx.location(ctx.manifest.path)
        )


@rule("MG701", "guardrail-max-step", Severity.ERROR)
def guardrail_max_step(ctx: ValidationContext) -> Iterator[Problem]:
    """A version's weight moves more points in one change than guardrails.maxStep allows.

    Make smaller steps (`meshgen shift ENV --to VERSION --step N`), one pull request each.
    To override on purpose, use --force: the commit then carries a
    `Meshgen-Override: MG701` trailer and this finding becomes a warning.
    """
    yield from _outcome(ctx).problems.get(guardrails.MAX_STEP_RULE, [])


@rule("MG702", "guardrail-environment-order", Severity.ERROR)
def guardrail_environment_order(ctx: ValidationContext) -> Iterator[Problem]:
    """A version gains traffic in an environment before it has 100 % in the previous one.

    guardrails.order lists environments in promotion order; promote the version to 100 %
    in the previous environment first (and merge that), or override with --force, which
    adds a `Meshgen-Override: MG702` trailer to the commit.
    """
    yield from _outcome(ctx).problems.get(guardrails.ORDER_RULE, [])


@rule("MG703", "guardrail-unknown-environment", Severity.WARNING)
def guardrail_unknown_environment(ctx: ValidationContext) -> Iterator[Problem]:
    """guardrails.maxStep or guardrails.order names an environment meshgen.yaml does not declare.

    Fix the name, or add the environment under `environments:`.
    """
    data = ctx.manifest.data
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
                    ctx.location(ctx.manifest.path, line),
                )


def _outcome(ctx: ValidationContext) -> _Outcome:
    cached = _OUTCOMES.get(ctx)
    if cached is None:
        cached = _compute(ctx)
        _OUTCOMES[ctx] = cached
    return cached


def _compute(ctx: ValidationContext) -> _Outcome:
    rails = guardrails.from_manifest(ctx.manifest.data)
    if ctx.repo is None or not rails.enabled:
        return _Outcome()
    # git and the canary-step machinery load only for repositories that use guard rails.
    from meshgen.git import refs as vcs
    from meshgen.git.refs import ENV_BASE_REF

    root = ctx.root
    try:
        if not vcs.is_repository(root):
            return _Outcome(skipped=f"{root} is not inside a git repository")
        if vcs.head_commit(root) is None:
            return _Outcome(skipped="the repository has no commits yet")
        # A MESHGEN_BASE_REF that names no commit raises BaseRefNotFound (a ConfigError):
        # validation stops rather than reporting the rails as merely not checked.
        found = vcs.find_base(root, rails.base_branch, os.environ.get(ENV_BASE_REF) or None)
        if found is None:
            tried = " nor ".join(vcs.base_candidates(rails.base_branch))
            return _Outcome(skipped=f"neither {tried} names a commit ({ENV_BASE_REF} is not set)")
        base_ref, base_tip = found
        base = vcs.merge_base(root, base_tip, "HEAD") or base_tip
        overrides = guardrails.overridden_rules(vcs.commit_messages(root, base, "HEAD"))
    except GitError as exc:
        return _Outcome(skipped=str(exc))

    problems: dict[str, list[Problem]] = {}
    for ref in ctx.overlays:
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
        after = _weights(data)
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
    return _Outcome(problems=problems)


def _location(ctx: ValidationContext, path: Path, line: int | None) -> Location:
    return ctx.location(path, line)


def _weights(data: Any) -> dict[str, int]:
    traffic = data.get("traffic") if isinstance(data, Mapping) else None
    if not isinstance(traffic, Mapping):
        return {}
    return {str(k): v for k, v in traffic.items() if isinstance(v, int) and not isinstance(v, bool)}


def _weights_at(root: Path, commit: str, path: Path) -> dict[str, int] | None:
    from meshgen.git import refs as vcs

    text = vcs.read_file_at(root, commit, path)
    if text is None:
        return None
    try:
        return _weights(to_plain(yamlio.loads_roundtrip(text, path)))
    except ConfigError:
        return {}
