"""The interface every Helm backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from meshgen import safefs
from meshgen.errors import ConfigError, TemplateError
from meshgen.helm.worker import too_large
from meshgen.severity import Severity


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
DEFAULT_TIMEOUT_SECONDS = 120.0
# Address space a render may use beyond what Helm has reserved once loaded: room for
# several copies of a MAX_RENDER_BYTES output, far below what a runaway loop asks for.
MEMORY_HEADROOM_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one render or lint of chart code may take before it is stopped."""

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_render_bytes: int = MAX_RENDER_BYTES
    memory_headroom_bytes: int = MEMORY_HEADROOM_BYTES

    @property
    def cpu_seconds(self) -> int:
        """A CPU-time backstop: Helm may use both cores for the whole wall-clock limit."""
        return int(2 * self.timeout_seconds) + 5


class RenderLimitError(TemplateError):
    """Chart code exceeded a limit (time, memory, output) and was stopped."""


def check_chart(chart: Path) -> None:
    """Refuse a chart Helm must not read: links out, FIFOs, devices, oversized files."""
    try:
        safefs.check_tree(chart)
    except ConfigError as exc:
        where = exc.path.relative_to(chart).as_posix() if exc.path else ""
        raise TemplateError(f"{chart}: {where}: {exc.args[0]}") from None


def check_output(
    chart: Path, templates: list[RenderedTemplate], limit: int = MAX_RENDER_BYTES
) -> list[RenderedTemplate]:
    """`templates`, refused when Helm's output is larger than `limit`."""
    size = sum(len(template.text) for template in templates)
    if size > limit:
        raise RenderLimitError(f"{chart}: {too_large(size, limit)}")
    return templates
