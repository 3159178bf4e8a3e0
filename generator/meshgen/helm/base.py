"""The interface every Helm backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

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


def is_manifest_source(source: str) -> bool:
    """Whether a rendered template holds Kubernetes objects (not NOTES.txt or a partial)."""
    name = source.rsplit("/", 1)[-1]
    return not name.startswith("_") and name.endswith((".yaml", ".yml", ".json"))
