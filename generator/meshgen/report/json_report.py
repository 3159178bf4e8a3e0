"""Machine-readable findings, in a versioned shape.

Adding a key keeps the version; removing or changing the meaning of one bumps
JSON_FORMAT_VERSION. Every JSON output of meshgen names its shape's version
`schemaVersion`. Version 2 (version 1 called that key `version`):

{
  "schemaVersion": 2,
  "tool": {"name": "meshgen", "version": "0.1.0"},
  "root": "/path/to/repo",
  "files": [],                          # the inputs of `--files`; empty for a repository
  "environments": ["staging", ...],
  "objectsChecked": 24,                 # rendered plus static (or given) objects
  "summary": {"error": 0, "warning": 0, "info": 0},
  "findings": [
    {"rule": "MG110", "name": "weights-invalid", "severity": "error",
     "message": "...", "path": "environments/staging/first-app.yaml", "line": 3, "column": 1,
     "istioCode": null,                 # the matching `istioctl analyze` code, if any
     "istioAnalyzer": null,             # and the istioctl analyzer that reports it
     "object": {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "namespace": "default", "name": "reviews"}}   # or null
  ],
  "rules": [                            # every rule that ran
    {"id": "MG110", "name": "weights-invalid", "severity": "error", "istioCode": null,
     "summary": "...", "fix": "..."}
  ]
}
"""

from __future__ import annotations

import json

from meshgen import __version__
from meshgen.validate.findings import Report, Rule, Severity

JSON_FORMAT_VERSION = 2


def render_json(report: Report) -> str:
    payload = {
        "schemaVersion": JSON_FORMAT_VERSION,
        "tool": {"name": "meshgen", "version": __version__},
        "root": str(report.root),
        "files": list(report.files),
        "environments": list(report.environments),
        "objectsChecked": report.objects_checked,
        "summary": {severity.value: report.count(severity) for severity in Severity},
        "findings": [
            {
                "rule": finding.rule.id,
                "name": finding.rule.name,
                "severity": finding.severity.value,
                "message": finding.message,
                "path": finding.location.path,
                "line": finding.location.line,
                "column": finding.location.column,
                "istioCode": finding.rule.istio_code,
                "istioAnalyzer": finding.rule.istio_analyzer,
                "object": finding.subject.as_dict() if finding.subject else None,
            }
            for finding in report.findings
        ],
        "rules": [rule_json(rule) for rule in report.rules_run],
    }
    return json.dumps(payload, indent=2) + "\n"


def rule_json(rule: Rule) -> dict[str, str | None]:
    """A rule as every JSON output describes it (validate's report, `meshgen rules`)."""
    return {
        "id": rule.id,
        "name": rule.name,
        "severity": rule.severity.value,
        "istioCode": rule.istio_code,
        "istioAnalyzer": rule.istio_analyzer,
        "summary": rule.summary,
        "fix": rule.fix,
    }
