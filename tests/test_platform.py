"""What a generated repo holds outside the app chart: cluster, platform, GitOps, CI.

The objects must be valid for the upstream tools that read them (eksctl, Argo CD, Flux,
cert-manager, the Istio charts, GitHub Actions, pre-commit, yamllint), and wired so that
the engine brings an empty cluster to a working mesh in the right order: the wiring is
checked in test_platform_gitops.py, the repository tooling in test_platform_tooling.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import GOLDEN_DIR, Golden, Invoke
from helpers import by_name, load_all

ENGINES = ("argocd", "flux")
# Files of a generated repo that the platform owns (charts/ and environments/ are not).
OWNED = ("meshgen.yaml", "README.md", ".pre-commit-config.yaml", ".yamllint.yaml", ".gitignore")
OWNED_DIRS = ("cluster", "platform", "gitops", ".github")
# Core kinds among the static objects: checked by `meshgen validate` (MG301) against the
# Kubernetes schemas, not by upstream CRD schemas.
CORE_KINDS = {"ConfigMap", "IngressClass", "Namespace"}


def owned_files(repo: Path) -> list[str]:
    files = [name for name in OWNED if (repo / name).is_file()]
    for folder in OWNED_DIRS:
        files += [p.relative_to(repo).as_posix() for p in (repo / folder).rglob("*") if p.is_file()]
    return sorted(files)


def objects(repo: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Kubernetes-style object under cluster/, platform/ and gitops/."""
    for folder in ("cluster", "platform", "gitops"):
        for path in sorted((repo / folder).rglob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if isinstance(document, dict) and "apiVersion" in document and "kind" in document:
                    yield path.relative_to(repo).as_posix(), document


# -- golden files -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_generated_platform_files_match_goldens(
    pristine_repos: dict[str, Path], golden: Golden, request: pytest.FixtureRequest, engine: str
) -> None:
    repo = pristine_repos[engine]
    written = owned_files(repo)
    for relative in written:
        golden(f"repos/{engine}/{relative}", (repo / relative).read_text())
    if not request.config.getoption("--update-goldens"):
        base = GOLDEN_DIR / "repos" / engine
        kept = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        owned_goldens = [k for k in kept if k in OWNED or k.split("/")[0] in OWNED_DIRS]
        assert owned_goldens == written, "files were added or removed: refresh the goldens"


# -- upstream schemas -----------------------------------------------------------------


