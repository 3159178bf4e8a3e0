"""`meshgen doctor`: the tools meshgen needs, and those the cluster bootstrap needs.

The tools are small scripts on a PATH made for each test, so each case (missing,
broken, skewed) is exercised on any machine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Invoke

ALL_TOOLS = ("kubectl", "eksctl", "aws", "argocd", "flux")


def _tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str, kubectl: str) -> None:
    """A PATH with git and fake versions of `names` (kubectl answering `kubectl`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answers = {
        # A kubectl version, or (anything else) what a broken kubectl prints.
        "kubectl": json.dumps({"clientVersion": {"gitVersion": kubectl}})
        if kubectl.startswith("v")
        else kubectl,
        "eksctl": "0.190.0",
        "aws": "aws-cli/2.17.0 Python/3.12.4",
        "argocd": "argocd: v2.13.1+af54ef8",
        "flux": "flux: v2.4.0",
    }
    for name in names:
        script = bin_dir / name
        if name == "kubectl":
            # `kubectl config current-context` fails: no context, as on a fresh machine.
            body = f"[ \"$1\" = config ] && exit 1\necho '{answers[name]}'\n"
        else:
            body = f"echo '{answers[name]}'\n"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
    git = shutil.which("git")
    assert git is not None
    # Only git besides the fakes: the machine's own tools must not answer for them.
    (bin_dir / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bin_dir))


@pytest.fixture
def argocd_repo(tmp_path: Path, invoke: Invoke) -> Path:
    invoke(
        ["new", str(tmp_path / "acme"), "--no-input", "--no-git", "--kubernetes-version", "1.33"]
    )
    return tmp_path / "acme"


def _row(output: str, name: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith(f"{name} "):
            return line.split(maxsplit=2)
    raise AssertionError(f"no {name} row in:\n{output}")


def test_every_bootstrap_tool_is_checked_in_an_argocd_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke, argocd_repo: Path
) -> None:
    _tools(tmp_path, monkeypatch, *ALL_TOOLS, kubectl="v1.34.2")
    output = invoke(["-C", str(argocd_repo), "doctor", "--bootstrap"]).stdout
    assert "(argocd, Kubernetes 1.33)" in output
    assert _row(output, "eksctl")[1:] == ["ok", "0.190.0 (needed to bootstrap the clusters: "
                                          "creates the EKS clusters)"]  # fmt: skip
    assert _row(output, "aws")[1] == "ok"
    assert _row(output, "argocd")[1] == "ok"
    assert "flux" not in output
    assert "kubectl skew  ok " in output
    assert "kubectl 1.34, clusters 1.33 (meshgen.yaml): within one minor version" in output


def test_kubectl_two_minor_versions_away_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke, argocd_repo: Path
) -> None:
    _tools(tmp_path, monkeypatch, *ALL_TOOLS, kubectl="v1.31.0")
    relaxed = invoke(["-C", str(argocd_repo), "doctor"]).stdout
    assert "kubectl skew  --" in relaxed
    strict = invoke(["-C", str(argocd_repo), "doctor", "--bootstrap"], expect=2)
    assert "kubectl skew  SKEW" in strict.stdout
    assert "install kubectl 1.32, 1.33, 1.34" in strict.stdout
    assert "the bootstrap cannot run yet" in strict.stderr


def test_missing_tools_are_reported_not_crashed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke, argocd_repo: Path
) -> None:
    _tools(tmp_path, monkeypatch, "aws", kubectl="v1.33.0")
    relaxed = invoke(["-C", str(argocd_repo), "doctor"]).stdout
    for name in ("eksctl", "argocd", "kubectl"):
        assert _row(relaxed, name)[1] == "--", relaxed
    strict = invoke(["-C", str(argocd_repo), "doctor", "--bootstrap"], expect=2).stdout
    assert _row(strict, "eksctl")[1:] == [
        "MISSING",
        "eksctl: not found on PATH; install it or adjust PATH (needed to bootstrap the "
        "clusters: creates the EKS clusters)",
    ]
    assert _row(strict, "argocd")[1] == "MISSING"


def test_a_flux_repository_asks_for_flux(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> None:
    invoke(["new", str(tmp_path / "fluxy"), "--no-input", "--no-git", "--gitops", "flux"])
    _tools(tmp_path, monkeypatch, "kubectl", "eksctl", "aws", "argocd", kubectl="v1.34.0")
    result = invoke(["-C", str(tmp_path / "fluxy"), "doctor", "--bootstrap"], expect=2)
    assert _row(result.stdout, "flux")[1] == "MISSING"
    assert "argocd" not in result.stdout


def test_outside_a_repository_both_engines_are_listed_and_none_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> None:
    _tools(
        tmp_path, monkeypatch, "kubectl", "eksctl", "aws", "argocd", kubectl="Segmentation fault"
    )
    output = invoke(["-C", str(tmp_path), "doctor", "--bootstrap"]).stdout
    assert "no meshgen repository here" in output
    assert _row(output, "argocd")[1] == "ok"
    assert _row(output, "flux")[1] == "--"
    assert "kubectl skew" not in output
    # A kubectl that does not answer JSON is a line of the report too.
    assert _row(output, "kubectl")[1] == "--"
