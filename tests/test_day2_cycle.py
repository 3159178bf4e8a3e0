"""A repository grows as a team uses it: an environment, a second app, a canary step on it,
a platform upgrade staging first; each a branch merged back as a pull request would be."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git
from meshgen.scaffold import answers_from_mapping, generate

# A real-looking domain: example.com is reserved, and validate may say so.
DOMAIN = {"domain": "acme.io", "acme_email": "platform@acme.io"}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_env_app_canary_and_platform_by_pull_request(
    tmp_path: Path, invoke: Invoke, engine: str
) -> None:
    repo = generate(
        answers_from_mapping({"name": "acme-mesh", "gitops": engine, **DOMAIN}), tmp_path / engine
    ).path
    cli = ["-C", str(repo)]

    def pull_request(branch: str, command: list[str], shown: str) -> None:
        invoke([*cli, *command, "--branch", branch])
        invoke([*cli, "validate"])
        diff = invoke([*cli, "diff"]).stdout
        assert shown in diff, diff
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch)
        invoke([*cli, "validate"])

    pull_request("env/qa", ["env", "add", "qa"], "  qa: environment added")
    pull_request(
        "app/checkout",
        [
            "app",
            "add",
            "checkout",
            "--image",
            "ghcr.io/acme/checkout",
            "--versions",
            "v1=1.0.0,v2=1.1.0",
        ],
        "  qa/checkout: environment added",
    )
    assert (repo / "environments/qa/checkout.yaml").is_file()  # every environment, qa too
    pull_request(
        "canary/checkout-qa",
        ["weights", "set", "qa", "v1=90", "v2=10", "--app", "checkout"],
        "  qa/checkout: v1 100% -> 90%, v2 0% -> 10%",
    )
    pull_request(
        "platform/istio-staging",
        ["platform", "upgrade", "istio", "1.30.4", "--env", "staging"],
        "  staging: istio 1.30.3 -> 1.30.4",
    )
    pull_request(
        "platform/istio",
        ["platform", "upgrade", "istio", "1.30.4"],
        "  production: istio 1.30.3 -> 1.30.4",
    )
    table = invoke([*cli, "weights", "show"]).stdout
    assert "qa           checkout   v2          10%" in table
    log = git(repo, "log", "--first-parent", "--format=%s", "main")
    assert log.count("Merge ") == 5


@pytest.mark.slow
def test_two_apps_rendering_one_object_is_reported(tmp_path: Path, invoke: Invoke) -> None:
    repo = generate(answers_from_mapping({"name": "acme-mesh", **DOMAIN}), tmp_path / "repo").path
    invoke(["-C", str(repo), "app", "add", "checkout"])
    invoke(["-C", str(repo), "validate", "--select", "MG514"])
    # Both releases create the namespace, as a chart installed by hand would.
    for app in ("first-app", "checkout"):
        overlay = repo / f"environments/staging/{app}.yaml"
        text = overlay.read_text().replace("namespace:\n  create: false\n", "")
        overlay.write_text(text.replace("\nhost:", "\nnamespace:\n  create: true\nhost:", 1))
    result = invoke(["-C", str(repo), "validate", "--select", "MG514"], expect=1)
    assert "MG514 error: Namespace/staging in staging is rendered by first-app" in result.stdout
