"""Platform values against the pinned chart: Helm's merge, the chart's schema, unknown keys."""

from __future__ import annotations

from pathlib import Path

from meshgen import upstream, yamlio
from meshgen.platform.values import (
    ValuesSource,
    coalesce,
    known_top_level_keys,
    schema_problems,
    unknown_key_problems,
    values_validator,
)


def _source(text: str, label: str = "platform/istio/x.values.yaml") -> ValuesSource:
    return ValuesSource(label, yamlio.loads_roundtrip(text, Path(label)))


def test_coalesce_merges_maps_and_null_deletes_as_helm_does() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 1}
    merged = coalesce(base, {"a": {"c": 3}, "d": [3], "e": None})
    assert merged == {"a": {"b": 1, "c": 3}, "d": [3]}


def test_gateway_values_typo_is_named_with_its_line_and_a_suggestion() -> None:
    chart = upstream.chart("gateway", "1.30.3")
    assert chart is not None
    schema, defaults = chart.values_schema(), chart.defaults()
    assert schema is not None and defaults is not None
    source = _source("service:\n  type: LoadBalancer\nautoscalling:\n  enabled: true\n")
    problems = list(schema_problems(values_validator(schema), defaults, [source]))
    assert [(p.line, p.message) for p in problems] == [
        (3, "unknown key 'autoscalling' (did you mean 'autoscaling'?)")
    ]


def test_gateway_values_schema_accepts_the_documented_keys() -> None:
    chart = upstream.chart("gateway", "1.30.3")
    assert chart is not None
    schema, defaults = chart.values_schema(), chart.defaults()
    assert schema is not None and defaults is not None
    source = _source(
        "name: istio-gateway\nautoscaling:\n  minReplicas: 2\nlabels:\n  istio: gateway\n"
    )
    assert list(schema_problems(values_validator(schema), defaults, [source])) == []


def test_a_later_values_file_is_blamed_for_the_key_it_sets() -> None:
    chart = upstream.chart("gateway", "1.30.3")
    assert chart is not None and chart.values_schema() is not None
    common = _source("replicaCount: 2\n", "platform/istio/gateway.values.yaml")
    production = _source("\nreplicaCount: many\n", "platform/istio/production/gateway.values.yaml")
    problems = list(
        schema_problems(
            values_validator(chart.values_schema() or {}),
            chart.defaults() or {},
            [common, production],
        )
    )
    assert [(p.source.label, p.line) for p in problems] == [
        ("platform/istio/production/gateway.values.yaml", 2)
    ]
    assert "replicaCount" in problems[0].message


def test_istiod_unknown_top_level_key_suggests_the_real_one() -> None:
    chart = upstream.chart("istiod", "1.30.3")
    assert chart is not None and chart.values_schema() is None
    known = known_top_level_keys(chart.defaults() or {}, chart.template_keys)
    source = _source(
        "meshConfg:\n  ingressService: istio-gateway\npilot:\n  cnii: {}\nprofile: demo\n"
    )
    problems = [(p.line, p.message) for p in unknown_key_problems(known, [source])]
    assert problems == [
        (1, "unknown key 'meshConfg' (did you mean 'meshConfig'?)"),
        (4, "unknown key 'pilot.cnii' (did you mean 'cni'?)"),
    ]
