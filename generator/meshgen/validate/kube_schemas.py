"""Strict Kubernetes JSON schemas from the kubernetes-validate package, compiled once."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from meshgen.errors import ConfigError


@cache
def _schema_root() -> Path:
    import kubernetes_validate  # only validation needs the bundled schemas

    return Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"


@cache
def available_versions() -> tuple[str, ...]:
    """Kubernetes minor versions with bundled schemas, oldest first (e.g. "1.34")."""
    found = set()
    for folder in _schema_root().iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local", folder.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


def schema_version_for(kubernetes_version: str) -> str:
    """The newest bundled schema set not newer than the cluster's version."""
    wanted = _minor_tuple(kubernetes_version)
    candidates = [v for v in available_versions() if _minor_tuple(v) <= wanted]
    if not candidates:
        oldest = available_versions()[0]
        raise ConfigError(
            f"Kubernetes {kubernetes_version} is older than the oldest bundled schemas "
            f"({oldest}); set cluster.kubernetesVersion to {oldest} or newer"
        )
    return candidates[-1]


def _minor_tuple(version: str) -> tuple[int, int]:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    if not match:
        raise ConfigError(f"not a Kubernetes version: {version!r}; expected e.g. 1.34")
    return int(match[1]), int(match[2])


# API groups the Kubernetes API server itself serves. Other `*.k8s.io` groups are
# custom resources (Gateway API's gateway.networking.k8s.io) or not served at all
# (kustomize.config.k8s.io), and get CRD-schema treatment instead.
_BUILT_IN_GROUPS = frozenset(
    {
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)


def is_core_api(api_version: str) -> bool:
    """Whether Kubernetes itself serves this API group (v1, apps/v1, rbac.authorization...)."""
    group, _, _ = api_version.rpartition("/")
    return "." not in group or group in _BUILT_IN_GROUPS


class KubeSchemas:
    """Validators per (apiVersion, kind) for one Kubernetes version, built on first use."""

    def __init__(self, kubernetes_version: str, *, strict: bool = True) -> None:
        self.version = schema_version_for(kubernetes_version)
        suffix = "-local-strict" if strict else "-local"
        self._folder = _schema_root() / f"v{self.version}.0{suffix}"
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator | None] = {}
        self._registry: Registry[Any] | None = None

    def _load_registry(self) -> Registry[Any]:
        if self._registry is None:
            definitions = json.loads((self._folder / "_definitions.json").read_text("utf-8"))
            self._registry = Registry().with_resource(
                definitions["$id"], Resource.from_contents(definitions)
            )
        return self._registry

    def validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
        """The validator for a core kind, or None when Kubernetes itself defines no such kind."""
        key = (api_version, kind)
        if key not in self._validators:
            self._validators[key] = self._build(api_version, kind)
        return self._validators[key]

    def _build(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
        if not is_core_api(api_version):
            return None
        # kubernetes-validate names files <kind>-<group prefix>-<version>.json, e.g.
        # deployment-apps-v1.json, role-rbac-v1.json, namespace-v1.json.
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        path = self._folder / f"{kind.lower()}-{group_version}.json"
        if not path.is_file():
            return None
        schema = json.loads(path.read_text("utf-8"))
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        return cls(schema, registry=self._load_registry())
