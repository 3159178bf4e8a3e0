"""Helm's renders and lint of every sound environment file, started early in threads."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from meshgen.errors import ConfigError, TemplateError, ToolError
from meshgen.helm.base import HelmBackend, LintMessage, RenderedTemplate, RenderLimitError
from meshgen.helm.select import stop_renders
from meshgen.render import Rendering, assemble, render_templates
from meshgen.repo import Repo
from meshgen.severity import Severity
from meshgen.validate.inputs.repo_files import EnvironmentFileRef
from meshgen.validate.options import ProgressCallback
from meshgen.yamlio import to_plain


@dataclass(frozen=True)
class RenderResult:
    """One environment file's render, or why Helm could not render it."""

    ref: EnvironmentFileRef
    rendering: Rendering | None
    error: str | None


class Renders:
    """Renders (and one lint per chart) handed to Helm in worker threads.

    Helm's Go code releases the GIL, so the renders run while the caller goes on
    (importing and preparing the checks, then parsing each rendered environment).
    """

    def __init__(self, repo: Repo, backend: HelmBackend, sound: Sequence[EnvironmentFileRef]):
        self._repo = repo
        self._backend = backend
        # Two renders at a time, each in its own Helm worker process; for a single
        # environment (a render and a lint) a second process would cost more to start
        # than it saves.
        self._pool = ThreadPoolExecutor(
            max_workers=2 if len(sound) > 1 else 1, thread_name_prefix="meshgen-helm"
        )
        self._pending: list[tuple[EnvironmentFileRef, Future[list[RenderedTemplate]]]] = [
            (
                ref,
                self._pool.submit(
                    render_templates,
                    repo,
                    ref.environment,
                    ref.app,
                    backend,
                    to_plain(ref.file.data),
                ),
            )
            for ref in sound
        ]
        first_per_chart: dict[str, EnvironmentFileRef] = {}
        for ref in sound:
            first_per_chart.setdefault(ref.app.chart, ref)
        self._lints = {id(ref): self._submit_lint(ref) for ref in first_per_chart.values()}

    def _submit_lint(self, ref: EnvironmentFileRef) -> Future[list[LintMessage]]:
        return self._pool.submit(
            self._backend.lint,
            self._repo.chart_path(ref.app),
            to_plain(ref.file.data),
            namespace=ref.environment.namespace,
            kube_version=self._repo.kubernetes_version,
        )

    def results(self, progress: ProgressCallback | None) -> list[RenderResult]:
        """Every render, in order, assembled into objects as it completes."""
        results = []
        total = len(self._pending)
        for done, (ref, future) in enumerate(self._pending, start=1):
            if progress is not None:
                progress(ref.environment.name, done, total)
            try:
                rendering = assemble(self._repo, ref.environment, ref.app, future.result())
            except (TemplateError, ConfigError, ToolError) as exc:
                results.append(RenderResult(ref, None, str(exc)))
            else:
                results.append(RenderResult(ref, rendering, None))
        return results

    def lint(self, ref: EnvironmentFileRef) -> list[LintMessage]:
        """`helm lint` of `ref`'s chart: the one started early, or a new one.

        Lint runs the templates too: one stopped at a limit is a lint error, like a
        render stopped at a limit is a render failure.
        """
        prefetched = self._lints.get(id(ref))
        if prefetched is None:
            prefetched = self._submit_lint(ref)
        try:
            return prefetched.result()
        except RenderLimitError as exc:
            chart = self._repo.chart_path(ref.app)
            return [LintMessage(Severity.ERROR, ref.app.chart, str(exc).replace(f"{chart}: ", ""))]

    def close(self) -> None:
        """Stop the workers; what was not started is dropped.

        A render still running when the run ends (interrupted, or no rule read it) is
        stopped rather than waited for: it could hold the exit up to its time limit.
        """
        futures = [future for _, future in self._pending] + list(self._lints.values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        if not all(future.done() for future in futures):
            stop_renders()
        self._pool.shutdown(wait=True)
