"""One line a finding, `path:line:col: RULE severity: message`, sorted; summary last."""

from __future__ import annotations

from meshgen.validate.findings import Report, Severity


def render_text(report: Report) -> str:
    lines = [
        f"{finding.location}: {finding.rule.id} {finding.severity.value}: {finding.message}"
        for finding in report.findings
    ]
    errors = report.count(Severity.ERROR)
    warnings = report.count(Severity.WARNING)
    infos = report.count(Severity.INFO)
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_plural(infos, 'note')}"
    objects = _plural(report.objects_checked, "object")
    if report.files:
        inputs = ", ".join(report.files)
        lines.append(f"{counts} in {inputs} ({objects})")
    else:
        environments = ", ".join(report.environments) or "none"
        lines.append(f"{counts} in {report.root} ({objects}; environments: {environments})")
    return "\n".join(lines) + "\n"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
