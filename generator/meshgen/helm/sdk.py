"""The default backend: Helm's Go SDK, embedded through the helm-python-sdk package."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshgen.errors import TemplateError, ToolError
from meshgen.helm.base import (
    LintMessage,
    RenderedTemplate,
    Severity,
    check_chart,
    check_output,
    is_manifest_source,
)

if TYPE_CHECKING:
    import helm_python

_SEVERITIES: dict[int, Severity] = {0: "info", 1: "info", 2: "warning", 3: "error"}


class EmbeddedHelm:
    """Renders with the Helm SDK in-process; a loaded chart is reused across renders."""

    def __init__(self) -> None:
        self._charts: dict[Path, helm_python.Chart] = {}
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
        sdk = self._sdk()
        return f"embedded Helm SDK {sdk.helm_sdk_version()} (helm-python-sdk {sdk.__version__})"

    def _chart(self, chart: Path) -> helm_python.Chart:
        key = chart.resolve()
        with self._lock:
            loaded = self._charts.get(key)
            if loaded is None:
                check_chart(chart)
                sdk = self._sdk()
                try:
                    loaded = sdk.Chart.load(key)
                except sdk.HelmError as exc:
                    raise TemplateError(f"{chart}: cannot load chart: {exc}") from None
                self._charts[key] = loaded
            return loaded

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        sdk = self._sdk()
        loaded = self._chart(chart)
        try:
            rendered = loaded.render(
                dict(values), name=release, namespace=namespace, is_install=True
            )
        except sdk.HelmError as exc:
            raise TemplateError(f"{chart}: {_one_line(exc)}") from None
        return check_output(
            chart,
            [
                RenderedTemplate(source=source, text=text)
                for source, text in sorted(rendered.items())
                if is_manifest_source(source)
            ],
        )

    def lint(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        namespace: str,
        kube_version: str,
    ) -> list[LintMessage]:
        check_chart(chart)
        sdk = self._sdk()
        try:
            report = sdk.lint(
                chart,
                dict(values),
                strict=True,
                namespace=namespace,
                kube_version=f"v{kube_version}.0",
            )
        except sdk.HelmError as exc:
            raise TemplateError(f"{chart}: {_one_line(exc)}") from None
        messages = [
            LintMessage(
                severity=_SEVERITIES.get(int(entry.get("severity", 0)), "info"),
                path=str(entry.get("path", "")),
                message=str(entry.get("error", "")),
            )
            for entry in report.get("messages", [])
        ]
        return messages


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
