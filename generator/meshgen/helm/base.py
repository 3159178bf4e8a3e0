"""The interface every Helm backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from meshgen import safefs
from meshgen.errors import ConfigError, TemplateError

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class RenderedTemplate:
    """One template's output: `source` is the chart-relative path Helm reports.

    `parsed`, when known (a render remembered across runs), holds the text's documents
    as (first line, data) pairs, so that they need not be parsed again.
    """

    source: str
    text: str
    parsed: tuple[tuple[int, Any], ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LintMessage:
    severity: Severity
    path: str
    message: str


class HelmBackend(Protocol):
    """Render and lint a local chart, offline."""

    def describe(self) -> str:
        """One line naming the backend and its Helm version, for `meshgen doctor`."""
        ...

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        """Render `chart` like `helm template`, hooks and tests included."""
        ...

    def lint(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        namespace: str,
        kube_version: str,
    ) -> list[LintMessage]:
        """Lint `chart` with `values`, strict (warnings reported as such)."""
        ...


# Helm holds a render in memory whole; an output past this is a runaway template (a
# `range` over `until 100000000`), not a deployment.
MAX_RENDER_BYTES = 64 * 1024 * 1024


def check_chart(chart: Path) -> None:
    """Refuse a chart Helm must not read: links out, FIFOs, devices, oversized files."""
    try:
        safefs.check_tree(chart)
    except ConfigError as exc:
        where = exc.path.relative_to(chart).as_posix() if exc.path else ""
        raise TemplateError(f"{chart}: {where}: {exc.args[0]}") from None


def check_output(chart: Path, templates: list[RenderedTemplate]) -> list[RenderedTemplate]:
    """`templates`, refused when Helm's output is larger than MAX_RENDER_BYTES."""
    size = sum(len(template.text) for template in templates)
    if size > MAX_RENDER_BYTES:
        raise TemplateError(
            f"{chart}: rendered {size} bytes, more than the {MAX_RENDER_BYTES} bytes meshgen "
            "accepts; check the chart for a runaway loop"
        )
    return templates


def is_manifest_source(source: str) -> bool:
    """Whether a rendered template holds Kubernetes objects (not NOTES.txt or a partial)."""
    name = source.rsplit("/", 1)[-1]
    return not name.startswith("_") and name.endswith((".yaml", ".yml", ".json"))
