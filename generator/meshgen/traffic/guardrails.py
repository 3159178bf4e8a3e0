"""Guard rails on canary steps, declared in meshgen.yaml and shared by commands and validate.

```yaml
guardrails:
  maxStep:              # the most points any version's weight may move in one change
    production: 20
  order: [staging, production]   # a version gains traffic in production only once
                                 # it has 100 % in staging
  baseBranch: main      # what a change is measured against (default: main)
```

A change is measured the same way by the canary commands and by `meshgen validate`: from
the environment files at the merge base of HEAD with the base branch ($MESHGEN_BASE_REF,
else `origin/<baseBranch>`, else `<baseBranch>`) to the files after the change, so a step
stacked on an unmerged branch is judged as the pull request will be. Both say which base
they measured against. Only where there is no base at all (no git, no commit, no base
branch) do the commands measure from the file on disk, and say so. `--force` overrides a
guard rail and records it as a `Meshgen-Override:` trailer in the commit message, which
validate and later commands on the same branch then honour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.environment_file import EnvironmentFile, is_whole_number
from meshgen.errors import ConfigError, UserError
from meshgen.git.refs import ENV_BASE_REF

__all__ = ["ENV_BASE_REF"]

MAX_STEP_RULE = "MG701"
ORDER_RULE = "MG702"
OVERRIDE_TRAILER = "Meshgen-Override"
DEFAULT_BASE_BRANCH = "main"
_OVERRIDE_LINE = re.compile(rf"^{OVERRIDE_TRAILER}:\s*(.+)$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """An environment named under `maxStep:` or `order:`, where it is written."""

    key: str
    name: str
    written: str
    """The name as YAML read it, quoted (a number stays unquoted)."""
    line: int | None


@dataclass(frozen=True)
class Guardrails:
    max_step: Mapping[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    base_branch: str = DEFAULT_BASE_BRANCH
    mentions: tuple[Mention, ...] = field(default=(), compare=False)
    """Every environment the section names, valid or not, for MG703."""

    @property
    def enabled(self) -> bool:
        return bool(self.max_step) or len(self.order) > 1

    def previous(self, environment: str) -> str | None:
        """The environment a version must be fully promoted in before this one."""
        if environment not in self.order:
            return None
        index = self.order.index(environment)
        return self.order[index - 1] if index > 0 else None


def read(manifest_path: Path) -> Guardrails:
    """The guard rails of the meshgen.yaml at `manifest_path`, for a command about to
    change weights: ConfigError if unreadable, or if any guard rail is malformed, since a
    malformed one would otherwise hold nothing back (validation reports it as MG002)."""
    data = yamlio.load_roundtrip(manifest_path)
    _refuse_malformed(data, manifest_path)
    return from_manifest(data)


def _refuse_malformed(data: Any, manifest_path: Path) -> None:
    section = data.get("guardrails") if isinstance(data, Mapping) else None
    if section is None:
        return

    def refuse(what: str, node: Any, key: Any) -> ConfigError:
        return ConfigError(
            f"guardrails: {what}; a guard rail that cannot be read would hold nothing "
            "back, so weights are not changed until it is fixed",
            path=manifest_path,
            line=yamlio.line_of(node, key),
        )

    if not isinstance(section, Mapping):
        raise refuse("expected a mapping (maxStep, order, baseBranch)", data, "guardrails")
    steps = section.get("maxStep")
    if steps is not None and not isinstance(steps, Mapping):
        raise refuse("`maxStep` must map environments to points", section, "maxStep")
    for environment, step in (steps or {}).items():
        if not is_whole_number(step) or not 1 <= int(step) <= 100:
            raise refuse(
                f"maxStep of {environment}: {step!r} is not a whole number of points from 1 to 100",
                steps,
                environment,
            )
    order = section.get("order")
    if order is not None and (
        not isinstance(order, list) or not all(isinstance(name, str) for name in order)
    ):
        raise refuse("`order` must be a list of environment names", section, "order")


def from_manifest(data: Any) -> Guardrails:
    """Guard rails from a parsed meshgen.yaml; malformed parts are left to its schema check.

    The one reader of the `guardrails:` section: the canary commands, `meshgen diff`,
    `platform upgrade` and validation all take the guard rails from here.
    """
    section = data.get("guardrails") if isinstance(data, Mapping) else None
    if not isinstance(section, Mapping):
        return Guardrails()
    raw_steps = section.get("maxStep")
    max_step = {
        str(env): int(step)
        for env, step in (raw_steps.items() if isinstance(raw_steps, Mapping) else ())
        if is_whole_number(step)
    }
    raw_order = section.get("order")
    order = tuple(str(env) for env in raw_order) if isinstance(raw_order, list) else ()
    base = section.get("baseBranch")
    mentions = [
        Mention(key, str(name), repr(name), yamlio.line_of(node, at))
        for key in ("maxStep", "order")
        if isinstance(node := section.get(key), Mapping | list)
        for at, name in (enumerate(node) if isinstance(node, list) else ((n, n) for n in node))
    ]
    return Guardrails(max_step, order, str(base) if base else DEFAULT_BASE_BRANCH, tuple(mentions))


@dataclass(frozen=True)
class Violation:
    rule_id: str
    environment: str
    version: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule_id} {self.message}"


class GuardrailError(UserError):
    """A change breaks a guard rail of meshgen.yaml; `--force` overrides it."""

    # A guard rail is a finding about the requested change, as in `meshgen validate`.
    exit_code = 1

    def __init__(
        self, location: str, violations: Sequence[Violation], measured_against: str = ""
    ) -> None:
        self.violations = tuple(violations)
        listed = "; ".join(str(v) for v in violations)
        against = f"compared with {measured_against}; " if measured_against else ""
        super().__init__(
            f"{location}: {listed} ({against}guard rails in meshgen.yaml; pass --force to "
            "override, which records the override in the commit message)"
        )


@dataclass(frozen=True)
class Baseline:
    """What a change is measured against: the merge base of HEAD with the base branch."""

    ref: str
    commit: str
    overrides: frozenset[str] = frozenset()
    """Rule IDs a `Meshgen-Override:` trailer between the base and HEAD overrides."""

    def __str__(self) -> str:
        return f"{self.ref} at {self.commit[:12]}"


def find_baseline(root: Path, rails: Guardrails, env_ref: str | None) -> Baseline | str:
    """The base a change in the repository at `root` is measured against, or why none.

    A $MESHGEN_BASE_REF (`env_ref`) that names no commit raises BaseRefNotFound.
    """
    # git loads only for repositories that use guard rails.
    from meshgen.errors import GitError
    from meshgen.git import refs as vcs

    try:
        if not vcs.is_repository(root):
            return f"{root} is not inside a git repository"
        if vcs.head_commit(root) is None:
            return "the repository has no commits yet"
        found = vcs.find_base(root, rails.base_branch, env_ref)
        if found is None:
            tried = " nor ".join(vcs.base_candidates(rails.base_branch))
            return f"neither {tried} names a commit ({ENV_BASE_REF} is not set)"
        ref, tip = found
        base = vcs.merge_base(root, tip, "HEAD") or tip
        overrides = overridden_rules(vcs.commit_messages(root, base, "HEAD"))
    except GitError as exc:
        return str(exc)
    return Baseline(ref, base, frozenset(overrides))


def weights_at(root: Path, commit: str, path: Path) -> dict[str, int] | None:
    """The `traffic:` weights of an environment file at `commit`; None when it is absent."""
    from meshgen.git import refs as vcs

    text = vcs.read_file_at(root, commit, path)
    if text is None:
        return None
    try:
        return EnvironmentFile.parse(text, path).whole_weights()
    except ConfigError:
        return {}


def check_change(
    rails: Guardrails,
    environment: str,
    before: Mapping[str, int],
    after: Mapping[str, int],
    previous_before: Mapping[str, int] | None,
) -> list[Violation]:
    """Guard rail violations of moving `environment` from `before` to `after` weights.

    `previous_before` holds the weights of the previous environment in `order` before the
    change (None when there is none or its file is missing).
    """
    violations: list[Violation] = []
    limit = rails.max_step.get(environment)
    versions = list(dict.fromkeys([*before, *after]))
    if limit is not None:
        for version in versions:
            moved = abs(after.get(version, 0) - before.get(version, 0))
            if moved > limit:
                violations.append(
                    Violation(
                        MAX_STEP_RULE,
                        environment,
                        version,
                        f"{environment}: {version} moves {moved} points "
                        f"({before.get(version, 0)}% -> {after.get(version, 0)}%), more than "
                        f"the maximum step of {limit} for {environment}",
                    )
                )
    previous = rails.previous(environment)
    if previous is not None:
        for version in versions:
            if after.get(version, 0) <= before.get(version, 0):
                continue
            held = (previous_before or {}).get(version, 0)
            if held != 100:
                violations.append(
                    Violation(
                        ORDER_RULE,
                        environment,
                        version,
                        f"{environment}: {version} gains traffic "
                        f"({before.get(version, 0)}% -> {after.get(version, 0)}%) but has "
                        f"{held}% in {previous}; promote it to 100% in {previous} first",
                    )
                )
    return violations


def override_trailer(violations: Sequence[Violation]) -> str:
    rule_ids = ", ".join(sorted({v.rule_id for v in violations}))
    return f"{OVERRIDE_TRAILER}: {rule_ids}"


def overridden_rules(messages: Sequence[str]) -> set[str]:
    """Rule IDs named by `Meshgen-Override:` trailers in these commit messages."""
    found: set[str] = set()
    for message in messages:
        for match in _OVERRIDE_LINE.finditer(message):
            found.update(part.strip().upper() for part in match.group(1).split(",") if part.strip())
    return found
