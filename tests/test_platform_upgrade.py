"""`meshgen platform upgrade`: every pin of a component, one environment or all."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git
from meshgen import pins
from meshgen.repo import load_repo
from meshgen.scaffold import answers_from_mapping, generate

# A real-looking domain: example.com is reserved, and validate may say so.
DOMAIN = {"domain": "acme.io", "acme_email": "platform@acme.io"}


def versions(repo: Path) -> dict[str, set[str]]:
    found = pins.find(load_repo(repo))
    effective = pins.effective(found, "istio")
    return {env: {p.version for p in chosen.values()} for env, chosen in effective.items()}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_staging_first_then_every_environment(tmp_path: Path, invoke: Invoke, engine: str) -> None:
    answers = answers_from_mapping({"name": "acme-mesh", "gitops": engine, **DOMAIN})
    repo = generate(answers, tmp_path / engine).path
    manifest = repo / "meshgen.yaml"
    manifest.write_text(manifest.read_text() + "guardrails:\n  order: [staging, production]\n")
    git(repo, "commit", "-qam", "order platform upgrades")
    cli = ["-C", str(repo)]

    refused = invoke(
        [*cli, "platform", "upgrade", "istio", "1.30.4", "--env", "production"], expect=1
    )
    assert "upgrades staging before production" in refused.stderr
    assert git(repo, "status", "--porcelain") == ""

    invoke([*cli, "platform", "upgrade", "istio", "1.30.4", "--env", "staging", "--branch", "s"])
    assert versions(repo) == {"staging": {"1.30.4"}, "production": {"1.30.3"}}
    assert "  - name: staging\n    namespace: staging\n" in manifest.read_text()
    assert "    versions:\n      istio: 1.30.4\n" in manifest.read_text()
    invoke([*cli, "validate"])
    diff = invoke([*cli, "diff"]).stdout
    assert "Platform:\n  staging: istio 1.30.3 -> 1.30.4\n" in diff

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge s", "s")
    invoke([*cli, "platform", "upgrade", "istio", "1.30.4", "--branch", "all"])
    assert versions(repo) == {"staging": {"1.30.4"}, "production": {"1.30.4"}}
    text = manifest.read_text()
    assert "  istio: 1.30.4\n" in text
    assert "    versions:" not in text  # no environment runs its own version any more
    assert "patches:" not in "".join(p.read_text() for p in (repo / "gitops").rglob("*.yaml"))
    invoke([*cli, "validate"])
    diff = invoke([*cli, "diff"]).stdout
    assert "  production: istio 1.30.3 -> 1.30.4\n" in diff
    assert "  staging: istio" not in diff


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["istoi", "1.30.4"],
            "no pinned chart of 'istoi' under gitops/; pinned components: cert-manager, istio",
        ),
        (["istio", "latest"], "'latest' is not a chart version such as 1.30.3"),
        (["cert-manager", "1.22.0"], "cert-manager versions are written with a v: v1.22.0"),
        (["istio", "1.30.4", "--env", "qa"], "unknown environment 'qa'"),
    ],
)
def test_upgrade_refuses_what_it_cannot_pin(
    repo_copy: object, invoke: Invoke, args: list[str], message: str
) -> None:
    repo = repo_copy("flux")  # type: ignore[operator]
    result = invoke(["-C", str(repo), "platform", "upgrade", *args], expect=2)
    assert message in result.stderr
