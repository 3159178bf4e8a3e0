"""CustomResourceDefinition YAML to JSON schemas in kubeconform's layout.

The conversion follows kubeconform's `openapi2jsonschema` conventions, so that a folder
written here also works with kubeconform `-schema-location`:

1. For every served version, take `schema.openAPIV3Schema`; add top-level `apiVersion`,
   `kind` and `metadata` properties when missing (Istio's CRDs lack them) and default
   `type: object`.
2. Translate OpenAPI `nullable: true` into a JSON Schema type union (`[integer, "null"]`),
   keeping the `nullable` key.
3. The strict variant also closes every schema object that lists `properties` but no
   `additionalProperties` (`additionalProperties: false`), except objects marked
   `x-kubernetes-preserve-unknown-fields: true`, which Kubernetes keeps open too.

Files are `{group}/{kind}_{version}.json` (lower-case kind), written as
`json.dumps(indent=2)` and a final newline, without `$schema`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError

# The repository folder `meshgen schemas import` writes and `meshgen validate` reads.
SCHEMA_DIR = "schemas"
PLAIN_SUBDIR = "crds"
STRICT_SUBDIR = "crds-strict"

_TOP_LEVEL = {
    "apiVersion": {
        "type": "string",
        "description": (
            "APIVersion defines the versioned schema of this representation of an object."
        ),
    },
    "kind": {
        "type": "string",
        "description": (
            "Kind is a string value representing the REST resource this object represents."
        ),
    },
    "metadata": {"type": "object"},
}


@dataclass(frozen=True)
class ConvertedSchema:
    """The JSON schemas of one served version of one CRD."""

    group: str
    kind: str
    version: str
    schema: dict[str, Any]
    strict_schema: dict[str, Any]

    @property
    def relative_path(self) -> str:
        return f"{self.group}/{self.kind.lower()}_{self.version}.json"


def convert_text(text: str, source: str) -> list[ConvertedSchema]:
    """Every served version of every CRD in a multi-document YAML stream.

    Documents that are not CRDs (a `helm show crds` stream may hold others) are skipped;
    a `List` (`kubectl get crd -o yaml`) is unpacked. Raises `ConfigError` when the
    stream holds no CRD at all, or a CRD without a schema.
    """
    converted: list[ConvertedSchema] = []
    for document in yamlio.split_documents(text, source):
        for crd in _crds(document.data):
            converted.extend(_convert_crd(crd, source, document.line))
    if not converted:
        raise ConfigError(
            "no CustomResourceDefinition with a served version found; pass the output of "
            "`helm show crds CHART` or `kubectl get crd NAME -o yaml`",
            path=Path(source),
        )
    return converted


def _crds(data: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(data, Mapping):
        return
    if data.get("kind") == "CustomResourceDefinition":
        yield data
    elif data.get("kind") == "List" and isinstance(data.get("items"), list):
        for item in data["items"]:
            yield from _crds(item)


def _convert_crd(crd: Mapping[str, Any], source: str, line: int) -> Iterator[ConvertedSchema]:
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        raise ConfigError("CustomResourceDefinition without spec", path=Path(source), line=line)
    group = str(spec.get("group", ""))
    names = spec.get("names")
    kind = str(names.get("kind", "")) if isinstance(names, Mapping) else ""
    if not group or not kind:
        raise ConfigError(
            "CustomResourceDefinition without spec.group or spec.names.kind",
            path=Path(source),
            line=line,
        )
    versions = spec.get("versions")
    if not isinstance(versions, list):
        return
    for version in versions:
        if not isinstance(version, Mapping) or not version.get("served"):
            continue
        raw = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"{kind} {version.get('name')}: served version has no openAPIV3Schema",
                path=Path(source),
                line=line,
            )
        schema = to_json_schema(raw)
        yield ConvertedSchema(group, kind, str(version["name"]), schema, strict(schema))


def to_json_schema(openapi: Mapping[str, Any]) -> dict[str, Any]:
    """Rules 1 and 2: a CRD's openAPIV3Schema as a standalone JSON schema."""
    schema: dict[str, Any] = _nullable_to_union(copy.deepcopy(dict(openapi)))
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    missing = {key: dict(value) for key, value in _TOP_LEVEL.items() if key not in properties}
    schema["properties"] = {**missing, **properties}
    schema.setdefault("type", "object")
    return schema


def strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rule 3: a copy where objects with `properties` reject unknown fields."""
    closed = copy.deepcopy(dict(schema))
    _close(closed)
    return closed


def _nullable_to_union(node: Any) -> Any:
    if isinstance(node, dict):
        for value in node.values():
            _nullable_to_union(value)
        kind = node.get("type")
        if node.get("nullable") is True and isinstance(kind, str):
            node["type"] = [kind, "null"]
    elif isinstance(node, list):
        for item in node:
            _nullable_to_union(item)
    return node


def _close(node: dict[str, Any]) -> None:
    """Walk schema positions only, so a field named `properties` is never mistaken."""
    properties = node.get("properties")
    if isinstance(properties, dict):
        if "additionalProperties" not in node and not node.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            node["additionalProperties"] = False
        for child in properties.values():
            if isinstance(child, dict):
                _close(child)
    for key in ("items", "additionalProperties", "not"):
        child = node.get(key)
        if isinstance(child, dict):
            _close(child)
    for key in ("allOf", "anyOf", "oneOf"):
        children = node.get(key)
        if isinstance(children, list):
            for child in children:
                if isinstance(child, dict):
                    _close(child)


def dumps(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


@dataclass(frozen=True)
class WrittenSchema:
    path: Path
    strict_path: Path


def write(converted: list[ConvertedSchema], destination: Path) -> list[WrittenSchema]:
    """Write the plain and strict trees under `destination` (crds/ and crds-strict/)."""
    written = []
    for item in converted:
        plain = destination / PLAIN_SUBDIR / item.relative_path
        closed = destination / STRICT_SUBDIR / item.relative_path
        for path, schema in ((plain, item.schema), (closed, item.strict_schema)):
            path.parent.mkdir(parents=True, exist_ok=True)
            yamlio.atomic_write_text(path, dumps(schema))
        written.append(WrittenSchema(plain, closed))
    return written
