"""Render an app chart for an environment into ordered Kubernetes objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.helm.base import HelmBackend
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


def to_plain(node: Any) -> Any:
    """A round-trip YAML tree as plain dicts, lists and scalars (what Helm expects)."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    # ruamel's scalar subclasses (quoted strings, formatted numbers) become builtins.
    for builtin in (int, float, str):
        if isinstance(node, builtin):
            return builtin(node)
    return node


def load_overlay(repo: Repo, environment: Environment, app: App) -> dict[str, Any]:
    path = repo.overlay_path(environment.name, app.name)
    data = yamlio.load_roundtrip(path)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping of chart values", path=path, line=1)
    return dict(to_plain(data))


def render_app(
    repo: Repo,
    environment: Environment,
    app: App,
    backend: HelmBackend,
    values: Mapping[str, Any] | None = None,
) -> Rendering:
    """Render `app` with the environment's overlay (or `values`, already loaded)."""
    if values is None:
        values = load_overlay(repo, environment, app)
    chart = repo.chart_path(app)
    templates = backend.render(
        chart,
        values,
        release=app.name,
        namespace=environment.namespace,
        kube_version=repo.kubernetes_version,
    )
    chart_prefix = Path(app.chart).as_posix().rstrip("/")
    manifests: list[Manifest] = []
    for template in templates:
        # Helm names sources `<chart name>/templates/...`; report repo-relative paths.
        _, _, inside = template.source.partition("/")
        source = f"{chart_prefix}/{inside}" if inside else template.source
        manifests.extend(_parse(template.text, source))
    return Rendering(environment.name, app.name, tuple(_install_order(manifests)))


def _parse(text: str, source: str) -> list[Manifest]:
    manifests = []
    for document in yamlio.split_documents(text, source):
        if not isinstance(document.data, Mapping):
            raise ConfigError("rendered a document that is not a mapping", path=Path(source))
        chunk = _document_text(text, document.line)
        manifests.append(Manifest(source, document.line, chunk, document.data))
    return manifests


def _document_text(text: str, line: int) -> str:
    lines = text.splitlines(keepends=True)[line - 1 :]
    out = []
    for raw in lines:
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
