"""The first-app chart's objects match the strict schemas; the values it refuses,
meshgen refuses too; `helm lint --strict` agrees.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yamale

from chart_render import (
    BACKEND,
    KUBERNETES_VERSION,
    SCENARIOS,
    default_values,
    objects,
    render,
    version,
)
from meshgen import resources, yamlio
from meshgen.errors import TemplateError
from meshgen.render import Manifest
from meshgen.severity import Severity
from meshgen.traffic.weights import weight_problems
from meshgen.validate.schemas import meshgen_files
from meshgen.validate.schemas.kube import KubeSchemas, is_core_api

# -- strict schemas --------------------------------------------------------------------


@cache
def _kube_schemas() -> KubeSchemas:
    return KubeSchemas(KUBERNETES_VERSION)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_core_objects_match_the_strict_kubernetes_schemas(scenario: str) -> None:
    schemas = _kube_schemas()
    core = [m for m in objects(SCENARIOS[scenario]()) if is_core_api(m.api_version)]
    assert core
    for manifest in core:
        validator = schemas.validator(manifest.api_version, manifest.kind)
        assert validator is not None, f"no Kubernetes schema for {manifest.ref}"
        errors = [e.message for e in validator.iter_errors(manifest.data)]
        assert errors == [], manifest.ref


def test_the_strict_kubernetes_schemas_refuse_an_unknown_field() -> None:
    (service,) = [m for m in objects(default_values("staging")) if m.kind == "Service"]
    damaged = copy.deepcopy(dict(service.data))
    damaged["spec"]["portz"] = []
    validator = _kube_schemas().validator("v1", "Service")
    assert validator is not None
    assert list(validator.iter_errors(damaged))


def _crd_validator(shared: Path, manifest: Manifest) -> jsonschema.protocols.Validator:
    group, _, api_version = manifest.api_version.rpartition("/")
    path = shared / "crds-strict" / group / f"{manifest.kind.lower()}_{api_version}.json"
    assert path.is_file(), f"no upstream schema for {manifest.kind} {manifest.api_version}"
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_custom_resources_match_the_strict_upstream_crd_schemas(
    scenario: str, shared_schemas: Path
) -> None:
    custom = [m for m in objects(SCENARIOS[scenario]()) if not is_core_api(m.api_version)]
    assert {m.kind for m in custom} == {
        "AuthorizationPolicy",
        "Certificate",
        "DestinationRule",
        "Gateway",
        "PeerAuthentication",
        "VirtualService",
    }
    for manifest in custom:
        errors = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _crd_validator(shared_schemas, manifest).iter_errors(manifest.data)
        ]
        assert errors == [], manifest.ref


def test_the_strict_crd_schemas_refuse_an_unknown_field(shared_schemas: Path) -> None:
    (service_route,) = [m for m in objects(default_values("staging")) if m.kind == "VirtualService"]
    damaged = copy.deepcopy(dict(service_route.data))
    damaged["spec"]["http"][-1]["route"][0]["wieght"] = 10
    assert list(_crd_validator(shared_schemas, service_route).iter_errors(damaged))


# -- values the chart refuses ----------------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    values = default_values("staging")
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return values


# Environment files the chart refuses, with what Helm says: values.schema.json for
# single values, the chart's own checks for rules across keys.
REFUSED = {
    "weights-not-summing-to-100": (
        _with(traffic={"v1": 90, "v2": 20}),
        "traffic: weights sum to 110, not 100 (v1=90 + v2=20)",
    ),
    "weight-on-undefined-version": (
        _with(traffic={"v1": 100, "v3": 0}),
        "traffic.v3: weight given for v3, which is not under `versions:` (defined: v1, v2)",
    ),
    "weight-above-100": (
        _with(traffic={"v1": 101, "v2": -1}),
        "at '/traffic/v1': maximum: got 101, want 100",
    ),
    "fractional-weight": (
        _with(traffic={"v1": 99.5, "v2": 0.5}),
        "at '/traffic/v1': got number, want integer",
    ),
    "bad-host": (_with(host="First_App.example.com"), "at '/host': 'anyOf' failed"),
    "wildcard-host": (_with(host="*.example.com"), "at '/host': 'anyOf' failed"),
    "negative-replicas": (
        _with(versions__v1__replicas=-1),
        "at '/versions/v1/replicas': minimum: got -1, want 0",
    ),
    "version-name-not-a-dns-label": (
        _with(versions__V_1=version("v1"), traffic={"v1": 100, "V_1": 0}),
        "invalid propertyName 'V_1'",
    ),
    "missing-image": (
        _with(versions__v3={"replicas": 1}, traffic={"v1": 100, "v2": 0, "v3": 0}),
        "at '/versions/v3': missing property 'image'",
    ),
    "unquoted-numeric-tag": (
        _with(versions__v1__image={"repository": "docker.io/x", "tag": 1.0}),
        "at '/versions/v1/image/tag': got number, want string",
    ),
    "unknown-top-level-key": (_with(replicas=3), "additional properties 'replicas' not allowed"),
    "weight-on-a-version-scaled-to-zero": (
        _with(versions__v1__replicas=0),
        "versions.v1.replicas: 0 replicas cannot serve the 100% of traffic",
    ),
    "no-versions": (_with(versions={}, traffic={}), "at '/versions': minProperties"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_chart_refuses_with_a_clear_message(case: str) -> None:
    values, message = REFUSED[case]
    with pytest.raises(TemplateError) as raised:
        render(values)
    assert message in str(raised.value)


@cache
def _environment_schema() -> Any:
    return yamale.make_schema(str(resources.environments_dir() / "schema.yaml"), parser="ruamel")


def meshgen_objections(values: Mapping[str, Any]) -> list[str]:
    """What `meshgen validate` says about an environment file, before any rendering."""
    found = [f"{e.key_path}: {e.message}" for e in meshgen_files.check_environment_file(values)]
    versions, traffic = values.get("versions"), values.get("traffic")
    if isinstance(versions, Mapping) and isinstance(traffic, Mapping):
        found += [p.message for p in weight_problems(versions.keys(), traffic)]
    return found


# Caught at render time only: that zero replicas cannot serve traffic needs both keys,
# and meshgen's canary guard rails are checked after rendering.
_HELM_ONLY = {"weight-on-a-version-scaled-to-zero"}


@pytest.mark.parametrize("case", sorted(set(REFUSED) - _HELM_ONLY))
def test_meshgen_refuses_what_the_chart_refuses(case: str) -> None:
    values, _ = REFUSED[case]
    assert meshgen_objections(values), case


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_meshgen_accepts_what_the_chart_renders(scenario: str) -> None:
    assert meshgen_objections(SCENARIOS[scenario]()) == []


def test_values_schema_is_a_valid_draft_7_schema() -> None:
    schema = json.loads((resources.chart_dir() / "values.schema.json").read_text(encoding="utf-8"))
    # Draft 7: understood by every Helm 3 and 4 release.
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_both_schemas_describe_the_same_top_level_keys() -> None:
    values_schema = json.loads(
        (resources.chart_dir() / "values.schema.json").read_text(encoding="utf-8")
    )
    environment_schema = _environment_schema()
    assert set(environment_schema.dict) == set(values_schema["properties"])
    chart_defaults = yamlio.load_roundtrip(resources.chart_dir() / "values.yaml")
    assert set(chart_defaults) <= set(values_schema["properties"])


# -- helm lint --strict ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_helm_lint_strict_is_clean(scenario: str) -> None:
    messages = BACKEND.lint(
        resources.chart_dir(),
        SCENARIOS[scenario](),
        namespace="staging",
        kube_version=KUBERNETES_VERSION,
    )
    assert [m for m in messages if m.severity is not Severity.INFO] == []


def test_helm_lint_strict_reports_bad_values() -> None:
    values, _ = REFUSED["negative-replicas"]
    messages = BACKEND.lint(
        resources.chart_dir(), values, namespace="staging", kube_version=KUBERNETES_VERSION
    )
    assert any(m.severity is Severity.ERROR and "minimum" in m.message for m in messages)
