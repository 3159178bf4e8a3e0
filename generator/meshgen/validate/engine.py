"""Run the rules over a repository and collect a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshgen.credentials import scrub
from meshgen.errors import ConfigError
from meshgen.helm.base import HelmBackend
from meshgen.validate.context import ProgressCallback, ValidationContext
from meshgen.validate.model import Finding, Rule, Severity, all_rules

if TYPE_CHECKING:
    from meshgen.kubectl import DryRunOptions


@dataclass(frozen=True)
class Report:
    """The outcome of one validation run."""

    root: Path
    findings: tuple[Finding, ...]
    environments: tuple[str, ...]
    objects_checked: int
    rules_run: tuple[Rule, ...] = field(repr=False)
    files: tuple[str, ...] = ()
    """The inputs of a plain-manifest run (`--files`); empty for a repository."""

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
    # A mistyped pattern must not quietly turn validation off (or leave a rule on).
    for pattern in (*select, *ignore):
        if not any(matches(rule, (pattern,)) for rule in rules):
            raise ConfigError(
                f"no rule matches {pattern!r}; give a rule ID (MG110), an ID prefix (MG1) "
                "or a rule name (weights-invalid), see `meshgen rules`"
            )
    if select:
        rules = [rule for rule in rules if matches(rule, select)]
    return [rule for rule in rules if not matches(rule, ignore)]


def validate_repo(
    root: Path,
    backend: HelmBackend,
    *,
    environments: Sequence[str] = (),
    rules: Sequence[Rule] | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    schema_locations: Sequence[str] | None = None,
    schema_cache: Path | None = None,
    kubernetes_version: str | None = None,
    dry_run: DryRunOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Validate a generated repository: its files, every environment's render, the mesh.

    `rules`, when given, is the exact rule list; otherwise `select`/`ignore` choose.
    """
    ctx = ValidationContext(
        root,
        backend,
        only_environments=environments,
        schema_locations=schema_locations,
        schema_cache=schema_cache,
        kubernetes_version=kubernetes_version,
        dry_run=dry_run,
        progress=progress,
    )
    try:
        # Naming an unknown environment is a usage error, raised before any rule runs.
        chosen_environments = tuple(e.name for e in ctx.environments)
        # Helm starts rendering before the rules (and the schema validators they bring)
        # are imported, so the two overlap.
        ctx.start_rendering()
        active = list(rules) if rules is not None else select_rules(select, ignore)
        findings = run_rules(ctx, active)
    finally:
        ctx.close()
    return Report(
        root=root,
        findings=findings,
        environments=chosen_environments,
        objects_checked=len(ctx.rendered_objects) + len(ctx.static_objects),
        rules_run=tuple(active),
    )


def validate_files(
    files: Sequence[str],
    *,
    cwd: Path,
    rules: Sequence[Rule] | None = None,
    schema_locations: Sequence[str] | None = None,
    schema_cache: Path | None = None,
    kubernetes_version: str | None = None,
    dry_run: DryRunOptions | None = None,
) -> Report:
    """Validate plain manifests (files, folders, or `-` for stdin) that meshgen did not write."""
    for name in files:
        # A path the user named that is not there is a wrong argument, not a finding.
        if name != "-" and not (cwd / name).exists():
            raise ConfigError(f"{name}: no such file or folder", path=None)
    ctx = ValidationContext(
        cwd,
        None,
        files=files,
        schema_locations=schema_locations,
        schema_cache=schema_cache,
        kubernetes_version=kubernetes_version,
        dry_run=dry_run,
    )
    active = list(rules) if rules is not None else all_rules()
    findings = run_rules(ctx, active)
    return Report(
        root=cwd,
        findings=findings,
        environments=(),
        objects_checked=len(ctx.static_objects),
        rules_run=tuple(active),
        files=tuple(files),
    )


def run_rules(ctx: ValidationContext, rules: Sequence[Rule]) -> tuple[Finding, ...]:
    """Every rule's findings, sorted; the same finding twice counts once.

    Static objects belong to every environment's World, so a problem with one of them
    would otherwise be reported once per environment.
    """
    findings: dict[tuple[str, str, object], Finding] = {}
    for rule in rules:
        for problem in rule.check(ctx):
            finding = Finding(
                rule, problem.severity or rule.severity, scrub(problem.message), problem.location
            )
            findings.setdefault((rule.id, problem.message, problem.location), finding)
    return tuple(sorted(findings.values(), key=Finding.sort_key))