def upstream_schema(shared: Path, obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["apiVersion"] == "eksctl.io/v1alpha5":
        return json.loads((shared / "eksctl" / "clusterconfig_v1alpha5.json").read_text())
    group, _, version = obj["apiVersion"].rpartition("/")
    path = shared / "crds-strict" / group / f"{obj['kind'].lower()}_{version}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
        for e in validator(schema).iter_errors(instance)
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_static_object_validates_against_the_strict_upstream_schema(
    pristine_repos: dict[str, Path], shared_schemas: Path, engine: str
) -> None:
    repo = pristine_repos[engine]
    kinds_checked = set()
    failures = []
    for source, obj in objects(repo):
        schema = upstream_schema(shared_schemas, obj)
        if schema is None:
            assert obj["kind"] in CORE_KINDS, f"{source}: no upstream schema for {obj['kind']}"
            continue
        kinds_checked.add(obj["kind"])
        failures += [f"{source} {obj['kind']}: {error}" for error in schema_errors(schema, obj)]
    assert failures == []
    expected = {
        "argocd": {"ClusterConfig", "ClusterIssuer", "AppProject", "Application"},
        "flux": {
            "ClusterConfig",
            "ClusterIssuer",
            "GitRepository",
            "HelmRepository",
            "HelmRelease",
            "Kustomization",
        },
    }[engine]
    assert kinds_checked == expected


def test_the_strict_schemas_would_catch_a_misspelt_field(
    pristine_repos: dict[str, Path], shared_schemas: Path
) -> None:
    cluster = yaml.safe_load((pristine_repos["argocd"] / "cluster" / "staging.yaml").read_text())
    cluster["managedNodeGroups"][0]["instanceTypo"] = "m6i.large"
    assert schema_errors(upstream_schema(shared_schemas, cluster) or {}, cluster)
    issuers = load_all(pristine_repos["flux"] / "platform/cert-manager/cluster-issuers.yaml")
    issuers[0]["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClass"] = "istio"
    assert schema_errors(upstream_schema(shared_schemas, issuers[0]) or {}, issuers[0])


def test_gateway_values_validate_against_the_gateway_chart_schema(
    pristine_repos: dict[str, Path], shared_schemas: Path
) -> None:
    schema = json.loads((shared_schemas / "istio-charts/gateway/values.schema.json").read_text())
    values = yaml.safe_load(
        (pristine_repos["argocd"] / "platform/istio/gateway.values.yaml").read_text()
    )
    assert schema_errors(schema, values) == []
    assert schema_errors(schema, {**values, "servce": {}}), "the schema is strict at the top"


@pytest.mark.parametrize("chart", ["base", "istiod"])
def test_istio_values_use_keys_the_pinned_chart_knows(
    pristine_repos: dict[str, Path], shared_schemas: Path, chart: str
) -> None:
    upstream_text = (shared_schemas / "istio-charts" / chart / "values.yaml").read_text()
    defaults = yaml.safe_load(upstream_text)["_internal_defaults_do_not_set"]
    ours = yaml.safe_load(
        (pristine_repos["argocd"] / "platform" / "istio" / f"{chart}.values.yaml").read_text()
    )
    for key, value in ours.items():
        assert key in defaults, f"{chart}: {key} is not a value of the chart"
        if key == "base":
            for sub in value:
                # Documented as a commented-out default upstream, or (validationFailurePolicy)
                # read by the base chart's webhook template: test_platform_upstream.py
                # renders it and sees `Fail`.
                documented = sub in defaults["base"] or f"# {sub}:" in upstream_text
                assert documented or sub == "validationFailurePolicy", sub
        if key == "cni":
            # The 1.30 istiod chart reads `cni.enabled` at the top level (docs: pilot.cni.enabled).
            assert set(value) <= set(defaults["cni"]), value


# -- what the platform does -----------------------------------------------------------


def test_istiod_serves_ingresses_through_the_istio_gateway_release(
    pristine_repos: dict[str, Path],
) -> None:
    platform = pristine_repos["argocd"] / "platform" / "istio"
    istiod = yaml.safe_load((platform / "istiod.values.yaml").read_text())
    assert istiod["meshConfig"]["ingressSelector"] == "gateway"
    assert istiod["meshConfig"]["ingressService"] == "istio-gateway"
    assert istiod["env"]["K8S_INGRESS_NS"] == "istio-ingress"
    # Starting at Fail leaves istiod nothing to patch, so Argo CD sees no drift.
    assert istiod["base"]["validationFailurePolicy"] == "Fail"
    gateway = yaml.safe_load((platform / "gateway.values.yaml").read_text())
    annotations = gateway["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert 80 in [port["port"] for port in gateway["service"]["ports"]]


def test_istiod_leaves_traffic_redirection_to_the_chained_istio_cni_agent(
    pristine_repos: dict[str, Path],
) -> None:
    platform = pristine_repos["flux"] / "platform" / "istio"
    istiod = yaml.safe_load((platform / "istiod.values.yaml").read_text())
    # Without it istiod keeps injecting istio-init, and restricted namespaces reject pods.
    assert istiod["cni"] == {"enabled": True}
    cni = yaml.safe_load((platform / "cni.values.yaml").read_text())
    # On EKS the VPC CNI stays the primary plugin; Istio's is chained into its config.
    assert cni == {"chained": True, "cniBinDir": "/opt/cni/bin", "cniConfDir": "/etc/cni/net.d"}


def test_issuers_use_the_istio_class_and_the_acme_email_from_the_answers(
    tmp_path: Path, invoke: Invoke
) -> None:
    dest = tmp_path / "mesh"
    invoke(["new", str(dest), "--no-input", "--no-git", "--acme-email", "ops@acme.io"])
    folder = dest / "platform" / "cert-manager"
    issuers = by_name(load_all(folder / "cluster-issuers.yaml"))
    assert set(issuers) == {"letsencrypt-staging", "letsencrypt-production"}
    assert "acme-staging-v02" in issuers["letsencrypt-staging"]["spec"]["acme"]["server"]
    assert "acme-v02" in issuers["letsencrypt-production"]["spec"]["acme"]["server"]
    for issuer in issuers.values():
        acme = issuer["spec"]["acme"]
        assert acme["email"] == "ops@acme.io"
        assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "istio"}}}]
    (ingress_class,) = load_all(folder / "ingress-class.yaml")
    assert ingress_class["spec"]["controller"] == "istio.io/ingress-controller"
    values = yaml.safe_load((folder / "values.yaml").read_text())
    assert values["crds"]["enabled"] is True


