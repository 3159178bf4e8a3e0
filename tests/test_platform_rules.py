"""MG5xx: `meshgen validate` cross-checks the platform and the GitOps wiring."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import line_of, replace

RepoCopy = Callable[[str], Path]


def findings(invoke: Invoke, repo: Path, rule: str, *, expect: int = 1) -> list[str]:
    result = invoke(
        ["-C", str(repo), "validate", "--select", "MG5", "--select", "MG412"], expect=expect
    )
    return [line for line in result.stdout.splitlines() if f" {rule} " in line]


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_generated_repos_pass_every_platform_rule(
    repo_copy: RepoCopy, invoke: Invoke, engine: str
) -> None:
    result = invoke(["-C", str(repo_copy(engine)), "validate", "--select", "MG5"])
    assert result.stdout.splitlines()[-1].startswith("0 errors, 0 warnings, 0 notes")


# -- MG501 ingress-gateway-mismatch ----------------------------------------------------


def test_mg501_ingress_service_not_the_gateway_service(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    istiod = repo / "platform" / "istio" / "istiod.values.yaml"
    replace(
        istiod, "ingressService: istio-gateway", "ingressService: istio-ingressgateway", every=True
    )
    lines = findings(invoke, repo, "MG501")
    line = line_of(istiod, "ingressService:")
    expected = (
        f"platform/istio/istiod.values.yaml:{line}:1: MG501 error: meshConfig.ingressService "
        "is 'istio-ingressgateway', but the gateway release of Application "
        "staging-istio-gateway (gitops/argocd/environments/staging/platform.yaml) creates the "
        "Service 'istio-gateway'"
    )
    assert expected in lines
    assert len(lines) == 2, "one finding per environment's gateway release"


def test_mg501_gateway_released_under_another_name(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    apps = repo / "gitops" / "argocd" / "environments" / "production" / "platform.yaml"
    replace(apps, "releaseName: istio-gateway", "releaseName: ingress", every=True)
    # The release name makes the Service name; gateway.values.yaml pins the pod label.
    (finding,) = findings(invoke, repo, "MG501")
    assert "Application production-istio-gateway" in finding
    assert finding.endswith("creates the Service 'ingress'")
    # Without the pinned label, the release name makes the `istio` pod label too.
    replace(
        repo / "platform/istio/gateway.values.yaml", "labels:\n  istio: gateway\n", "", every=True
    )
    lines = findings(invoke, repo, "MG501")
    assert any("carry `istio: ingress`" in line for line in lines), lines


def test_mg501_flux_default_release_name_breaks_the_match(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    releases = repo / "gitops" / "flux" / "platform-base" / "releases.yaml"
    # Without releaseName, helm-controller names it `<targetNamespace>-<name>`.
    replace(releases, "  releaseName: istio-gateway\n", "", every=True)
    lines = findings(invoke, repo, "MG501")
    assert any("creates the Service 'istio-ingress-istio-gateway'" in line for line in lines)


def test_mg501_istiod_looks_in_the_wrong_namespace(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    istiod = repo / "platform" / "istio" / "istiod.values.yaml"
    replace(
        istiod, "  K8S_INGRESS_NS: istio-ingress\n", "  K8S_INGRESS_NS: istio-system\n", every=True
    )
    (finding,) = findings(invoke, repo, "MG501")
    assert finding.startswith(f"platform/istio/istiod.values.yaml:{line_of(istiod, 'K8S_')}:1:")
    assert "namespace 'istio-system'" in finding
    assert "installs the gateway in 'istio-ingress'" in finding


# -- MG412 acme-class-not-served (MG502 retired into it) ----------------------------


def test_mg412_solver_class_without_an_istio_ingress_class(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    issuers = repo / "platform" / "cert-manager" / "cluster-issuers.yaml"
    text = issuers.read_text()
    issuers.write_text(text.replace("ingressClassName: istio", "ingressClassName: nginx", 1))
    (finding,) = findings(invoke, repo, "MG412")
    line = line_of(issuers, "ingressClassName: nginx")
    assert finding == (
        f"platform/cert-manager/cluster-issuers.yaml:{line}:1: MG412 error: ClusterIssuer/"
        "letsencrypt-staging: HTTP-01 challenges would go unanswered: no IngressClass "
        "'nginx' is defined"
    )


def test_mg412_ingress_class_of_another_controller(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    replace(
        repo / "platform" / "cert-manager" / "ingress-class.yaml",
        "controller: istio.io/ingress-controller",
        "controller: k8s.io/ingress-nginx",
        every=True,
    )
    lines = findings(invoke, repo, "MG412")
    assert len(lines) == 2
    assert all("has controller 'k8s.io/ingress-nginx'" in line for line in lines)


def test_mg412_ingress_controller_off(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    replace(
        repo / "platform" / "istio" / "istiod.values.yaml",
        "ingressControllerMode: STRICT",
        "ingressControllerMode: OFF",
        every=True,
    )
    lines = findings(invoke, repo, "MG412")
    assert len(lines) == 2
    assert all("ingressControllerMode is OFF" in line for line in lines)


def test_mg412_class_annotation_must_be_the_mesh_ingress_class(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    issuers = repo / "platform" / "cert-manager" / "cluster-issuers.yaml"
    replace(issuers, "ingressClassName: istio", "class: istio", every=True)
    invoke(["-C", str(repo), "validate", "--select", "MG412"])
    replace(issuers, "class: istio", "class: traefik", every=True)
    lines = findings(invoke, repo, "MG412")
    assert len(lines) == 2, lines
    assert all("class 'traefik' is not meshConfig.ingressClass 'istio'" in x for x in lines)


def test_mg412_one_finding_per_solver_with_a_changed_class(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
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


# -- MG503 environment-not-deployed ----------------------------------------------------


def test_mg503_environment_without_its_app_application(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    (repo / "gitops" / "argocd" / "environments" / "production" / "first-app.yaml").unlink()
    (finding,) = findings(invoke, repo, "MG503")
    line = line_of(repo / "meshgen.yaml", "- name: production")
    assert finding == (
        f"meshgen.yaml:{line}:1: MG503 error: environment 'production': no Argo CD "
        "Application deploys charts/first-app with environments/production/first-app.yaml "
        "to namespace 'production' (cluster 'acme-mesh-production')"
    )


def test_mg503_application_to_the_wrong_cluster(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    replace(
        repo / "gitops" / "argocd" / "environments" / "staging" / "first-app.yaml",
        "name: acme-mesh-staging",
        "name: acme-mesh-production",
    )
    (finding,) = findings(invoke, repo, "MG503")
    assert "environment 'staging'" in finding


def test_mg503_flux_cluster_without_the_app(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    (repo / "gitops" / "flux" / "apps" / "staging" / "first-app.yaml").unlink()
    (finding,) = findings(invoke, repo, "MG503")
    assert "environment 'staging': no Flux HelmRelease deploys charts/first-app" in finding
    assert "(gitops/flux/clusters/staging/)" in finding


def test_mg503_environment_added_to_the_manifest_only(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    manifest = repo / "meshgen.yaml"
    manifest.write_text(
        manifest.read_text() + "  - name: qa\n    namespace: qa\n    cluster: acme-mesh-qa\n"
    )
    shutil.copytree(repo / "environments" / "staging", repo / "environments" / "qa")
    (finding,) = findings(invoke, repo, "MG503")
    assert finding.startswith(f"meshgen.yaml:{line_of(manifest, '- name: qa')}:1:")


# -- MG504 gitops-path-missing ---------------------------------------------------------


def test_mg504_argocd_values_file_missing(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    apps = repo / "gitops" / "argocd" / "environments" / "staging" / "platform.yaml"
    replace(
        apps,
        "$values/platform/istio/istiod.values.yaml",
        "$values/platform/istiod.yaml",
        every=True,
    )
    (finding,) = findings(invoke, repo, "MG504")
    line = line_of(apps, "$values/platform/istiod.yaml")
    assert finding == (
        f"gitops/argocd/environments/staging/platform.yaml:{line}:1: MG504 error: Application "
        "staging-istiod: file platform/istiod.yaml does not exist"
    )


def test_mg504_app_environment_file_missing(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("argocd")
    shutil.rmtree(repo / "environments" / "production")
    lines = findings(invoke, repo, "MG504")
    assert any(
        "Application production-first-app: file environments/production/first-app.yaml does "
        "not exist" in line
        for line in lines
    ), lines


def test_mg504_flux_kustomization_path_missing(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    steps = repo / "gitops" / "flux" / "clusters" / "production" / "platform.yaml"
    replace(steps, "path: ./platform/cert-manager", "path: ./platform/certmanager", every=True)
    (finding,) = findings(invoke, repo, "MG504")
    assert finding == (
        f"gitops/flux/clusters/production/platform.yaml:{line_of(steps, 'certmanager')}:1: "
        "MG504 error: Kustomization issuers: folder platform/certmanager does not exist"
    )


def test_mg504_kustomization_file_refers_to_a_missing_file(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    (repo / "platform" / "istio" / "gateway.values.yaml").unlink()
    lines = findings(invoke, repo, "MG504")
    kustomization = repo / "gitops" / "flux" / "platform-base" / "kustomization.yaml"
    line = line_of(kustomization, "gateway.values.yaml")
    assert lines == [
        f"gitops/flux/platform-base/kustomization.yaml:{line}:1: MG504 error: kustomization "
        "refers to ../../../platform/istio/gateway.values.yaml, which does not exist"
    ]


# -- MG505 istio-cni-mismatch ----------------------------------------------------------


def drop_document(path: Path, needle: str) -> None:
    """Remove the one YAML document of a multi-document file that contains `needle`."""
    documents = path.read_text().split("\n---\n")
    kept = [d for d in documents if needle not in d]
    assert len(kept) == len(documents) - 1, f"{needle!r} not in exactly one document of {path}"
    path.write_text("\n---\n".join(kept))


def test_mg505_cni_release_while_istiod_still_injects_istio_init(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    replace(
        repo / "platform/istio/istiod.values.yaml",
        "  enabled: true\n",
        "  enabled: false\n",
        every=True,
    )
    lines = findings(invoke, repo, "MG505")
    staging = repo / "gitops" / "argocd" / "environments" / "staging" / "platform.yaml"
    line = line_of(staging, "chart: cni")
    assert (
        f"gitops/argocd/environments/staging/platform.yaml:{line}:1: MG505 "
        "error: Application staging-istio-cni installs the Istio CNI node agent, but "
        "cni.enabled is not true in platform/istio/istiod.values.yaml: istiod still injects "
        "istio-init, which needs NET_ADMIN and NET_RAW"
    ) in lines
    assert len(lines) == 2, "one finding per environment's CNI release"


def test_mg505_istiod_expects_cni_on_a_cluster_that_lacks_it(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("argocd")
    apps = repo / "gitops" / "argocd" / "environments" / "production" / "platform.yaml"
    drop_document(apps, "name: production-istio-cni")
    (finding,) = findings(invoke, repo, "MG505")
    assert finding == (
        f"gitops/argocd/environments/production/platform.yaml:{line_of(apps, 'chart: istiod')}:1: "
        "MG505 error: Application production-istiod installs istiod with cni.enabled: true "
        "(platform/istio/istiod.values.yaml), but no `cni` chart release runs beside it "
        "(cluster 'acme-mesh-production'): injected pods would fail their istio-validation "
        "init container"
    )


def test_mg505_flux_platform_without_the_cni_release(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    releases = repo / "gitops" / "flux" / "platform-base" / "releases.yaml"
    drop_document(releases, "chart: cni\n")
    (finding,) = findings(invoke, repo, "MG505")
    assert finding.startswith(
        f"gitops/flux/platform-base/releases.yaml:{line_of(releases, 'chart: istiod')}:1: MG505 "
        "error: HelmRelease istiod installs istiod with cni.enabled: true"
    )
    assert "(gitops/flux/platform-base/)" in finding


def test_mg505_accepts_the_documented_pilot_spelling(repo_copy: RepoCopy, invoke: Invoke) -> None:
    repo = repo_copy("flux")
    istiod = repo / "platform" / "istio" / "istiod.values.yaml"
    # The istiod chart merges `pilot:` over the top level, so this spelling wins.
    replace(istiod, "cni:\n", "pilot:\n  cni:\n", every=True)
    replace(istiod, "  enabled: true\n", "    enabled: true\n", every=True)
    invoke(["-C", str(repo), "validate", "--select", "MG505"])
    istiod.write_text(istiod.read_text() + "cni:\n  enabled: true\n")
    replace(istiod, "    enabled: true\n", "    enabled: false\n", every=True)
    (finding,) = findings(invoke, repo, "MG505")
    assert "HelmRelease istio-cni installs the Istio CNI node agent" in finding


@pytest.mark.parametrize(
    ("engine", "path", "old", "new", "release"),
    [
        (
            "argocd",
            "gitops/argocd/environments/staging/platform.yaml",
            "name: staging-istio-cni\n  namespace: argocd\n  annotations:\n"
            '    argocd.argoproj.io/sync-wave: "2"',
            "name: staging-istio-cni\n  namespace: argocd\n  annotations:\n"
            '    argocd.argoproj.io/sync-wave: "3"',
            "Application staging-istiod is not ordered after Application staging-istio-cni",
        ),
        (
            "flux",
            "gitops/flux/platform-base/releases.yaml",
            "    - name: istio-base\n    - name: istio-cni\n",
            "    - name: istio-base\n",
            "HelmRelease istiod is not ordered after HelmRelease istio-cni",
        ),
    ],
    ids=["argocd-same-wave", "flux-no-depends-on"],
)
def test_mg505_istiod_must_wait_for_the_cni_agent(
    repo_copy: RepoCopy, invoke: Invoke, engine: str, path: str, old: str, new: str, release: str
) -> None:
    repo = repo_copy(engine)
    replace(repo / path, old, new, every=True)
    (finding,) = findings(invoke, repo, "MG505")
    line = line_of(repo / path, "chart: istiod")
    assert finding.startswith(f"{path}:{line}:1: MG505 error: {release}: istiod could inject")


def test_mg505_flux_order_through_another_release_is_enough(
    repo_copy: RepoCopy, invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    releases = repo / "gitops" / "flux" / "platform-base" / "releases.yaml"
    # istiod -> istio-base -> istio-cni still starts istiod after the agent.
    replace(
        releases,
        "    - name: istio-base\n    - name: istio-cni\n",
        "    - name: istio-base\n",
        every=True,
    )
    text = releases.read_text()
    base_end = text.index("  valuesFrom:\n    - kind: ConfigMap\n      name: istio-base-values")
    cni_depends = "  dependsOn:\n    - name: istio-base\n"
    releases.write_text(
        text[:base_end].replace(
            "  install:\n", "  dependsOn:\n    - name: istio-cni\n  install:\n", 1
        )
        + text[base_end:].replace(cni_depends, "", 1)
    )
    invoke(["-C", str(repo), "validate", "--select", "MG505"])
