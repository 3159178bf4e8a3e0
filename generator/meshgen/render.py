"""Render an app chart for an environment into ordered Kubernetes objects."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from meshgen import safefs, yamlio
from meshgen.environment_file import EnvironmentFile
from meshgen.errors import ConfigError
from meshgen.helm.base import HelmBackend, RenderedTemplate, RenderLimitError
from meshgen.repo import App, Environment, Repo

# Helm's install order (pkg/release/util/kind_sorter.go): objects print in the order
# a cluster needs them, so `meshgen render` reads like `helm template`.
_INSTALL_ORDER = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
]
_KIND_RANK = {kind: rank for rank, kind in enumerate(_INSTALL_ORDER)}


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and where it came from."""

    source: str
    """Path of the file it came from, relative to the repo (a chart template or a static file)."""
    line: int
    """1-based line of the object in its rendered template (or in its static file)."""
    text: str
    data: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", ""))

    @property
    def name(self) -> str:
        metadata = self.data.get("metadata") or {}
        return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""

    @property
    def namespace(self) -> str:
        metadata = self.data.get("metadata") or {}
        return str(metadata.get("namespace", "")) if isinstance(metadata, Mapping) else ""

    @property
    def is_hook(self) -> bool:
        metadata = self.data.get("metadata") or {}
        annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        return isinstance(annotations, Mapping) and "helm.sh/hook" in annotations

    @property
    def ref(self) -> str:
        """`Kind/name` or `Kind/namespace/name`, for messages."""
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)


@dataclass(frozen=True)
class Rendering:
    """An app rendered for one environment."""

    environment: str
    app: str
    manifests: tuple[Manifest, ...]

    def to_yaml(self) -> str:
        """The multi-document stream `meshgen render` prints; byte-for-byte deterministic."""
        parts = [f"---\n# Source: {m.source}\n{m.text.strip(chr(10))}\n" for m in self.manifests]
        return "".join(parts)


def render_app(
    repo: Repo,
    environment: Environment,
    app: App,
    backend: HelmBackend,
    values: Mapping[str, Any] | None = None,
) -> Rendering:
    """Render `app` with its environment file (or `values`, already loaded)."""
    if values is None:
        path = repo.environment_file_path(environment.name, app.name)
        values = EnvironmentFile.read(path).values()
    try:
        templates = render_templates(repo, environment, app, backend, values)
    except RenderLimitError as exc:
        # Chart code was stopped: name the environment whose values it ran with.
        raise RenderLimitError(f"{exc} (environment {environment.name})") from None
    return assemble(repo, environment, app, templates)


def render_templates(
    repo: Repo,
    environment: Environment,
    app: App,
    backend: HelmBackend,
    values: Mapping[str, Any],
) -> list[RenderedTemplate]:
    """Helm's part of a render: the templates' text. Safe to run in a worker thread."""
    return backend.render(
        repo.chart_path(app),
        values,
        release=app.name,
        namespace=environment.namespace,
        kube_version=repo.kubernetes_version,
    )


def assemble(
    repo: Repo, environment: Environment, app: App, templates: Sequence[RenderedTemplate]
) -> Rendering:
    """meshgen's part of a render: the objects of `templates`, parsed and ordered."""
    chart = repo.chart_path(app)
    chart_prefix = Path(app.chart).as_posix().rstrip("/")
    manifests: list[Manifest] = []
    for template in templates:
        # Helm names sources `<chart name>/templates/...`; report repo-relative paths.
        _, _, inside = template.source.partition("/")
        source = f"{chart_prefix}/{inside}" if inside else template.source
        parsed = _parse(template.text, source, template.parsed)
        manifests.extend(_at_template_lines(parsed, chart / inside if inside else None))
    return Rendering(environment.name, app.name, tuple(_install_order(manifests)))


_KIND_LINE = re.compile(r"^kind:\s*[\"']?(?P<kind>[A-Za-z0-9]+)[\"']?\s*(?:#.*)?\Z")
_API_VERSION_LINE = re.compile(r"^apiVersion:")


def _template_index(template: Path) -> tuple[Sequence[str], Mapping[str, list[int]]]:
    """A template's lines and, per kind, the 0-based lines that declare it."""
    try:
        stat = template.stat()
    except OSError:
        return (), {}
    return _indexed_template(str(template), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _indexed_template(
    path: str, _mtime_ns: int, _size: int
) -> tuple[Sequence[str], Mapping[str, list[int]]]:
    # Keyed by modification time and size too, so an edited template is read again.
    try:
        lines = tuple(safefs.read_text(Path(path)).splitlines())
    except ConfigError:
        return (), {}
    kind_lines: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        match = _KIND_LINE.match(line)
        if match:
            kind_lines.setdefault(match["kind"], []).append(number)
    return lines, kind_lines


def _at_template_lines(manifests: list[Manifest], template: Path | None) -> list[Manifest]:
    """Point each rendered object at the line of its template source that produced it.

    A finding on a rendered object is fixed in the template, so the useful line is the
    `apiVersion:` (or `kind:`) line of that object in the template file, found by kind
    in document order; every version a `range` produces points at the same lines.
    Where the kind is computed by the template, the object keeps line 1. This also
    makes the lines independent of how a Helm backend spaces its output.
    """
    lines, kind_lines = _template_index(template) if template else ((), {})
    used: dict[str, int] = {}
    located = []
    for manifest in manifests:
        candidates = kind_lines.get(manifest.kind, [])
        if not candidates:
            located.append(replace(manifest, line=1))
            continue
        # The n-th object of a kind maps to the n-th `kind:` line; past the last (a
        # `range`), all map to the last.
        index = min(used.get(manifest.kind, 0), len(candidates) - 1)
        used[manifest.kind] = used.get(manifest.kind, 0) + 1
        kind_at = candidates[index]
        start = kind_at
        for back in range(kind_at - 1, max(kind_at - 4, -1), -1):
            if _API_VERSION_LINE.match(lines[back]):
                start = back
                break
        located.append(replace(manifest, line=start + 1))
    return located


def _parse(
    text: str, source: str, parsed: Sequence[tuple[int, Any]] | None = None
) -> list[Manifest]:
    documents = (
        [yamlio.Document(source, line, data) for line, data in parsed]
        if parsed is not None
        else yamlio.split_documents(text, source)
    )
    manifests = []
    # Split the text into lines once: slicing it again per object made rendering
    # quadratic in the number of objects.
    lines = text.splitlines(keepends=True)
    for document in documents:
        if not isinstance(document.data, Mapping):
            raise ConfigError("rendered a document that is not a mapping", path=Path(source))
        chunk = _document_text(lines, document.line)
        manifests.append(Manifest(source, document.line, chunk, document.data))
    return manifests


def _document_text(lines: Sequence[str], line: int) -> str:
    """The text of the document starting at 1-based `line`, up to the next separator."""
    out = []
    for index in range(line - 1, len(lines)):
        raw = lines[index]
        if raw.rstrip() == "---" or raw.startswith("--- "):
            break
        out.append(raw)
    return "".join(out)


def _install_order(manifests: Sequence[Manifest]) -> list[Manifest]:
    indexed = list(enumerate(manifests))
    indexed.sort(
        key=lambda item: (
            item[1].is_hook,
            _KIND_RANK.get(item[1].kind, len(_KIND_RANK)),
            item[1].kind if item[1].kind not in _KIND_RANK else "",
            item[1].source,
            item[0],
        )
    )
    return [manifest for _, manifest in indexed]
