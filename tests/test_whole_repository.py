"""A fresh repository of either engine validates clean, every object schema-checked with
the schemas meshgen ships; mistakes in the GitOps and cluster files are caught by them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_a_fresh_repository_validates_clean_with_every_object_checked(
    engine: str, repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy(engine)
    report = invoke(["-C", str(repo), "validate"]).stdout
    # No note either: a kind without a schema would be MG303.
    assert "0 errors, 0 warnings, 0 notes" in report, report


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_a_typo_in_an_application_sync_policy_is_a_schema_error(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    _replace(repo / "gitops/argocd/root.yaml", "selfHeal: true", "selfHeel: true")
    report = invoke(["-C", str(repo), "validate", "--select", "MG304"], expect=1).stdout
    assert "gitops/argocd/root.yaml:" in report
    assert "MG304 error: Application/argocd/acme-mesh-root: spec.syncPolicy.automated:" in report
    assert "'selfHeel' was unexpected" in report


def test_a_misspelt_eksctl_field_is_a_schema_error(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    _replace(repo / "cluster/staging.yaml", "privateNetworking: true", "privateNetwork: true")
    report = invoke(["-C", str(repo), "validate", "--select", "MG304"], expect=1).stdout
    assert "cluster/staging.yaml:" in report
    assert "MG304 error: ClusterConfig/acme-mesh-staging: managedNodeGroups.0:" in report
    assert "'privateNetwork' was unexpected" in report


def test_the_repository_s_own_schemas_take_precedence(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    # A repository that pins its own (here: a permissive) AppProject schema is not held to
    # the shipped one.
    own = repo / "schemas/crds-strict/argoproj.io/appproject_v1alpha1.json"
    own.parent.mkdir(parents=True)
    own.write_text('{"type": "object"}\n')
    _replace(repo / "gitops/argocd/apps/project.yaml", "sourceRepos:", "sourceRepo:")
    report = invoke(["-C", str(repo), "validate", "--select", "MG304"]).stdout
    assert "MG304" not in report
