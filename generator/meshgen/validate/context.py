"""Everything the rules look at, loaded once and shared: files, renders, schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError, TemplateError, ToolError
from meshgen.helm.base import HelmBackend, LintMessage
from meshgen.render import Manifest, Rendering, render_app, to_plain
from meshgen.repo import MANIFEST_NAME, App, Environment, Repo, repo_from_manifest
from meshgen.validate import yamale_check
from meshgen.validate.kube_schemas import KubeSchemas
from meshgen.validate.model import Location


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
    """A YAML file under cluster/, platform/ or gitops/: its objects, or why not."""

    path: Path
    objects: tuple[Manifest, ...]
    error: ConfigError | None = None


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
        backend: HelmBackend,
        *,
        only_environments: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.backend = backend
        self.only_environments = tuple(only_environments)

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
        try:
            return LoadedFile(path, yamlio.load_roundtrip(path))
        except ConfigError as exc:
            return LoadedFile(path, None, exc)

    @cached_property
    def manifest_schema_errors(self) -> list[yamale_check.SchemaError]:
        if self.manifest.error is not None:
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

    @cached_property
    def _render_results(self) -> list[tuple[OverlayRef, Rendering | None, str | None]]:
        results: list[tuple[OverlayRef, Rendering | None, str | None]] = []
        for ref in self.overlays:
            if not self.overlay_is_sound(ref) or self.repo is None:
                continue
            if not self.repo.chart_path(ref.app).is_dir():
                continue
            try:
                rendering = render_app(
                    self.repo, ref.environment, ref.app, self.backend, to_plain(ref.file.data)
                )
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
        if self.repo is None:
            return []
        results = []
        for ref in self.overlays:
            chart = self.repo.chart_path(ref.app)
            if not self.overlay_is_sound(ref) or not chart.is_dir():
                continue
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
        """Every YAML file under the static folders, parsed; values files yield no objects."""
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

    def _load_static(self, path: Path) -> StaticFile:
        source = self.rel(path)
        try:
            text = yamlio.read_text(path)
            documents = list(yamlio.split_documents(text, source))
        except ConfigError as exc:
            return StaticFile(path, (), exc)
        objects = tuple(
            Manifest(source, document.line, "", document.data)
            for document in documents
            if isinstance(document.data, Mapping)
            and "apiVersion" in document.data
            and "kind" in document.data
        )
        return StaticFile(path, objects)

    @property
    def static_objects(self) -> list[Manifest]:
        return [obj for file in self.static_files for obj in file.objects]

    @property
    def all_objects(self) -> list[tuple[str, Manifest]]:
        """Rendered objects labelled with their environment, then static ones labelled ""."""
        return self.rendered_objects + [("", obj) for obj in self.static_objects]

    @cached_property
    def kube_schemas(self) -> KubeSchemas | None:
        if self.repo is None:
            return None
        return KubeSchemas(self.repo.kubernetes_version)
