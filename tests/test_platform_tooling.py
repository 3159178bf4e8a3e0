"""The repository tooling a generated repo ships: CI workflow, pre-commit, yamllint,
and a README that walks from the cluster to a trusted certificate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ENGINES = ("argocd", "flux")


def run_tool(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_workflow_config_and_yaml_pass_their_own_tools(
    pristine_repos: dict[str, Path], engine: str
) -> None:
    repo = pristine_repos[engine]
    checks = [
        ("check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/validate.yaml"),
        ("pre_commit", "validate-config", ".pre-commit-config.yaml"),
        ("yamllint", "--strict", "-c", ".yamllint.yaml", "."),
    ]  # fmt: skip
    for check in checks:
        result = run_tool(repo, *check)
        assert result.returncode == 0, f"{check}\n{result.stdout}\n{result.stderr}"


def test_yamllint_config_would_catch_a_problem(pristine_repos: dict[str, Path]) -> None:
    repo = pristine_repos["flux"]
    broken = repo.parent / "yamllint-check"
    broken.mkdir(exist_ok=True)
    (broken / ".yamllint.yaml").write_text((repo / ".yamllint.yaml").read_text())
    (broken / "bad.yaml").write_text("key: value\nkey: again\n")
    result = run_tool(broken, "yamllint", "--strict", "-c", ".yamllint.yaml", ".")
    assert result.returncode != 0
    assert "duplication of key" in result.stdout


def test_pre_commit_hooks_are_local_only(pristine_repos: dict[str, Path]) -> None:
    config = yaml.safe_load((pristine_repos["argocd"] / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    entries = {hook["id"]: hook["entry"] for hook in config["repos"][0]["hooks"]}
    assert entries == {"meshgen-validate": "meshgen validate", "yamllint": "yamllint --strict"}


def test_workflow_validates_every_pull_request_and_publishes_weights_and_diff(
    pristine_repos: dict[str, Path],
) -> None:
    workflow = yaml.safe_load(
        (pristine_repos["argocd"] / ".github" / "workflows" / "validate.yaml").read_text()
    )
    assert "pull_request" in workflow[True]  # PyYAML reads the key `on` as True
    steps = workflow["jobs"]["validate"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "meshgen validate" in scripts
    assert "meshgen weights show" in scripts
    assert 'meshgen diff --base "origin/$BASE_REF" --head HEAD --format markdown' in scripts
    assert "GITHUB_STEP_SUMMARY" in scripts
    assert "gh pr comment" in scripts
    assert workflow["jobs"]["validate"]["permissions"]["pull-requests"] == "write"
    # The findings reach code scanning.
    assert "meshgen validate --format sarif > meshgen.sarif" in scripts
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "meshgen.sarif"
    assert workflow["jobs"]["validate"]["permissions"]["security-events"] == "write"


def test_readme_walks_from_the_cluster_to_a_trusted_certificate_in_order(
    pristine_repos: dict[str, Path],
) -> None:
    def position(text: str, needle: str) -> int:
        assert needle in text, needle
        return text.index(needle)

    common_start = ["meshgen validate` must end", "eksctl create cluster -f cluster/staging.yaml"]
    common_end = [
        "kubectl -n istio-ingress get service istio-gateway",
        "kubectl -n istio-ingress get certificate --watch",
        "letsencrypt-production` gives the trusted one",
        "kubectl -n <env> logs first-app-test-traffic-split",
        "## Teardown",
        "kubectl -n istio-ingress delete service istio-gateway",
        "eksctl delete cluster -f cluster/<env>.yaml",
        "## Shifting traffic by pull request",
    ]
    engine_steps = {
        "argocd": [
            "manifests/install.yaml",
            "argocd cluster add",
            "kubectl apply -n argocd -f gitops/argocd/root.yaml",
            "argocd app sync <env>-first-app",
        ],
        "flux": [
            "flux install",
            "kubectl apply -f gitops/flux/clusters/staging/sync.yaml",
            "helm test first-app -n <env> --logs",
        ],
    }
    for engine, steps in engine_steps.items():
        readme = (pristine_repos[engine] / "README.md").read_text()
        ordered = [*common_start, *steps[:-1], *common_end[:3], steps[-1], *common_end[3:]]
        positions = [position(readme, step) for step in ordered]
        assert positions == sorted(positions), engine
        # Nothing sends a reader to the public `meshgen` project on PyPI, someone else's.
        assert "pypi.org/project/meshgen/" not in readme
        assert "pip install meshgen-gitops==0.1.0" in readme


def test_install_instructions_name_the_distribution_and_the_generating_version(
    pristine_repos: dict[str, Path],
) -> None:
    repo = pristine_repos["flux"]
    pre_commit = (repo / ".pre-commit-config.yaml").read_text()
    assert "pip install meshgen-gitops==0.1.0 yamllint" in pre_commit
    assert "pip install meshgen " not in pre_commit
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "validate.yaml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    (install,) = [s for s in steps if s.get("name") == "Install meshgen and yamllint"]
    # The pinned distribution by default; MESHGEN_PIP_SPEC still overrides it.
    assert '"${MESHGEN_PIP_SPEC:-meshgen-gitops==0.1.0}"' in install["run"]
    assert install["env"]["MESHGEN_PIP_SPEC"] == "${{ vars.MESHGEN_PIP_SPEC }}"
    (python,) = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert python["with"]["cache"] == "pip"
