"""Everything the rules look at, loaded once and shared: files, renders, schemas."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshgen import yamlio
from meshgen.errors import ConfigError, TemplateError, ToolError
from meshgen.helm.base import HelmBackend, LintMessage
from meshgen.render import Manifest, Rendering, assemble, render_templates, to_plain
from meshgen.repo import MANIFEST_NAME, App, Environment, Repo, repo_from_manifest
from meshgen.validate import yamale_check
from meshgen.validate.model import Location

if TYPE_CHECKING:
    from concurrent.futures import Future

    from meshgen.helm.base import RenderedTemplate
    from meshgen.kubectl import DryRunOptions, DryRunResult
    from meshgen.validate.crd_schemas import CrdSchemas
    from meshgen.validate.kube_schemas import KubeSchemas
    from meshgen.validate.mesh import World

# How `--files -` names standard input in findings.
STDIN_NAME = "<stdin>"
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

# Called as rendering proceeds: (environment, done, total).
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LoadedFile:
    """A YAML file a person maintains: its round-trip tree, or why it could not be read."""

    path: Path
    data: Any
    error: ConfigError | None = None


# Folders of a generated repo that hold plain manifests (and Helm values files, which
# have no apiVersion/kind and are not objects).
STATIC_DIRS = ("cluster", "platform", "gitops")


@dataclass(frozen=True)
class StaticFile:
    """A YAML file under cluster/, platform/ or gitops/: its objects, or why not.

    `documents` holds the file's other documents (Helm values files have no kind), which
    the mesh analyzers read for what the platform charts install, with the line each
    starts on.
    """

    path: Path
    objects: tuple[Manifest, ...]
    error: ConfigError | None = None
    documents: tuple[yamlio.Document, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class OverlayRef:
    environment: Environment
    app: App
    file: LoadedFile


class ValidationContext:
    """The repository under validation. Expensive parts are computed on first use."""

    def __init__(
        self,
        root: Path,
        backend: HelmBackend | None,
        *,
        only_environments: Sequence[str] = (),
        files: Sequence[str] = (),
        schema_locations: Sequence[str] | None = None,
        schema_cache: Path | None = None,
        kubernetes_version: str | None = None,
        dry_run: DryRunOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """`files` switches to plain-manifest mode: no meshgen.yaml, no Helm, just objects.

        `schema_locations` are CRD schema locations (see crd_schemas); None means the
        repository's own schema folder. `dry_run` asks for `kubectl apply --dry-run`.
        """
        self.root = root
        self.backend = backend
        self.only_environments = tuple(only_environments)
        self.files = tuple(files)
        self.files_mode = bool(files)
        self._schema_locations = schema_locations
        self._schema_cache = schema_cache
        self._kubernetes_version = kubernetes_version
        self.dry_run = dry_run
        self.progress = progress
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[OverlayRef, Future[list[RenderedTemplate]]]] = []
        self._prefetched_lints: dict[int, Future[list[LintMessage]]] = {}

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

    def location(self, path: Path | str, line: int | None = None) -> Location:
        return Location(self.rel(path), line or 1, 1)

    # -- meshgen's own files --------------------------------------------------------

    @cached_property
    def manifest(self) -> LoadedFile:
        path = self.root / MANIFEST_NAME
        if self.files_mode:
            return LoadedFile(path, None)
        try:
            return LoadedFile(path, yamlio.load_roundtrip(path))
        except ConfigError as exc:
            return LoadedFile(path, None, exc)

    @cached_property
    def manifest_schema_errors(self) -> list[yamale_check.SchemaError]:
        if self.manifest.error is not None or self.files_mode:
            return []
        return yamale_check.check_manifest(self.manifest.data)

    @cached_property
    def repo(self) -> Repo | None:
        """The repo model, when meshgen.yaml is readable and well-formed."""
        if self.manifest.error is not None or self.manifest_schema_errors:
            return None
        if not isinstance(self.manifest.data, Mapping):
            return None
        try:
            return repo_from_manifest(self.root, self.manifest.data)
        except ConfigError:
            return None

    @cached_property
    def environments(self) -> tuple[Environment, ...]:
        if self.repo is None:
            return ()
        if not self.only_environments:
            return self.repo.environments
        return tuple(self.repo.environment(name) for name in self.only_environments)

    @cached_property
    def overlays(self) -> list[OverlayRef]:
        if self.repo is None:
            return []
        refs = []
        for environment in self.environments:
            for app in self.repo.apps:
                path = self.repo.overlay_path(environment.name, app.name)
                try:
                    loaded = LoadedFile(path, yamlio.load_roundtrip(path))
                except ConfigError as exc:
                    loaded = LoadedFile(path, None, exc)
                refs.append(OverlayRef(environment, app, loaded))
        return refs

    @cached_property
    def overlay_schema_errors(self) -> dict[Path, list[yamale_check.SchemaError]]:
        errors = {}
        for ref in self.overlays:
            if ref.file.error is None:
                errors[ref.file.path] = yamale_check.check_overlay(ref.file.data)
        return errors

    def overlay_is_sound(self, ref: OverlayRef) -> bool:
        """Readable and schema-valid: safe to render and to reason about."""
        return ref.file.error is None and not self.overlay_schema_errors.get(ref.file.path)

    # -- Helm -----------------------------------------------------------------------

    def start_rendering(self) -> None:
        """Hand Helm the renders (and the chart's lint) now, in worker threads.

        Helm's Go code releases the GIL, so the renders run while this thread goes on
        (importing and preparing the checks, then parsing each rendered environment).
        Calling it is optional: the first rule that needs renders starts them.
        """
        if self._pool is not None:
            return
        repo, backend = self.repo, self.backend
        if repo is None or backend is None:
            return
        sound = [
            ref
            for ref in self.overlays
            if self.overlay_is_sound(ref) and repo.chart_path(ref.app).is_dir()
        ]
        # A loaded chart is safe to share between threads.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="meshgen-helm")
        self._pending = [
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
        first_per_chart: dict[str, OverlayRef] = {}
        for ref in sound:
            first_per_chart.setdefault(ref.app.chart, ref)
        self._prefetched_lints = {
            id(ref): self._pool.submit(
                backend.lint,
                repo.chart_path(ref.app),
                to_plain(ref.file.data),
                namespace=ref.environment.namespace,
                kube_version=repo.kubernetes_version,
            )
            for ref in first_per_chart.values()
        }

    def close(self) -> None:
        """Stop the render workers; what was not started is dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @cached_property
    def _render_results(self) -> list[tuple[OverlayRef, Rendering | None, str | None]]:
        results: list[tuple[OverlayRef, Rendering | None, str | None]] = []
        self.start_rendering()
        repo = self.repo
        if repo is None or self._pool is None:
            return results
        total = len(self._pending)
        for done, (ref, future) in enumerate(self._pending, start=1):
            if self.progress is not None:
                self.progress(ref.environment.name, done, total)
            try:
                rendering = assemble(repo, ref.environment, ref.app, future.result())
            except (TemplateError, ConfigError, ToolError) as exc:
                results.append((ref, None, str(exc)))
            else:
                results.append((ref, rendering, None))
        return results

    @property
    def renderings(self) -> list[Rendering]:
        return [r for _, r, _ in self._render_results if r is not None]

    @property
    def render_failures(self) -> list[tuple[OverlayRef, str]]:
        return [(ref, error) for ref, _, error in self._render_results if error is not None]

    @cached_property
    def lint_results(self) -> list[tuple[OverlayRef, list[LintMessage]]]:
        """`helm lint` once per chart, with the first environment that renders.

        Every environment's render is checked on its own (MG201, and strictly against
        the schemas by MG301/MG304), so linting each environment again would repeat the
        chart-level messages once per environment and cost a lint per environment.
        """
        if self.repo is None or self.backend is None:
            return []
        failed = {id(ref) for ref, _ in self.render_failures}
        results = []
        linted: set[str] = set()
        for ref in self.overlays:
            chart = self.repo.chart_path(ref.app)
            if not self.overlay_is_sound(ref) or not chart.is_dir() or id(ref) in failed:
                continue
            if ref.app.chart in linted:
                continue
            linted.add(ref.app.chart)
            prefetched = self._prefetched_lints.get(id(ref))
            if prefetched is not None:
                messages = prefetched.result()
            else:
                messages = self.backend.lint(
                    chart,
                    to_plain(ref.file.data),
                    namespace=ref.environment.namespace,
                    kube_version=self.repo.kubernetes_version,
                )
            results.append((ref, messages))
        return results

    # -- objects --------------------------------------------------------------------

    @property
    def rendered_objects(self) -> list[tuple[str, Manifest]]:
        """Every rendered object with the environment it was rendered for."""
        return [(r.environment, m) for r in self.renderings for m in r.manifests]

    @cached_property
    def static_files(self) -> list[StaticFile]:
        """Every YAML file under the static folders, parsed; values files yield no objects.

        In plain-manifest mode, the files given instead (folders are searched for YAML
        and JSON files; `-` is standard input).
        """
        if self.files_mode:
            return self._given_files()
        files = []
        for folder in STATIC_DIRS:
            base = self.root / folder
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*")):
                if path.suffix not in (".yaml", ".yml") or not path.is_file():
                    continue
                files.append(self._load_static(path))
        return files

    def _given_files(self) -> list[StaticFile]:
        files = []
        for name in self.files:
            if name == "-":
                files.append(self._parse_static(Path(STDIN_NAME), STDIN_NAME, sys.stdin.read()))
                continue
            path = Path(name)
            if path.is_dir():
                for child in sorted(path.rglob("*")):
                    if child.suffix in _MANIFEST_SUFFIXES and child.is_file():
                        files.append(self._load_static(child))
            else:
                files.append(self._load_static(path))
        return files

    def _load_static(self, path: Path) -> StaticFile:
        source = self.rel(path)
        try:
            text = yamlio.read_text(path)
        except ConfigError as exc:
            return StaticFile(path, (), exc)
        return self._parse_static(path, source, text)

    def _parse_static(self, path: Path, source: str, text: str) -> StaticFile:
        try:
            documents = list(yamlio.split_documents(text, source))
        except ConfigError as exc:
            return StaticFile(path, (), exc)
        objects: list[Manifest] = []
        others: list[yamlio.Document] = []
        for document in documents:
            data = document.data
            if isinstance(data, Mapping) and "apiVersion" in data and "kind" in data:
                if data.get("kind") == "List" and isinstance(data.get("items"), list):
                    objects.extend(
                        Manifest(source, document.line, "", item)
                        for item in data["items"]
                        if isinstance(item, Mapping)
                    )
                else:
                    objects.append(Manifest(source, document.line, "", data))
            else:
                others.append(document)
        return StaticFile(path, tuple(objects), documents=tuple(others))

    @property
    def static_objects(self) -> list[Manifest]:
        return [obj for file in self.static_files for obj in file.objects]

    @property
    def all_objects(self) -> list[tuple[str, Manifest]]:
        """Rendered objects labelled with their environment, then static ones labelled ""."""
        return self.rendered_objects + [("", obj) for obj in self.static_objects]

    @cached_property
    def worlds(self) -> list[World]:
        """One World per environment (its renders plus the static objects), or, without
        renders, a single World of the static objects (the plain-manifest mode)."""
        from meshgen.validate import env_values, mesh

        static = self.static_objects
        values = [
            (Path(self.rel(file.path)), document.data)
            for file in self.static_files
            for document in file.documents
        ]
        namespaces = {e.name: e.namespace for e in self.environments}
        rendered: dict[str, list[Manifest]] = {}
        for rendering in self.renderings:
            rendered.setdefault(rendering.environment, []).extend(rendering.manifests)
        if not rendered:
            return [mesh.World("", static, values)]
        return [
            mesh.World(
                env,
                [*objects, *static],
                env_values.for_environment(values, env, namespaces),
                default_namespace=namespaces.get(env, env),
                shared=frozenset(id(obj) for obj in static),
            )
            for env, objects in rendered.items()
        ]

    @cached_property
    def kubernetes_version(self) -> str | None:
        """The cluster's Kubernetes version: the option, meshgen.yaml, or (plain files)
        the newest one with bundled schemas."""
        if self._kubernetes_version:
            return self._kubernetes_version
        if self.repo is not None:
            return self.repo.kubernetes_version
        if self.files_mode:
            from meshgen.validate.kube_schemas import available_versions

            return available_versions()[-1]
        return None

    @cached_property
    def kube_schemas(self) -> KubeSchemas | None:
        if self.kubernetes_version is None:
            return None
        from meshgen.validate.kube_schemas import KubeSchemas

        return KubeSchemas(self.kubernetes_version)

    @cached_property
    def crd_schemas(self) -> CrdSchemas:
        """Custom resource schemas, from the locations given or the repo's schema folder."""
        locations = self._schema_locations
        from meshgen.validate.crd_schemas import CrdSchemas, repo_schema_location

        default = repo_schema_location(self.root)
        if locations is None:
            locations = [str(default)] if default.is_dir() and not self.files_mode else []
        resolved = [str(default) if loc == "default" else loc for loc in locations]
        return CrdSchemas(resolved, cache_dir=self._schema_cache)

    # -- kubectl --------------------------------------------------------------------

    @cached_property
    def dry_run_results(self) -> list[DryRunResult]:
        """`kubectl apply --dry-run` per environment, when asked; else nothing.

        An unreachable cluster raises ClusterUnreachable: no finding could be trusted.
        """
        if self.dry_run is None:
            return []
        from meshgen.kubectl import dry_run

        results = []
        for rendering in self.renderings:
            label = f"{rendering.environment}/{rendering.app}"
            results.append(dry_run(label, rendering.manifests, self.dry_run))
        if self.files_mode and self.static_objects:
            results.append(dry_run("", tuple(self.static_objects), self.dry_run))
        return results
