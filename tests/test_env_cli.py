"""`meshgen env add|remove`: every file of both engines, validated before writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git
from meshgen.scaffold import answers_from_mapping, generate

# A real-looking domain: example.com is reserved, and validate may say so.
DOMAIN = {"domain": "acme.io", "acme_email": "platform@acme.io"}


def new_repo(tmp_path: Path, engine: str) -> Path:
    answers = answers_from_mapping({"name": "acme-mesh", "gitops": engine, **DOMAIN})
    return generate(answers, tmp_path / engine).path


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_env_add_then_remove_round_trips(tmp_path: Path, invoke: Invoke, engine: str) -> None:
    repo = new_repo(tmp_path, engine)
    start = git(repo, "rev-parse", "HEAD").strip()
    invoke(["-C", str(repo), "env", "add", "qa", "--branch", "env/qa"])
    assert git(repo, "branch", "--show-current").strip() == "env/qa"
    assert git(repo, "status", "--porcelain") == ""
    changed = git(repo, "diff", "--name-only", start, "HEAD").split()
    expected = {"cluster/qa.yaml", "environments/qa/first-app.yaml", "meshgen.yaml"}
    if engine == "argocd":
        expected |= {"gitops/argocd/apps/project.yaml"}
        assert any(p.startswith("gitops/argocd/") and "qa" in p for p in changed), changed
    else:
        expected |= {"gitops/flux/clusters/qa/sync.yaml", "gitops/flux/apps/qa/first-app.yaml"}
    assert expected <= set(changed), changed
    overlay = (repo / "environments/qa/first-app.yaml").read_text()
    assert "host: first-app.qa.acme.io" in overlay
    assert "# Canary releases happen here" in overlay  # comments copied with the values
    manifest = (repo / "meshgen.yaml").read_text()
    assert "  - name: qa\n    namespace: qa\n    cluster: acme-mesh-qa\n" in manifest
    assert manifest.startswith("# meshgen manifest")
    result = invoke(["-C", str(repo), "validate"])
    assert "environments: staging, production, qa" in result.stdout

    invoke(["-C", str(repo), "env", "remove", "qa", "--commit"])
    assert git(repo, "diff", "--stat", start, "HEAD") == ""  # byte for byte the first commit


@pytest.mark.slow
def test_env_add_names_the_namespace_and_cluster(tmp_path: Path, invoke: Invoke) -> None:
    repo = new_repo(tmp_path, "flux")
    invoke(["-C", str(repo), "env", "add", "qa", "--namespace", "qa-apps", "--cluster", "qa-eks"])
    release = (repo / "gitops/flux/apps/qa/first-app.yaml").read_text()
    assert "targetNamespace: qa-apps" in release
    assert "name: qa-eks" in (repo / "cluster/qa.yaml").read_text()
    assert "acme-mesh-qa" not in "".join(p.read_text() for p in repo.rglob("*.yaml"))
    invoke(["-C", str(repo), "validate"])


@pytest.mark.slow
def test_env_add_that_would_not_validate_changes_nothing(tmp_path: Path, invoke: Invoke) -> None:
    repo = new_repo(tmp_path, "argocd")
    staging = repo / "environments/staging/first-app.yaml"
    staging.write_text(staging.read_text().replace("v1: 100", "v1: 90"))
    git(repo, "commit", "-qam", "a broken staging")
    before = git(repo, "rev-parse", "HEAD")
    result = invoke(["-C", str(repo), "env", "add", "qa", "--branch", "env/qa"], expect=1)
    assert "refused, nothing changed" in result.stderr
    assert "environments/qa/first-app.yaml" in result.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "rev-parse", "HEAD") == before
    assert "env/qa" not in git(repo, "branch")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["env", "add", "staging"], "'staging' is given twice"),
        (["env", "add", "kube-system"], "a namespace the cluster or the platform"),
        (["env", "add", "qa", "--from", "prod"], "unknown environment 'prod'"),
        (["env", "remove", "qa"], "unknown environment 'qa'"),
    ],
)
def test_env_refuses_bad_names(
    repo_copy: object, invoke: Invoke, args: list[str], message: str
) -> None:
    repo = repo_copy("argocd")  # type: ignore[operator]
    result = invoke(["-C", str(repo), *args], expect=2)
    assert message in result.stderr
