"""Machine-readable findings. The shape is versioned: bump JSON_FORMAT_VERSION on change.

{
  "version": 1,
  "root": "/path/to/repo",
  "environments": ["staging", ...],
  "objectsChecked": 24,
  "summary": {"error": 0, "warning": 0, "info": 0},
  "findings": [
    {"rule": "MG110", "name": "weights-invalid", "severity": "error",
     "message": "...", "path": "environments/staging/first-app.yaml", "line": 3, "column": 1}
  ]
}
"""

from __future__ import annotations

import json

from meshgen.validate.engine import Report
from meshgen.validate.model import Severity

JSON_FORMAT_VERSION = 1


def render_json(report: Report) -> str:
    payload = {
        "version": JSON_FORMAT_VERSION,
        "root": str(report.root),
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
            }
            for finding in report.findings
        ],
    }
    return json.dumps(payload, indent=2) + "\n"
