"""The default backend: Helm's Go SDK (helm-python-sdk), run in a worker process.

Chart code runs in `meshgen.helm.worker`, under limits of time, memory and output,
so a runaway template is stopped and reported instead of taking meshgen down.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshgen.errors import TemplateError, ToolError
from meshgen.helm.base import (
    Limits,
    LintMessage,
    RenderedTemplate,
    check_chart,
    check_output,
)
from meshgen.helm.isolation import HelmWorker, WorkerFailure, WorkerPool, shared_worker
from meshgen.severity import Severity

_SEVERITIES: dict[int, Severity] = {
    0: Severity.INFO,
    1: Severity.INFO,
    2: Severity.WARNING,
    3: Severity.ERROR,
}
_GENERATIONS = itertools.count(1)


class EmbeddedHelm:
    """Renders with the Helm SDK in the run's worker; a chart is loaded once per backend."""

    def __init__(
        self, limits: Limits | None = None, worker: HelmWorker | WorkerPool | None = None
    ) -> None:
        self.limits = limits or Limits()
        self._worker = worker
        self._generation = next(_GENERATIONS)
        self._checked: set[Path] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _sdk() -> Any:
        try:
            import helm_python  # loads a large native library; only when used
        except (ImportError, OSError) as exc:
            raise ToolError(
                ["helm-python-sdk"],
                f"the embedded Helm SDK could not be loaded ({exc}); reinstall meshgen "
                "or use a helm binary with --helm-binary PATH",
            ) from None
        helm_python.disable_logging()
        return helm_python

    def describe(self) -> str:
        # Only version calls, no chart code: safe in-process.
        sdk = self._sdk()
        return f"embedded Helm SDK {sdk.helm_sdk_version()} (helm-python-sdk {sdk.__version__})"

    def _call(self, chart: Path, request: dict[str, Any]) -> dict[str, Any]:
        key = chart.resolve()
        with self._lock:
            if key not in self._checked:
                check_chart(chart)
                self._checked.add(key)
        worker = self._worker or shared_worker()
        request = {
            **request,
            "chart": str(key),
            "generation": self._generation,
            "max_bytes": self.limits.max_render_bytes,
            "cpu_seconds": self.limits.cpu_seconds,
        }
        try:
            return worker.call(request, self.limits, chart)
        except WorkerFailure as exc:
            if exc.tool:
                raise ToolError(["helm-python-sdk"], str(exc)) from None
            raise TemplateError(f"{chart}: {exc}") from None

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        reply = self._call(
            chart,
            {"op": "render", "values": dict(values), "release": release, "namespace": namespace},
        )
        templates = [RenderedTemplate(source=s, text=t) for s, t in reply["templates"]]
        return check_output(chart, templates, self.limits.max_render_bytes)

    def lint(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        namespace: str,
        kube_version: str,
    ) -> list[LintMessage]:
        reply = self._call(
            chart,
            {
                "op": "lint",
                "values": dict(values),
                "namespace": namespace,
                "kube_version": f"v{kube_version}.0",
            },
        )
        return [
            LintMessage(
                severity=_SEVERITIES.get(int(entry.get("severity", 0)), Severity.INFO),
                path=str(entry.get("path", "")),
                message=str(entry.get("error", "")),
            )
            for entry in reply["messages"]
        ]