def test_eksctl_cluster_config_per_environment(pristine_repos: dict[str, Path]) -> None:
    for environment in ("staging", "production"):
        config = yaml.safe_load(
            (pristine_repos["flux"] / "cluster" / f"{environment}.yaml").read_text()
        )
        assert config["metadata"]["name"] == f"acme-mesh-{environment}"
        assert config["metadata"]["version"] == "1.34"
        assert config["iam"]["withOIDC"] is True
        assert {a["name"] for a in config["addons"]} >= {"vpc-cni", "coredns", "kube-proxy"}
        assert config["managedNodeGroups"][0]["minSize"] >= 2
        (vpc_cni,) = [a for a in config["addons"] if a["name"] == "vpc-cni"]
        # Without it, the application namespaces' NetworkPolicies are accepted, not enforced.
        assert json.loads(vpc_cni["configurationValues"]) == {"enableNetworkPolicy": "true"}


@pytest.mark.parametrize("engine", ENGINES)
def test_only_the_apps_node_group_waits_for_the_istio_cni_agent(
    pristine_repos: dict[str, Path], engine: str
) -> None:
    repo = pristine_repos[engine]
    for environment in ("staging", "production"):
        config = yaml.safe_load((repo / "cluster" / f"{environment}.yaml").read_text())
        groups = {group["name"]: group for group in config["managedNodeGroups"]}
        assert set(groups) == {"system", "apps"}
        # The platform (CoreDNS, the GitOps engine, istiod) needs nodes before any agent
        # runs: a taint on every node would hold the bootstrap forever.
        assert "taints" not in groups["system"]
        assert groups["system"]["minSize"] >= 2
        assert groups["apps"]["taints"] == [
            {"key": "cni.istio.io/not-ready", "value": "true", "effect": "NoSchedule"}
        ]
    istiod = yaml.safe_load((repo / "platform/istio/istiod.values.yaml").read_text())
    # istiod's untaint controller lifts the taint once the agent is ready on the node.
    assert istiod["taint"] == {"enabled": True}
    assert istiod["cni"]["enabled"] is True


# The gateway's namespace is in the mesh, cert-manager's deliberately outside it.
PLATFORM_INJECTION = {"istio-ingress": "enabled", "cert-manager": "disabled"}


def test_platform_namespaces_carry_their_injection_decision(
    pristine_repos: dict[str, Path],
) -> None:
    argocd = pristine_repos["argocd"] / "gitops" / "argocd" / "environments"
    for environment in ("staging", "production"):
        applications = load_all(argocd / environment / "platform.yaml")
        created = {
            app["spec"]["destination"]["namespace"]: app["spec"]["syncPolicy"]
            for app in applications
            if "CreateNamespace=true" in app["spec"]["syncPolicy"]["syncOptions"]
        }
        for namespace, injection in PLATFORM_INJECTION.items():
            labels = created[namespace]["managedNamespaceMetadata"]["labels"]
            assert labels == {"istio-injection": injection}
    flux = pristine_repos["flux"] / "gitops" / "flux" / "platform-base"
    namespaces = by_name(load_all(flux / "namespaces.yaml"))
    assert {name: ns["metadata"]["labels"] for name, ns in namespaces.items()} == {
        name: {"istio-injection": injection} for name, injection in PLATFORM_INJECTION.items()
    }
    kustomization = yaml.safe_load((flux / "kustomization.yaml").read_text())
    assert "namespaces.yaml" in kustomization["resources"]
    # Helm would create the namespace unlabelled; the manifest is its only owner.
    for release in load_all(flux / "releases.yaml"):
        if release["spec"]["targetNamespace"] in PLATFORM_INJECTION:
            assert "createNamespace" not in release["spec"]["install"]
