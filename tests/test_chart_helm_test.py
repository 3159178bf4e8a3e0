"""The first-app chart's `helm test` measures the split through the mesh; the version
header and the install notes say how to reach and measure each version.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chart_render import (
    default_values,
    helm_test_pod,
    objects,
    of_kind,
    three_versions,
)
from meshgen import resources

# -- the Helm test ---------------------------------------------------------------------

# Stands in for curl inside the test pod: a request naming a version in the header is
# answered by that version (unless listed in STUB_DOWN); other requests are answered in
# turn by the versions of STUB_CYCLE, which sets the split deterministically.
_STUB_CURL = """#!/bin/sh
asked=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -H) asked="${2#*: }"; shift 2 ;;
    *) shift ;;
  esac
done
if [ -n "$asked" ]; then
  case " $STUB_DOWN " in *" $asked "*) exit 22 ;; esac
  printf '%s' "$asked"
  exit 0
fi
n=$(cat "$STUB_STATE" 2>/dev/null || echo 0)
echo $((n + 1)) > "$STUB_STATE"
set -- $STUB_CYCLE
i=$((n % $# + 1))
eval "answer=\\${$i}"
[ "$answer" = "down" ] && exit 22
printf '%s' "$answer"
"""


def run_helm_test(
    values: Mapping[str, Any], tmp_path: Path, cycle: str, down: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the test pod's script as the pod would, against the stand-in curl."""
    (container,) = helm_test_pod(values)["spec"]["containers"]
    assert container["command"] == ["/bin/sh", "-c"]
    stub = tmp_path / "bin" / "curl"
    stub.parent.mkdir()
    stub.write_text(_STUB_CURL, encoding="utf-8")
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {e["name"]: e["value"] for e in container["env"]}
    env |= {
        "PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}",
        "STUB_CYCLE": cycle,
        "STUB_DOWN": down,
        "STUB_STATE": str(tmp_path / "count"),
    }
    return subprocess.run(
        ["/bin/sh", "-c", container["args"][0]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _split(weights: Mapping[str, int], requests: int = 100) -> dict[str, Any]:
    values = three_versions()
    values["traffic"] = dict(weights)
    values["test"] = {"requests": requests, "tolerance": 10}
    return values


def test_helm_test_passes_when_each_share_is_within_tolerance(tmp_path: Path) -> None:
    values = _split({"v1": 75, "v2": 25, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1 v1 v1 v2 v1 v1 v1 v1 v2 v2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   v1: 70 answers, 70% for weight 75" in result.stdout
    assert "ok   v2: 30 answers, 30% for weight 25" in result.stdout
    assert "ok   v3: 0 answers, 0% for weight 0" in result.stdout


def test_helm_test_fails_when_a_share_is_off(tmp_path: Path) -> None:
    values = _split({"v1": 90, "v2": 10, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1 v2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL v1: 50 answers, 50% for weight 90" in result.stdout
    assert "FAIL v2: 50 answers, 50% for weight 10" in result.stdout


def test_helm_test_fails_when_a_version_cannot_be_reached_by_header(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1", down="v3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok   v2\n" in result.stdout
    assert "FAIL v3: answered by 'nobody'" in result.stdout


def test_helm_test_fails_on_failed_requests_and_unknown_answers(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0}, requests=20)
    result = run_helm_test(values, tmp_path, cycle="v1 v1 v1 v1 v1 v1 v1 v1 down v9")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL 2 requests failed" in result.stdout
    assert "FAIL 2 answers named no version listed" in result.stdout


def test_helm_test_pod_ends_although_it_has_a_sidecar() -> None:
    pod = helm_test_pod(default_values("staging"))
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    # Argo CD runs no Helm tests; its own hook annotation (which replaces Helm's) runs the
    # pod after every sync instead.
    assert annotations["argocd.argoproj.io/hook"] == "PostSync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    # Injected as a native sidecar, the proxy stops when the test container exits.
    assert annotations["sidecar.istio.io/nativeSidecar"] == "true"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["activeDeadlineSeconds"] == 300
    # The namespace injects it: the test really goes through the mesh.
    assert pod["metadata"]["namespace"] == "staging"
    assert "sidecar.istio.io/inject" not in pod["metadata"].get("labels", {})
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["URL"] == "http://first-app.staging.svc.cluster.local:80/hello"
    assert env["WEIGHTS"] == "v1=100 v2=0"


def test_gateway_routes_leave_port_80_to_the_acme_solver() -> None:
    (service_route,) = of_kind(objects(default_values("staging")), "VirtualService")
    gateway = "istio-ingress/first-app-staging"
    (weighted,) = [r for r in service_route["spec"]["http"] if r["name"] == "weighted"]
    at_gateway = [m for m in weighted["match"] if m["gateways"] == [gateway]]
    in_mesh = [m for m in weighted["match"] if m["gateways"] == ["mesh"]]
    assert [m["port"] for m in at_gateway] == [443]
    assert len(in_mesh) == 1
    assert "port" not in in_mesh[0]
    assert len(weighted["match"]) == 2


def _header_routes(override: str | None) -> list[Mapping[str, Any]]:
    values = default_values("staging")
    if override is not None:
        values["routing"] = {"headerOverride": override}
    (service_route,) = of_kind(objects(values), "VirtualService")
    return [r for r in service_route["spec"]["http"] if r["name"] != "weighted"]


def test_version_header_is_honoured_inside_the_mesh_only_by_default() -> None:
    # From the internet, nobody reaches a build at 0 % by sending a header.
    for route in _header_routes(None):
        assert [m["gateways"] for m in route["match"]] == [["mesh"]], route["name"]


def test_version_header_can_be_opened_to_the_gateway_or_turned_off() -> None:
    gateway = "istio-ingress/first-app-staging"
    for route in _header_routes("gateway"):
        sources = [(m["gateways"], m.get("port")) for m in route["match"]]
        assert sources == [(["mesh"], None), ([gateway], 443)], route["name"]
    assert _header_routes("off") == []
    values = default_values("staging")
    values["routing"] = {"headerOverride": "off"}
    env = {e["name"]: e["value"] for e in helm_test_pod(values)["spec"]["containers"][0]["env"]}
    assert env["HEADER_OVERRIDE"] == "false", "the split check then skips the header probes"


def test_helm_test_skips_the_header_check_when_the_header_is_off(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0}, requests=20)
    values["routing"] = {"headerOverride": "off"}
    result = run_helm_test(values, tmp_path, cycle="v1", down="v2 v3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "asked for by" not in result.stdout


def test_install_notes_show_the_split_and_how_to_measure_it() -> None:
    import helm_python

    values = three_versions()
    chart = helm_python.Chart.load(resources.chart_dir())
    rendered = chart.render(values, name="first-app", namespace="staging", is_install=True)
    notes = rendered["first-app/templates/NOTES.txt"]
    assert "  v1: 80%  (registry.istio.io/release/examples-helloworld-v1:1.0, replicas: 1)" in notes
    assert "  v3: 5%  (registry.istio.io/release/examples-helloworld-v2:1.0, replicas: 2)" in notes
    assert "-H 'x-first-app-version: <version>'" in notes
    assert "helm test first-app -n staging --logs" in notes
