"""Strict Kubernetes JSON schemas from the kubernetes-validate package, compiled once."""

from __future__ import annotations

import json
import re
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin

from meshgen.errors import ConfigError
from meshgen.resources import kubernetes_schema_root, kubernetes_versions
from meshgen.validate.schemas.verdicts import ObjectValidator, Verdicts, remembering

if TYPE_CHECKING:
    from referencing import Registry


def schema_version_for(kubernetes_version: str) -> str:
    """The newest bundled schema set not newer than the cluster's version."""
    wanted = _minor_tuple(kubernetes_version)
    candidates = [v for v in kubernetes_versions() if _minor_tuple(v) <= wanted]
    if not candidates:
        oldest = kubernetes_versions()[0]
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

    def __init__(
        self, kubernetes_version: str, *, strict: bool = True, verdicts: Verdicts | None = None
    ) -> None:
        self.version = schema_version_for(kubernetes_version)
        self.verdicts = verdicts
        suffix = "-local-strict" if strict else "-local"
        self._folder = kubernetes_schema_root() / f"v{self.version}.0{suffix}"
        self._validators: dict[tuple[str, str], ObjectValidator | None] = {}
        self._definitions: tuple[Registry[Any], _RefInliner] | None = None

    def _load_definitions(self) -> tuple[Registry[Any], _RefInliner]:
        from referencing import Registry, Resource

        if self._definitions is None:
            definitions = json.loads((self._folder / "_definitions.json").read_text("utf-8"))
            registry = Registry().with_resource(
                definitions["$id"], Resource.from_contents(definitions)
            )
            self._definitions = registry, _RefInliner({definitions["$id"]: definitions})
        return self._definitions

    def validator(self, api_version: str, kind: str) -> ObjectValidator | None:
        """The validator for a core kind, or None when Kubernetes itself defines no such kind."""
        key = (api_version, kind)
        if key not in self._validators:
            self._validators[key] = self._build(api_version, kind)
        return self._validators[key]

    def _build(self, api_version: str, kind: str) -> ObjectValidator | None:
        if not is_core_api(api_version):
            return None
        # kubernetes-validate names files <kind>-<group prefix>-<version>.json, e.g.
        # deployment-apps-v1.json, role-rbac-v1.json, namespace-v1.json.
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        path = self._folder / f"{kind.lower()}-{group_version}.json"
        if not path.is_file():
            return None
        identity = f"{_package_identity()} {self._folder.name} {path.name}"
        return remembering(partial(self._compile, path), identity, self.verdicts)

    def _compile(self, path: Path) -> ObjectValidator:
        import jsonschema  # about a tenth of a second: only when an object is checked

        schema = json.loads(path.read_text("utf-8"))
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        registry, inliner = self._load_definitions()
        validator: ObjectValidator = cls(
            inliner.children(schema, str(schema.get("$id", ""))), registry=registry
        )
        return validator


@cache
def _package_identity() -> str:
    """Which schemas these are: the kubernetes-validate release that ships them."""
    from meshgen.resources import installed_version

    return (
        f"kubernetes-validate {installed_version('kubernetes-validate', 'kubernetes_validate')} "
        f"jsonschema {installed_version('jsonschema', 'jsonschema')}"
    )


# Keywords whose value is a subschema, a list of subschemas, or a map of names to them:
# only there can a "$ref" be a reference (elsewhere, as under "properties" of the CRD
# schema itself, it is a name).
_SUBSCHEMA = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS = frozenset(
    {"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"}
)


class _RefInliner:
    """Replaces each `{"$ref": ...}` with the definition it points to, shared, not copied.

    jsonschema resolves a reference through the registry every time an object reaches
    it; with a few hundred objects per run, and a Pod template reaching dozens of
    definitions, that lookup is a third of schema checking. The inlined schema is the
    same schema: a reference is replaced only when its siblings are annotations
    (description, x-kubernetes-*), so the same keywords run in the same order and
    report the same errors at the same paths. Anything else (another document, an
    anchor, a target with its own $id) stays a reference for the registry to resolve.
    Recursive definitions become cyclic dicts, which validation follows only as deep as
    the object goes.
    """

    def __init__(self, documents: dict[str, Any]) -> None:
        self._documents = documents
        self._done: dict[str, dict[str, Any]] = {}

    def schema(self, node: Any, base: str) -> Any:
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and all(_is_annotation(key) for key in node if key != "$ref"):
            uri = urljoin(base, ref)
            inlined = self._done.get(uri)
            if inlined is not None:
                return inlined
            target = self._target(uri)
            if target is not None:
                inlined = {}
                self._done[uri] = inlined
                inlined.update(self.children(target, urldefrag(uri).url))
                return inlined
        return self.children(node, base)

    def children(self, node: dict[str, Any], base: str) -> dict[str, Any]:
        """`node` with references in its subschemas inlined; its own keywords unchanged."""
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SUBSCHEMA and isinstance(value, list):
                out[key] = [self.schema(item, base) for item in value]
            elif key in _SUBSCHEMA:
                out[key] = self.schema(value, base)
            elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.schema(item, base) for item in value]
            elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.schema(item, base) for name, item in value.items()}
            else:
                out[key] = value
        return out

    def _target(self, uri: str) -> dict[str, Any] | None:
        url, fragment = urldefrag(uri)
        node: Any = self._documents.get(url)
        if node is None or not fragment.startswith("/"):
            return None
        for token in fragment[1:].split("/"):
            name = unquote(token).replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or name not in node:
                return None
            node = node[name]
        if not isinstance(node, dict) or "$id" in node:
            return None
        return node


def _is_annotation(keyword: str) -> bool:
    return keyword in ("description", "title") or keyword.startswith("x-")
