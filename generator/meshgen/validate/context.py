"""Everything the rules look at, read once and shared: files, renders, schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from meshgen.errors import ConfigError
from meshgen.helm.base import HelmBackend, LintMessage
from meshgen.render import Manifest, Rendering
from meshgen.repo import MANIFEST_NAME, Environment, Repo
from meshgen.validate.findings import Location
from meshgen.validate.inputs import repo_files, static_files
from meshgen.validate.inputs.parsed_cache import ParsedDocuments
from meshgen.validate.inputs.renders import RenderResult, Renders
from meshgen.validate.inputs.repo_files import EnvironmentFileRef, LoadedFile
from meshgen.validate.inputs.static_files import StaticFile
from meshgen.validate.options import ValidateOptions
from meshgen.validate.schemas import meshgen_files

if TYPE_CHECKING:
    from meshgen.kubectl import DryRunResult
    from meshgen.validate.schemas.crd import CrdSchemas
    from meshgen.validate.schemas.kube import KubeSchemas
    from meshgen.validate.schemas.verdicts import Verdicts

T = TypeVar("T")


class ValidationContext:
    """The repository (or the plain files) under validation, read on first use."""

    def __init__(self, root: Path, backend: HelmBackend | None, options: ValidateOptions) -> None:
        self.root = root
        self.backend = backend
        self.options = options
        self.files_mode = options.files_mode
        self._renders: Renders | None = None
        self._memo: dict[Callable[..., Any], Any] = {}

    def memo(self, compute: Callable[[ValidationContext], T]) -> T:
        """`compute(self)`, computed once per run: how facts shared by rules are cached."""
        if compute not in self._memo:
            self._memo[compute] = compute(self)
        result: T = self._memo[compute]
        return result

    # -- paths ----------------------------------------------------------------------

    def rel(self, path: Path | str) -> str:
        """`path` relative to the repository, POSIX style, for findings."""
        candidate = Path(path)
        if not candidate.is_absolute():
            return candidate.as_posix()
        try:
            return candidate.relative_to(self.root).as_posix()
        except ValueError:
            return candidate.as_posix()

    def location(self, path: Path | str, line: int | None = None, column: int = 1) -> Location:
        return Location(self.rel(path), line or 1, column)

    # -- meshgen's own files --------------------------------------------------------

    @cached_property
    def config(self) -> LoadedFile:
        """The config, meshgen.yaml (nothing to read in plain-object mode)."""
        path = self.root / MANIFEST_NAME
        if self.files_mode:
            return LoadedFile(path, None)
        return repo_files.load(path)

    @cached_property
    def config_schema_errors(self) -> list[meshgen_files.SchemaError]:
        if self.config.error is not None or self.files_mode:
            return []
        return meshgen_files.check_config(self.config.data)

    @cached_property
    def _repo_model(self) -> Repo | ConfigError | None:
        if self.config_schema_errors:
            return None
        return repo_files.repo_model(self.root, self.config)

    @cached_property
    def repo(self) -> Repo | None:
        """The repo model, when meshgen.yaml is readable and well-formed."""
        return self._repo_model if isinstance(self._repo_model, Repo) else None

    @cached_property
    def repo_error(self) -> ConfigError | None:
        """What in a schema-valid meshgen.yaml stops the repo model being built."""
        return self._repo_model if isinstance(self._repo_model, ConfigError) else None

    @cached_property
    def environments(self) -> tuple[Environment, ...]:
        if self.repo is None:
            return ()
        if not self.options.environments:
            return self.repo.environments
        return tuple(self.repo.environment(name) for name in self.options.environments)

    @cached_property
    def environment_files(self) -> list[EnvironmentFileRef]:
        if self.repo is None:
            return []
        return repo_files.environment_files(self.repo, self.environments)

    @cached_property
    def environment_file_schema_errors(self) -> dict[Path, list[meshgen_files.SchemaError]]:
        return repo_files.schema_errors(self.environment_files)

    def environment_file_is_sound(self, ref: EnvironmentFileRef) -> bool:
        """Readable and schema-valid: safe to render and to reason about."""
        return ref.file.error is None and not self.environment_file_schema_errors.get(ref.file.path)

    # -- Helm -----------------------------------------------------------------------

    def start_rendering(self) -> None:
        """Hand Helm the renders (and the chart's lint) now, in worker threads.

        Calling it is optional: the first rule that needs renders starts them.
        """
        repo, backend = self.repo, self.backend
        if self._renders is not None or repo is None or backend is None:
            return
        sound = [
            ref
            for ref in self.environment_files
            if self.environment_file_is_sound(ref) and repo.chart_path(ref.app).is_dir()
        ]
        self._renders = Renders(repo, backend, sound)

    def close(self) -> None:
        """Stop the render workers (what was not started is dropped); keep the verdicts."""
        if self._renders is not None:
            self._renders.close()
        if "verdicts" in self.__dict__:
            self.verdicts.save()

    @cached_property
    def _render_results(self) -> list[RenderResult]:
        self.start_rendering()
        if self._renders is None:
            return []
        return self._renders.results(self.options.progress)

    @property
    def renderings(self) -> list[Rendering]:
        return [r.rendering for r in self._render_results if r.rendering is not None]

    @property
    def render_failures(self) -> list[tuple[EnvironmentFileRef, str]]:
        return [(r.ref, r.error) for r in self._render_results if r.error is not None]

    @cached_property
    def lint_results(self) -> list[tuple[EnvironmentFileRef, list[LintMessage]]]:
        """`helm lint` once per chart, with the first environment that renders.

        Every environment's render is checked on its own (MG201, and strictly against
        the schemas by MG301/MG304), so linting each environment again would repeat the
        chart-level messages once per environment and cost a lint per environment.
        """
        failed = {id(ref) for ref, _ in self.render_failures}
        repo, renders = self.repo, self._renders
        if repo is None or renders is None:
            return []
        results = []
        linted: set[str] = set()
        for ref in self.environment_files:
            chart = repo.chart_path(ref.app)
            if not self.environment_file_is_sound(ref) or not chart.is_dir() or id(ref) in failed:
                continue
            if ref.app.chart in linted:
                continue
            linted.add(ref.app.chart)
            results.append((ref, renders.lint(ref)))
        return results

    # -- objects --------------------------------------------------------------------

    @property
    def rendered_objects(self) -> list[tuple[str, Manifest]]:
        """Every rendered object with the environment it was rendered for."""
        return [(r.environment, m) for r in self.renderings for m in r.manifests]

    @cached_property
    def static_files(self) -> list[StaticFile]:
        """The static folders' YAML files, or, in plain-object mode, the files given."""
        parsed = ParsedDocuments(self.options.parse_cache)
        if self.files_mode:
            return static_files.given_files(self.options.files, self.rel, parsed)
        return static_files.repo_static_files(self.root, self.rel, parsed)

    @property
    def static_objects(self) -> list[Manifest]:
        return [obj for file in self.static_files for obj in file.objects]

    @property
    def all_objects(self) -> list[tuple[str, Manifest]]:
        """Rendered objects labelled with their environment, then static ones labelled ""."""
        return self.rendered_objects + [("", obj) for obj in self.static_objects]

    @property
    def values_documents(self) -> list[tuple[Path, Mapping[str, Any] | Any]]:
        """The static files' documents that are not objects (Helm values), by path."""
        return [
            (Path(self.rel(file.path)), document.data)
            for file in self.static_files
            for document in file.documents
        ]

    # -- schemas --------------------------------------------------------------------

    @cached_property
    def kubernetes_version(self) -> str | None:
        """The cluster's Kubernetes version: the option, meshgen.yaml, or (plain files)
        the newest one with bundled schemas."""
        if self.options.kubernetes_version:
            return self.options.kubernetes_version
        if self.repo is not None:
            return self.repo.kubernetes_version
        if self.files_mode:
            from meshgen.resources import kubernetes_versions

            return kubernetes_versions()[-1]
        return None

    @cached_property
    def kube_schemas(self) -> KubeSchemas | None:
        if self.kubernetes_version is None:
            return None
        from meshgen.validate.schemas.kube import KubeSchemas

        return KubeSchemas(self.kubernetes_version, verdicts=self.verdicts)

    @cached_property
    def crd_schemas(self) -> CrdSchemas:
        """Custom resource schemas, from the locations given or the repo's schema folder."""
        from meshgen.validate.schemas.crd import CrdSchemas, repo_schema_location

        locations = self.options.schema_locations
        default = repo_schema_location(self.root)
        if locations is None:
            locations = [str(default)] if default.is_dir() and not self.files_mode else []
        resolved = [str(default) if loc == "default" else loc for loc in locations]
        return CrdSchemas(resolved, cache_dir=self.options.schema_cache, verdicts=self.verdicts)

    @cached_property
    def verdicts(self) -> Verdicts:
        """Objects known to pass their schema, from earlier runs (see schemas.verdicts)."""
        from meshgen.validate.schemas.verdicts import Verdicts

        return Verdicts(self.options.verdict_cache)

    # -- kubectl --------------------------------------------------------------------

    @cached_property
    def dry_run_results(self) -> list[DryRunResult]:
        """`kubectl apply --dry-run` per environment, when asked; else nothing.

        An unreachable cluster raises ClusterUnreachable: no finding could be trusted.
        """
        options = self.options.dry_run
        if options is None:
            return []
        from meshgen.kubectl import dry_run

        results = [
            dry_run(f"{r.environment}/{r.app}", r.manifests, options) for r in self.renderings
        ]
        if self.files_mode and self.static_objects:
            results.append(dry_run("", tuple(self.static_objects), options))
        return results
