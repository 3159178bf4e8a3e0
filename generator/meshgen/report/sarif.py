"""SARIF 2.1.0, as GitHub code scanning reads it.

Upload with `github/codeql-action/upload-sarif`: every rule that ran is described in
`tool.driver.rules` (summary, fix, default level, istioctl code as a tag), and every
result points at a repository-relative file and a line, against `%SRCROOT%`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from meshgen import __version__
from meshgen.validate.findings import STDIN_NAME, Finding, Report, Rule, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(report: Report) -> str:
    rules = list(report.rules_run)
    for finding in report.findings:
        if finding.rule not in rules:
            rules.append(finding.rule)
    index = {rule.id: position for position, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "meshgen",
                "version": __version__,
                "semanticVersion": __version__,
                # No informationUri: SARIF makes it optional, and meshgen has no
                # project page of its own to point at.
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": report.root.resolve().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [
            {
                "ruleId": finding.rule.id,
                "ruleIndex": index[finding.rule.id],
                "level": _LEVELS[finding.severity],
                "message": {"text": finding.message},
                **_properties(finding),
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": _uri(finding.location.path),
                                "uriBaseId": SRCROOT,
                            },
                            "region": {
                                "startLine": finding.location.line,
                                "startColumn": finding.location.column,
                            },
                        }
                    }
                ],
            }
            for finding in report.findings
        ],
    }
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    tags = ["kubernetes", "istio"] if rule.id.startswith("MG4") else ["kubernetes"]
    if rule.istio_code:
        tags.append(rule.istio_code)
    help_text = rule.fix or rule.summary
    if rule.istio_code:
        help_text += f" (istioctl analyze: {rule.istio_code})"
    return {
        "id": rule.id,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary} {rule.fix}".strip()},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": tags, "precision": "high"},
    }


def _properties(finding: Finding) -> dict[str, Any]:
    """The Kubernetes object and the istioctl code, as structured result properties."""
    properties: dict[str, Any] = {}
    if finding.subject is not None:
        properties["object"] = finding.subject.as_dict()
    if finding.rule.istio_code:
        properties["istioCode"] = finding.rule.istio_code
        properties["istioAnalyzer"] = finding.rule.istio_analyzer
    return {"properties": properties} if properties else {}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _uri(path: str) -> str:
    if path == STDIN_NAME:
        return "stdin"
    return quote(path, safe="/:@")
