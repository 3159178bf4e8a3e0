"""MG5xx: `meshgen validate` cross-checks the platform and the GitOps wiring.

Each rule's cases are folders under tests/rules/<RULE>/; here, what a folder cannot say.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import replace

RepoCopy = Callable[[str], Path]


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_generated_repos_pass_every_platform_rule(
    repo_copy: RepoCopy, invoke: Invoke, engine: str
) -> None:
    result = invoke(["-C", str(repo_copy(engine)), "validate", "--select", "MG5"])
    assert result.stdout.splitlines()[-1].startswith("0 errors, 0 warnings, 0 notes")


def test_mg412_one_finding_per_solver_with_a_changed_class(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    # MG502 reported the same mistake as MG412 until it was retired into it.
    repo = repo_copy("argocd")
    replace(
        repo / "platform" / "cert-manager" / "cluster-issuers.yaml",
        "ingressClassName: istio",
        "ingressClassName: nginx",
        every=True,
    )
    result = invoke(["-C", str(repo), "validate", "--select", "MG4", "--select", "MG5"], expect=1)
    lines = [line for line in result.stdout.splitlines() if "'nginx'" in line]
    assert len(lines) == 2, result.stdout
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == ["MG412", "MG412"]
    assert {"ClusterIssuer/letsencrypt-staging:", "ClusterIssuer/letsencrypt-production:"} == {
        line.split(" ")[3] for line in lines
    }
