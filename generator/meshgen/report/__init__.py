"""Reporters: turn a validation report into text or JSON. They return strings, never print."""

from __future__ import annotations

from meshgen.report.json_report import JSON_FORMAT_VERSION, render_json
from meshgen.report.text import render_text

__all__ = ["JSON_FORMAT_VERSION", "render_json", "render_text"]
