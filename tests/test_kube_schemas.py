"""Kubernetes schemas with their references inlined report what the registry-resolved ones do."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from meshgen.resources import kubernetes_schema_root
from meshgen.validate.schemas.kube import KubeSchemas

VERSION = "1.34"

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "labels": {"app": 3}},
    "spec": {
        "containers": [
            {
                "name": "c",
                "image": "i",
                "bogus": True,
                "ports": [{"containerPort": "http"}],
                "resources": {"limits": {"cpu": []}},
                "env": [{"name": "a", "valueFrom": {"fieldRef": {"fieldPath": 1, "x": 1}}}],
            }
        ],
        "volumes": [{"name": "v", "projected": {"sources": [{"configMap": {"items": [{}]}}]}}],
    },
}

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d"},
    "spec": {
        "replicas": "two",
        "selector": {"matchLabels": {"app": "d"}, "matchExpressions": [{"key": "k"}]},
        "template": {"spec": {"containers": [{"name": "c", "livenessProbe": {"grpc": {}}}]}},
        "strategy": {"rollingUpdate": {"maxSurge": []}},
    },
}

# JSONSchemaProps refers to itself, and a property may be named "$ref".
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "$ref": {"type": 3},
                            "spec": {"properties": {"deep": {"items": {"bogus": 1}}}},
                        },
                    }
                },
            }
        ],
    },
}


def _errors(validator: Any, instance: Any) -> list[tuple[str, list[Any]]]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    return [(error.message, list(error.absolute_path)) for error in errors]


def _resolved_by_registry(api_version: str, kind: str) -> Any:
    folder = kubernetes_schema_root() / f"v{VERSION}.0-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        definitions["$id"], Resource.from_contents(definitions)
    )
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = json.loads((folder / f"{kind.lower()}-{group_version}.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.mark.parametrize("instance", [POD, DEPLOYMENT, CRD], ids=lambda i: str(i["kind"]))
def test_inlined_references_report_the_same_errors(instance: dict[str, Any]) -> None:
    api_version, kind = str(instance["apiVersion"]), str(instance["kind"])
    inlined = KubeSchemas(VERSION).validator(api_version, kind)
    assert inlined is not None
    expected = _errors(_resolved_by_registry(api_version, kind), instance)
    assert expected, "the example should break the schema"
    assert _errors(inlined, instance) == expected
