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
    Limits,
    LintMessage,
    RenderedTemplate,
    RenderLimitError,
    check_chart,
    check_output,
)
from meshgen.helm.bounded import Exceeded, bounded_run
from meshgen.helm.worker import is_manifest_source
from meshgen.severity import Severity

_SOURCE_HEADER = re.compile(r"^# Source: (?P<source>.+)$", re.MULTILINE)
_GO_FATAL = re.compile(r"^(?:fatal error|panic): (?P<reason>.*)$", re.MULTILINE)
_LINT_LINE = re.compile(r"^\[(?P<severity>INFO|WARNING|ERROR)\] (?P<path>[^:]*): (?P<message>.*)\Z")
# Room for the binary's own address-space reservations (about 1.3 GB for helm 4) on top
# of the memory a render may use.
_BINARY_RESERVED_BYTES = 2 * 1024 * 1024 * 1024


class BinaryHelm:
    def __init__(self, executable: Path, limits: Limits | None = None) -> None:
        self.executable = executable
        self.limits = limits or Limits()

    def _run(self, args: list[str], chart: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = [str(self.executable), *args]
        try:
            return bounded_run(
                command,
                timeout=self.limits.timeout_seconds,
                max_output=self.limits.max_render_bytes,
                memory=_BINARY_RESERVED_BYTES + self.limits.memory_headroom_bytes,
                cpu_seconds=self.limits.cpu_seconds,
            )
        except FileNotFoundError:
            raise ToolError(command, "not found; check --helm-binary or MESHGEN_HELM") from None
        except PermissionError:
            raise ToolError(command, "not executable") from None
        except Exceeded as exc:
            if chart is None:
                raise ToolError(command, str(exc)) from None
            raise RenderLimitError(f"{chart}: rendering {exc}") from None

    def _run_with_values(
        self,
        args: list[str],
        chart: Path,
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
                ],
                chart,
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
            ["template", release, str(chart)], chart, values, namespace, kube_version
        )
        if result.returncode != 0:
            raise _failure(chart, result.stderr)
        if "# Source: " not in result.stdout:
            # `helm template` always names each template's source; output without any
            # came from something that is not helm (or from a chart with no templates).
            raise ToolError(
                [str(self.executable), "template"],
                "printed no manifests; check that --helm-binary / MESHGEN_HELM names helm",
            )
        return check_output(chart, _split_sources(result.stdout), self.limits.max_render_bytes)

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
            ["lint", str(chart), "--strict"], chart, values, namespace, kube_version
        )
        if _GO_FATAL.search(result.stderr):
            raise _failure(chart, result.stderr)
        messages: list[LintMessage] = []
        for line in result.stdout.splitlines():
            match = _LINT_LINE.match(line.strip())
            if match:
                messages.append(
                    LintMessage(
                        severity=Severity(match["severity"].lower()),
                        path=match["path"],
                        message=match["message"],
                    )
                )
        return messages


def _failure(chart: Path, stderr: str) -> TemplateError:
    """Helm's error message; a Go runtime failure (with its goroutine dump) in one line."""
    fatal = _GO_FATAL.search(stderr)
    if fatal is None:
        return TemplateError(f"{chart}: {' '.join(stderr.split())}")
    if "out of memory" in fatal["reason"]:
        return RenderLimitError(
            f"{chart}: rendering ran out of memory and was stopped; "
            "check the chart for a runaway loop"
        )
    return RenderLimitError(f"{chart}: helm stopped: {fatal['reason'][:200]}")


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
