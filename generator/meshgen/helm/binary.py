"""A `helm` executable the user points meshgen at (Helm 3.x or 4.x)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshgen.errors import TemplateError, ToolError
from meshgen.helm.base import (
    LintMessage,
    RenderedTemplate,
    check_chart,
    check_output,
    is_manifest_source,
)

TIMEOUT_SECONDS = 120
_SOURCE_HEADER = re.compile(r"^# Source: (?P<source>.+)$", re.MULTILINE)
_LINT_LINE = re.compile(r"^\[(?P<severity>INFO|WARNING|ERROR)\] (?P<path>[^:]*): (?P<message>.*)$")


class BinaryHelm:
    def __init__(self, executable: Path) -> None:
        self.executable = executable

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        command = [str(self.executable), *args]
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except FileNotFoundError:
            raise ToolError(command, "not found; check --helm-binary or MESHGEN_HELM") from None
        except PermissionError:
            raise ToolError(command, "not executable") from None
        except subprocess.TimeoutExpired:
            raise ToolError(command, f"timed out after {TIMEOUT_SECONDS}s") from None

    def _run_with_values(
        self,
        args: list[str],
        values: Mapping[str, Any],
        namespace: str,
        kube_version: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run `helm ARGS` with `values` in a temporary file (helm reads values from files)."""
        with tempfile.TemporaryDirectory(prefix="meshgen-helm-") as scratch:
            values_file = Path(scratch) / "values.json"
            values_file.write_text(json.dumps(dict(values)), encoding="utf-8")
            return self._run(
                [
                    *args,
                    "--namespace",
                    namespace,
                    "--values",
                    str(values_file),
                    "--kube-version",
                    kube_version,
                ]
            )

    def describe(self) -> str:
        result = self._run(["version", "--short"])
        if result.returncode != 0:
            raise ToolError(
                [str(self.executable), "version"],
                result.stderr.strip(),
                returncode=result.returncode,
            )
        version = result.stdout.strip()
        if not version.startswith("v"):
            raise ToolError(
                [str(self.executable), "version"],
                f"answered {version or 'nothing'!r}, not a helm version such as v3.16.0; "
                "check that --helm-binary / MESHGEN_HELM names helm",
            )
        return f"helm binary {self.executable} {version}"

    def render(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kube_version: str,
    ) -> list[RenderedTemplate]:
        check_chart(chart)
        result = self._run_with_values(
            ["template", release, str(chart)], values, namespace, kube_version
        )
        if result.returncode != 0:
            raise TemplateError(f"{chart}: {' '.join(result.stderr.split())}")
        if "# Source: " not in result.stdout:
            # `helm template` always names each template's source; output without any
            # came from something that is not helm (or from a chart with no templates).
            raise ToolError(
                [str(self.executable), "template"],
                "printed no manifests; check that --helm-binary / MESHGEN_HELM names helm",
            )
        return check_output(chart, _split_sources(result.stdout))

    def lint(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        namespace: str,
        kube_version: str,
    ) -> list[LintMessage]:
        check_chart(chart)
        result = self._run_with_values(
            ["lint", str(chart), "--strict"], values, namespace, kube_version
        )
        messages: list[LintMessage] = []
        for line in result.stdout.splitlines():
            match = _LINT_LINE.match(line.strip())
            if match:
                severity = match["severity"].lower()
                messages.append(
                    LintMessage(
                        severity="warning"
                        if severity == "warning"
                        else "error"
                        if severity == "error"
                        else "info",
                        path=match["path"],
                        message=match["message"],
                    )
                )
        return messages


def _split_sources(stream: str) -> list[RenderedTemplate]:
    """Regroup `helm template` output into one text per template, as the SDK returns it."""
    by_source: dict[str, list[str]] = {}
    headers = list(_SOURCE_HEADER.finditer(stream))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(stream)
        body = stream[header.end() + 1 : end]
        body = re.sub(r"\n---[ \t]*\n?\Z", "\n", body)
        by_source.setdefault(header["source"], []).append(body)
    return [
        RenderedTemplate(source=source, text="---\n".join(bodies))
        for source, bodies in sorted(by_source.items())
        if is_manifest_source(source)
    ]
