"""The GitOps wiring of a generated repo: Argo CD syncs each environment in waves, Flux
orders the platform by dependsOn, and custom environments get their own files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REAL_ANSWERS, Invoke
from helpers import by_name, load_all

ENGINES = ("argocd", "flux")


def test_argocd_syncs_each_environment_on_its_own_in_waves(
    pristine_repos: dict[str, Path],
) -> None:
    argocd = pristine_repos["argocd"] / "gitops" / "argocd"

    def wave(obj: dict[str, Any]) -> int:
        return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0))

    root = load_all(argocd / "root.yaml")[0]
    assert root["spec"]["source"]["path"] == "gitops/argocd/apps"
    project = load_all(argocd / "apps" / "project.yaml")[0]
    for environment in ("staging", "production"):
        # One Application per environment: a release stuck in one never holds back another.
        (entry,) = load_all(argocd / "apps" / f"{environment}.yaml")
        assert entry["spec"]["source"]["path"] == f"gitops/argocd/environments/{environment}"
        assert wave(project) < wave(entry)
        folder = argocd / "environments" / environment
        platform = by_name(load_all(folder / "platform.yaml"))
        (app,) = load_all(folder / "first-app.yaml")
        order = ["istio-base", "istio-cni", "istiod", "istio-gateway", "cert-manager", "issuers"]
        waves = [wave(platform[f"{environment}-{name}"]) for name in order] + [wave(app)]
        assert waves == sorted(set(waves)), "each step has its own, later wave"
        for application in [*platform.values(), app]:
            assert application["spec"]["destination"]["name"] == f"acme-mesh-{environment}"
            assert application["spec"]["project"] == "acme-mesh"
        releases = {
            source["chart"]: source
            for application in platform.values()
            for source in application["spec"].get("sources", [])
            if "chart" in source
        }
        assert releases["gateway"]["helm"]["releaseName"] == "istio-gateway"
        assert releases["base"]["targetRevision"] == "1.30.3"
        assert releases["cni"]["helm"]["releaseName"] == "istio-cni"
        assert releases["cni"]["helm"]["valueFiles"] == ["$values/platform/istio/cni.values.yaml"]
        # Common values first, then the environment's own, whose keys win.
        for chart in ("istiod", "gateway"):
            assert releases[chart]["helm"]["valueFiles"] == [
                f"$values/platform/istio/{chart}.values.yaml",
                f"$values/platform/istio/{environment}/{chart}.values.yaml",
            ]
        assert releases["cert-manager"]["targetRevision"] == "v1.21.1"
        issuers = platform[f"{environment}-issuers"]["spec"]["syncPolicy"]
        assert "SkipDryRunOnMissingResource=true" in issuers["syncOptions"]
        assert app["spec"]["source"]["path"] == "charts/first-app"
        assert app["spec"]["source"]["helm"]["valueFiles"] == [
            f"../../environments/{environment}/first-app.yaml"
        ]
        assert app["spec"]["destination"]["namespace"] == environment
        assert "SkipDryRunOnMissingResource=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_every_argocd_application_retries_with_backoff(pristine_repos: dict[str, Path]) -> None:
    argocd = pristine_repos["argocd"] / "gitops" / "argocd"
    applications = [
        obj for path in sorted(argocd.rglob("*.yaml")) for obj in load_all(path)
        if obj["kind"] == "Application"
    ]  # fmt: skip
    assert len(applications) == 1 + 2 * (1 + 6 + 1)  # root; per environment: entry, platform, app
    for application in applications:
        # Argo CD does not retry a failed automated sync of the same commit by itself.
        retry = application["spec"]["syncPolicy"]["retry"]
        assert retry["limit"] < 0 or retry["limit"] >= 5, application["metadata"]["name"]
        assert retry["backoff"]["factor"] >= 2
        assert retry["backoff"]["maxDuration"]


def test_argocd_project_lists_the_cluster_scoped_kinds_it_allows(
    pristine_repos: dict[str, Path],
) -> None:
    project = load_all(pristine_repos["argocd"] / "gitops" / "argocd" / "apps" / "project.yaml")[0]
    allowed = project["spec"]["clusterResourceWhitelist"]
    assert {"group": "*", "kind": "*"} not in allowed
    assert all("*" not in (entry["group"] + entry["kind"]) for entry in allowed)


def test_flux_orders_the_platform_by_depends_on(pristine_repos: dict[str, Path]) -> None:
    flux = pristine_repos["flux"] / "gitops" / "flux"
    releases = by_name(load_all(flux / "platform-base" / "releases.yaml"))
    depends = {
        name: [d["name"] for d in release["spec"].get("dependsOn", [])]
        for name, release in releases.items()
    }
    assert depends == {
        "istio-base": [],
        "istio-cni": ["istio-base"],
        "istiod": ["istio-base", "istio-cni"],
        "istio-gateway": ["istiod"],
        "cert-manager": ["istio-gateway"],
    }
    assert releases["istio-gateway"]["spec"]["releaseName"] == "istio-gateway"
    assert releases["istio-gateway"]["spec"]["targetNamespace"] == "istio-ingress"
    assert releases["istiod"]["spec"]["chart"]["spec"]["version"] == "1.30.3"
    cni = releases["istio-cni"]["spec"]
    assert cni["chart"]["spec"]["chart"] == "cni"
    assert cni["chart"]["spec"]["version"] == "1.30.3"
    assert (cni["releaseName"], cni["targetNamespace"]) == ("istio-cni", "istio-system")
    kustomization = yaml.safe_load((flux / "platform-base" / "kustomization.yaml").read_text())
    generated = {g["name"]: g["files"] for g in kustomization["configMapGenerator"]}
    assert generated["istio-cni-values"] == ["values.yaml=../../../platform/istio/cni.values.yaml"]
    assert cni["valuesFrom"] == [
        {"kind": "ConfigMap", "name": "istio-cni-values", "valuesKey": "values.yaml"}
    ]
    for name in ("istiod", "istio-gateway"):
        assert [v["name"] for v in releases[name]["spec"]["valuesFrom"]] == [
            f"{name}-values",
            f"{name}-environment-values",
        ], "common values first, then the environment's, whose keys win"
    for environment in ("staging", "production"):
        steps = by_name(load_all(flux / "clusters" / environment / "platform.yaml"))
        # The environment's folder adds its own istiod and gateway values to the common ones.
        assert steps["platform"]["spec"]["path"] == f"./gitops/flux/platform/{environment}"
        overlay = yaml.safe_load(
            (flux / "platform" / environment / "kustomization.yaml").read_text()
        )
        # The common platform is a sibling folder: kustomize refuses a parent as a base.
        assert overlay["resources"] == ["../../platform-base"]
        assert {g["name"]: g["files"] for g in overlay["configMapGenerator"]} == {
            f"{name}-environment-values": [
                f"values.yaml=../../../../platform/istio/{environment}/{chart}.values.yaml"
            ]
            for name, chart in (("istiod", "istiod"), ("istio-gateway", "gateway"))
        }
        assert steps["issuers"]["spec"]["dependsOn"] == [{"name": "platform"}]
        assert steps["apps"]["spec"]["dependsOn"] == [{"name": "issuers"}]
        assert steps["apps"]["spec"]["path"] == f"./gitops/flux/apps/{environment}"
        (app,) = load_all(flux / "apps" / environment / "first-app.yaml")
        assert app["spec"]["targetNamespace"] == environment
        assert app["spec"]["releaseName"] == "first-app"
        assert (
            f"./environments/{environment}/first-app.yaml"
            in (app["spec"]["chart"]["spec"]["valuesFiles"])
        )
        root = by_name(load_all(flux / "clusters" / environment / "sync.yaml"))
        assert root["acme-mesh"]["spec"]["path"] == f"./gitops/flux/clusters/{environment}"


@pytest.mark.parametrize(("engine", "other"), [("argocd", "flux"), ("flux", "argocd")])
def test_custom_environments_get_their_own_gitops_files_and_validate(
    tmp_path: Path, invoke: Invoke, engine: str, other: str
) -> None:
    dest = tmp_path / "mesh"
    options = ["--env", "dev", "--env", "qa", "--env", "prod", "--gitops", engine, *REAL_ANSWERS]
    invoke(["new", str(dest), "--no-input", "--no-git", *options])
    assert not (dest / "gitops" / other).exists()
    if engine == "argocd":
        apps = sorted(p.name for p in (dest / "gitops" / "argocd" / "apps").iterdir())
        assert apps == ["dev.yaml", "prod.yaml", "project.yaml", "qa.yaml"]
        folders = sorted(p.name for p in (dest / "gitops" / "argocd" / "environments").iterdir())
        assert folders == ["dev", "prod", "qa"]
    else:
        clusters = sorted(p.name for p in (dest / "gitops" / "flux" / "clusters").iterdir())
        assert clusters == ["dev", "prod", "qa"]
    result = invoke(["-C", str(dest), "validate"])
    assert "0 errors, 0 warnings" in result.stdout.splitlines()[-1]
