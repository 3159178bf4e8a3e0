"""Which chart releases each environment gets, with which values files, in either engine
and whatever the folder layout (shared or per-environment platform folders)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from meshgen.platform.objects import Objects, load_static_objects
from meshgen.platform.releases import releases_by_environment
from meshgen.repo import load_repo


def _releases(root: Path) -> dict[str, dict[str, tuple[str, str, list[str]]]]:
    repo = load_repo(root)
    objects = Objects(root, load_static_objects(root))
    clusters = {env.name: env.cluster for env in repo.environments}
    return {
        env: {r.chart: (r.version, r.repository, [v.label for v in r.values]) for r in found}
        for env, found in releases_by_environment(objects, repo.gitops, clusters).items()
    }


def test_each_environment_gets_the_pinned_platform_charts(repo_copy: Callable[[str], Path]) -> None:
    for engine in ("argocd", "flux"):
        found = _releases(repo_copy(engine))
        assert set(found) == {"staging", "production"}
        for environment, charts in found.items():
            # The common values first, then the environment's own, whose keys win.
            assert charts["istiod"] == (
                "1.30.3",
                "https://istio-release.storage.googleapis.com/charts",
                [
                    "platform/istio/istiod.values.yaml",
                    f"platform/istio/{environment}/istiod.values.yaml",
                ],
            ), engine
            assert charts["cert-manager"][:2] == ("v1.21.1", "https://charts.jetstack.io")


def test_an_argocd_environment_without_platform_applications_has_no_releases(
    repo_copy: Callable[[str], Path],
) -> None:
    root = repo_copy("argocd")
    (root / "gitops/argocd/environments/staging/platform.yaml").unlink()
    found = _releases(root)
    assert found["staging"] == {}
    assert "istiod" in found["production"]


def test_flux_per_environment_values_come_from_that_environment_s_build(
    repo_copy: Callable[[str], Path],
) -> None:
    root = repo_copy("flux")
    overlay = root / "gitops/flux/platform/production/kustomization.yaml"
    text = overlay.read_text()
    generator = (
        "  - name: istiod-environment-values\n    namespace: flux-system\n    files:\n"
        "      - values.yaml=../../../../platform/istio/production/istiod.values.yaml\n"
    )
    assert generator in text
    overlay.write_text(text.replace(generator, ""))
    found = _releases(root)
    assert found["staging"]["istiod"][2] == [
        "platform/istio/istiod.values.yaml",
        "platform/istio/staging/istiod.values.yaml",
    ]
    assert found["production"]["istiod"][2] == ["platform/istio/istiod.values.yaml"]
