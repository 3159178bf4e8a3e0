"""Every output renderer, chosen by name; each returns a string the command line prints.

The validation report (text, JSON, SARIF) is here; `meshgen diff` is in `report.diff`,
`weights show` in `report.weights`, `meshgen rules` in `report.rules`. A JSON output
names the version of its shape `schemaVersion`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from meshgen.report.json_report import JSON_FORMAT_VERSION, render_json
from meshgen.report.sarif import render_sarif
from meshgen.report.text import render_text
from meshgen.validate.findings import Report

# The output formats of `meshgen validate --format`, by name.
RENDERERS: Mapping[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
}


def render(report: Report, output_format: str) -> str:
    """`report` in the named format (one of RENDERERS)."""
    return RENDERERS[output_format](report)


__all__ = [
    "JSON_FORMAT_VERSION",
    "RENDERERS",
    "render",
    "render_json",
    "render_sarif",
    "render_text",
]
