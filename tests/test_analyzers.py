"""Mesh analysis at parity with `istioctl analyze`, on plain files.

tests/analyzers/cases/<case>/ and tests/analyzers/samples/<case>/ each hold a case.yaml
(what istioctl reports, per object; see benchmarks/analyzer_parity.py) and manifests.
Every case runs through `meshgen validate --files`, which assumes istioctl's default
ingress gateway as istioctl does, and must report exactly the expected Istio codes on
the expected objects; the samples (Istio's bookinfo, helloworld, httpbin, curl) must
show no schema or mesh error.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Invoke

ROOT = Path(__file__).resolve().parents[1]
CASE_ROOTS = (ROOT / "tests" / "analyzers" / "cases", ROOT / "tests" / "analyzers" / "samples")
CASES = sorted(folder.parent for root in CASE_ROOTS for folder in root.glob("*/case.yaml"))


def _harness() -> Any:
    """The benchmark's scoring, shared so that the test and the measurement agree."""
    spec = importlib.util.spec_from_file_location(
        "analyzer_parity", ROOT / "benchmarks" / "analyzer_parity.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("analyzer_parity", module)
    spec.loader.exec_module(module)
    return module


HARNESS = _harness()


def _validate(invoke: Invoke, folder: Path, args: list[str]) -> dict[str, Any]:
    result = invoke(["validate", "--format", "json", *args], expect=None)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("folder", CASES, ids=lambda f: f"{f.parent.name}/{f.name}")
def test_case_matches_istioctl(
    folder: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = yaml.safe_load((folder / "case.yaml").read_text())
    monkeypatch.chdir(folder)
    args = [str(a) for a in spec.get("args") or []]
    for name in HARNESS.case_files(folder, spec):
        args += ["--files", name]
    result = HARNESS.score(folder.name, spec, _validate(invoke, folder, args))
    missing = sorted((result.expected - result.found).elements())
    extra = sorted((result.found - result.expected).elements())
    assert (missing, extra, result.mesh_errors) == ([], [], []), spec.get("about")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: web
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: ["*"]
"""


def test_default_gateway_is_assumed_unless_turned_off(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "gateway.yaml", GATEWAY)
    assumed = invoke(["validate", "--files", "gateway.yaml", "--select", "MG405"])
    assert "MG405" not in assumed.stdout
    refused = invoke(
        ["validate", "--files", "gateway.yaml", "--select", "MG405", "--no-default-gateway"],
        expect=1,
    )
    assert "gateway.yaml:1:1: MG405 error: Gateway/web/public: selector istio=ingressgateway" in (
        refused.stdout
    )


@pytest.mark.parametrize(
    "mesh_config",
    [
        "ingressControllerMode: 'OFF'\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |\n    ingressControllerMode: 'OFF'\n",
    ],
    ids=["meshconfig", "configmap"],
)
def test_mesh_config_decides_the_default_gateway(
    mesh_config: str, tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With Kubernetes Ingress support off, istioctl assumes no ingress gateway.
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "gateway.yaml", GATEWAY)
    _write(tmp_path, "mesh.yaml", mesh_config)
    result = invoke(
        ["validate", "--files", "gateway.yaml", "--mesh-config", "mesh.yaml", "--select", "MG405"],
        expect=1,
    )
    assert "MG405 error: Gateway/web/public" in result.stdout


def test_unreadable_mesh_config_stops_the_run(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "gateway.yaml", GATEWAY)
    _write(tmp_path, "mesh.yaml", "defaultConfig: [unclosed\n")
    result = invoke(["validate", "--files", "gateway.yaml", "--mesh-config", "mesh.yaml"], expect=2)
    assert result.stderr.startswith("meshgen: error: mesh.yaml:")
    assert "MeshConfig" in result.stderr
    assert result.stdout == ""


def test_files_options_are_refused_for_a_repository(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(["-C", str(tmp_path), "validate", "--no-default-gateway"], expect=2)
    assert "--no-default-gateway apply to --files" in result.stderr


def test_json_and_sarif_name_the_object_and_the_istio_analyzer(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ROOT / "tests" / "analyzers" / "cases" / "route-to-missing-host"
    monkeypatch.chdir(folder)
    report = _validate(invoke, folder, ["--files", "manifests.yaml", "--select", "MG403"])
    (finding,) = report["findings"]
    assert finding["istioCode"] == "IST0101"
    assert finding["istioAnalyzer"] == "virtualservice.DestinationHostAnalyzer"
    assert finding["object"] == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "namespace": "default",
        "name": "reviews-bogus",
    }
    sarif = json.loads(
        invoke(
            ["validate", "--format", "sarif", "--files", "manifests.yaml", "--select", "MG403"],
            expect=1,
        ).stdout
    )
    (result,) = sarif["runs"][0]["results"]
    assert result["properties"] == {
        "object": finding["object"],
        "istioCode": "IST0101",
        "istioAnalyzer": "virtualservice.DestinationHostAnalyzer",
    }


def test_rendered_environment_piped_to_files_is_clean_inside_the_repository(
    repo_copy: Any, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's showcase: the chart's Gateway selects the gateway the repository
    # installs (platform/istio/gateway.yaml), not istioctl's default one.
    repo = repo_copy("argocd")
    monkeypatch.chdir(repo)
    rendered = invoke(["render", "--env", "staging"]).stdout
    result = invoke(["validate", "--files", "-"], input=rendered)
    assert " error: " not in result.stdout


def test_every_mesh_rule_with_an_istio_code_names_its_analyzer() -> None:
    from meshgen.validate.registry import all_rules

    missing = [r.id for r in all_rules() if r.istio_code and not r.istio_analyzer]
    assert missing == []
