"""Run the rules over a repository and collect a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from meshgen.helm.base import HelmBackend
from meshgen.validate.context import ValidationContext
from meshgen.validate.model import Finding, Rule, Severity, all_rules


@dataclass(frozen=True)
class Report:
    """The outcome of one validation run."""

    root: Path
    findings: tuple[Finding, ...]
    environments: tuple[str, ...]
    objects_checked: int
    rules_run: tuple[Rule, ...] = field(repr=False)

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    def failed(self, *, strict: bool = False) -> bool:
        """Errors fail a run; with `strict`, warnings do too."""
        if self.count(Severity.ERROR):
            return True
        return strict and self.count(Severity.WARNING) > 0


def select_rules(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Rule]:
    """Rules chosen by ID or name prefix (`MG1` selects MG1xx); `ignore` wins."""

    def matches(rule: Rule, patterns: Sequence[str]) -> bool:
        return any(rule.id.startswith(p.upper()) or rule.name == p for p in patterns)

    rules = all_rules()
    if select:
        rules = [rule for rule in rules if matches(rule, select)]
    return [rule for rule in rules if not matches(rule, ignore)]


def validate_repo(
    root: Path,
    backend: HelmBackend,
    *,
    environments: Sequence[str] = (),
    rules: Sequence[Rule] | None = None,
) -> Report:
    ctx = ValidationContext(root, backend, only_environments=environments)
    # Naming an unknown environment is a usage error, raised before any rule runs.
    chosen_environments = tuple(e.name for e in ctx.environments)
    active = list(rules) if rules is not None else all_rules()
    findings: list[Finding] = []
    for rule in active:
        for problem in rule.check(ctx):
            findings.append(
                Finding(rule, problem.severity or rule.severity, problem.message, problem.location)
            )
    findings.sort(key=Finding.sort_key)
    return Report(
        root=root,
        findings=tuple(findings),
        environments=chosen_environments,
        objects_checked=len(ctx.rendered_objects),
        rules_run=tuple(active),
    )
