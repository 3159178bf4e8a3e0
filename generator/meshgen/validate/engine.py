"""Run the rules over a repository (or plain files) and collect a report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from meshgen.credentials import scrub
from meshgen.errors import ConfigError
from meshgen.helm.base import HelmBackend
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Finding, Report, Rule
from meshgen.validate.options import ValidateOptions


def _chosen_rules(options: ValidateOptions) -> list[Rule]:
    # The registry imports every rule module (and the schema validators they bring):
    # done here, once Helm is already rendering, so that the two overlap.
    from meshgen.validate import registry

    if options.rules is not None:
        return list(options.rules)
    return registry.select_rules(options.select, options.ignore)


def validate_repo(root: Path, backend: HelmBackend, options: ValidateOptions) -> Report:
    """Validate a generated repository: its files, every environment's render, the mesh."""
    ctx = ValidationContext(root, backend, options)
    try:
        # Naming an unknown environment is a usage error, raised before any rule runs.
        chosen_environments = tuple(e.name for e in ctx.environments)
        ctx.start_rendering()
        active = _chosen_rules(options)
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


def validate_files(cwd: Path, options: ValidateOptions) -> Report:
    """Validate plain objects (files, folders, or `-` for stdin) that meshgen did not write."""
    for name in options.files:
        # A path the user named that is not there is a wrong argument, not a finding.
        if name != "-" and not (cwd / name).exists():
            raise ConfigError(f"{name}: no such file or folder", path=None)
    if options.mesh_config is not None:
        from meshgen.validate.facts.mesh_context import load_mesh_config

        # Read before any rule runs: a bad mesh configuration stops the run (exit 2).
        load_mesh_config(cwd / options.mesh_config, str(options.mesh_config))
    ctx = ValidationContext(cwd, None, options)
    active = _chosen_rules(options)
    findings = run_rules(ctx, active)
    return Report(
        root=cwd,
        findings=findings,
        environments=(),
        objects_checked=len(ctx.static_objects),
        rules_run=tuple(active),
        files=tuple(options.files),
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
                rule,
                problem.severity or rule.severity,
                scrub(problem.message),
                problem.location,
                problem.subject,
            )
            findings.setdefault((rule.id, problem.message, problem.location), finding)
    return tuple(sorted(findings.values(), key=Finding.sort_key))
