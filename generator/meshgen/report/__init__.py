"""Reporters: turn a validation report into text, JSON or SARIF. They return strings."""

from __future__ import annotations

from meshgen.report.json_report import JSON_FORMAT_VERSION, render_json
from meshgen.report.sarif import render_sarif
from meshgen.report.text import render_text

__all__ = ["JSON_FORMAT_VERSION", "render_json", "render_sarif", "render_text"]
