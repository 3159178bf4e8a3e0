"""The optional platform parts: the AWS Load Balancer Controller and external-dns.

No upstream chart of these is kept beside the project, so the tests check what meshgen
writes: the eksctl ClusterConfig (its upstream schema), the GitOps objects of both
engines and their values files, and that `meshgen validate` finds nothing.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REAL_DOMAIN, REAL_EMAIL, Invoke
from helpers import by_name, load_all
from test_platform import objects, schema_errors, upstream_schema
from upstream_releases import SHARED_CHARTS, split_manifests, values_of

ENGINES = ("argocd", "flux")
ENVIRONMENTS = ("staging", "production")
LBC = "aws-load-balancer-controller"
EXTERNAL_DNS = "external-dns"
LBC_REPO = "https://aws.github.io/eks-charts"
EXTERNAL_DNS_REPO = "https://kubernetes-sigs.github.io/external-dns/"


@pytest.fixture(scope="module")
def with_addons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One repository per engine with both optional parts."""
    from meshgen.scaffold import answers_from_mapping, generate

    base = tmp_path_factory.mktemp("addons")
    repos = {}
    for engine in ENGINES:
        answers = answers_from_mapping(
            {
                "name": "acme-mesh",
                "gitops": engine,
                "domain": REAL_DOMAIN,
                "acme_email": REAL_EMAIL,
                "aws_load_balancer_controller": True,
                "external_dns": True,
            }
        )
        repos[engine] = generate(answers, base / engine, git=False).path
    return repos


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _pins(repo: Path) -> dict[str, str]:
    return {key: str(value) for key, value in _yaml(repo / "meshgen.yaml")["versions"].items()}


# -- off unless asked for -------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_the_parts_are_off_unless_asked_for(pristine_repos: dict[str, Path], engine: str) -> None:
    repo = pristine_repos[engine]
    assert not (repo / "platform" / LBC).exists()
    assert not (repo / "platform" / EXTERNAL_DNS).exists()
    assert set(_pins(repo)) == {"istio", "certManager"}
    for env in ENVIRONMENTS:
        assert "podIdentityAssociations" not in _yaml(repo / "cluster" / f"{env}.yaml")["iam"]
    text = "\n".join(p.read_text() for p in (repo / "gitops").rglob("*.yaml"))
    assert LBC not in text
    assert EXTERNAL_DNS not in text
    annotations = _yaml(repo / "platform/istio/gateway.values.yaml")["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"


# -- the cluster ----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_each_controller_gets_its_role_through_pod_identity(
    with_addons: dict[str, Path], engine: str
) -> None:
    for env in ENVIRONMENTS:
        config = _yaml(with_addons[engine] / "cluster" / f"{env}.yaml")
        assert "eks-pod-identity-agent" in {addon["name"] for addon in config["addons"]}
        associations = {
            (a["namespace"], a["serviceAccountName"]): a["wellKnownPolicies"]
            for a in config["iam"]["podIdentityAssociations"]
        }
        assert associations == {
            ("kube-system", LBC): {"awsLoadBalancerController": True},
            (EXTERNAL_DNS, EXTERNAL_DNS): {"externalDNS": True},
        }
        # The charts make the service accounts the associations name (eksctl makes none:
        # two owners of one ServiceAccount would fail the Helm install).
        assert not any(
            a.get("createServiceAccount") for a in config["iam"]["podIdentityAssociations"]
        )
        for part in (LBC, EXTERNAL_DNS):
            values = _yaml(with_addons[engine] / "platform" / part / "values.yaml")
            assert values["serviceAccount"] == {"create": True, "name": part}, part


@pytest.mark.parametrize("engine", ENGINES)
def test_static_objects_match_the_strict_upstream_schemas(
    with_addons: dict[str, Path], shared_schemas: Path, engine: str
) -> None:
    failures = []
    checked = 0
    for source, obj in objects(with_addons[engine]):
        schema = upstream_schema(shared_schemas, obj)
        if schema is not None:
            checked += 1
            failures += [f"{source} {obj['kind']}: {e}" for e in schema_errors(schema, obj)]
    assert failures == []
    assert checked > 10


# -- values ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_values_name_each_environment_s_cluster_and_owner(
    with_addons: dict[str, Path], engine: str
) -> None:
    repo = with_addons[engine]
    dns = _yaml(repo / "platform" / EXTERNAL_DNS / "values.yaml")
    assert dns["provider"] == {"name": "aws"}
    assert dns["sources"] == ["istio-gateway"]
    assert dns["domainFilters"] == [REAL_DOMAIN]
    assert dns["policy"] == "upsert-only"
    for env in ENVIRONMENTS:
        cluster = _yaml(repo / "cluster" / f"{env}.yaml")["metadata"]["name"]
        assert _yaml(repo / "platform" / LBC / env / "values.yaml") == {"clusterName": cluster}
        assert _yaml(repo / "platform" / EXTERNAL_DNS / env / "values.yaml") == {
            "txtOwnerId": cluster
        }


@pytest.mark.parametrize("engine", ENGINES)
def test_the_gateway_load_balancer_is_the_controller_s_with_ip_targets(
    with_addons: dict[str, Path], engine: str
) -> None:
    service = _yaml(with_addons[engine] / "platform/istio/gateway.values.yaml")["service"]
    prefix = "service.beta.kubernetes.io/aws-load-balancer-"
    annotations = {key.removeprefix(prefix): value for key, value in service["annotations"].items()}
    assert annotations["type"] == "external"
    assert annotations["nlb-target-type"] == "ip"
    assert annotations["scheme"] == "internet-facing"
    assert "preserve_client_ip.enabled=true" in annotations["target-group-attributes"]
    # Health checked on the status port, which stays off the public listeners.
    assert annotations["healthcheck-port"] == "15021"
    assert 15021 not in {port["port"] for port in service["ports"]}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_upstream_gateway_chart_puts_the_annotations_on_its_service(
    with_addons: dict[str, Path], environment: str
) -> None:
    archive = SHARED_CHARTS / "gateway-1.30.3.tgz"
    if not archive.is_file():
        pytest.skip(f"{archive} is absent: the gateway chart is not rendered here")
    import helm_python

    helm_python.disable_logging()
    istio = with_addons["argocd"] / "platform" / "istio"
    values = values_of(
        (istio / "gateway.values.yaml").read_text(),
        (istio / environment / "gateway.values.yaml").read_text(),
    )
    manifests = helm_python.Chart.load(archive).render(
        values, name="istio-gateway", namespace="istio-ingress", is_install=True
    )
    (service,) = [
        obj
        for source, text in manifests.items()
        if source.endswith((".yaml", ".yml"))
        for obj in split_manifests(text)
        if obj.get("kind") == "Service"
    ]
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
    assert service["spec"]["type"] == "LoadBalancer"
    assert {port["port"] for port in service["spec"]["ports"]} == {80, 443}


# -- Argo CD --------------------------------------------------------------------------


def test_argo_cd_installs_both_per_environment_before_they_are_needed(
    with_addons: dict[str, Path],
) -> None:
    repo = with_addons["argocd"]
    pins = _pins(repo)
    project = _yaml(repo / "gitops/argocd/apps/project.yaml")["spec"]
    allowed = {(d["name"], d["namespace"]) for d in project["destinations"]}
    for env in ENVIRONMENTS:
        apps = by_name(load_all(repo / f"gitops/argocd/environments/{env}/platform.yaml"))
        waves = {
            name: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            for name, a in apps.items()
        }
        for part, repo_url, pin, namespace in (
            (LBC, LBC_REPO, pins["awsLoadBalancerController"], "kube-system"),
            (EXTERNAL_DNS, EXTERNAL_DNS_REPO, pins["externalDns"], EXTERNAL_DNS),
        ):
            spec = apps[f"{env}-{part}"]["spec"]
            chart, values = spec["sources"]
            assert (chart["repoURL"], chart["chart"], chart["targetRevision"]) == (
                repo_url,
                part,
                pin,
            )
            assert chart["helm"]["valueFiles"] == [
                f"$values/platform/{part}/values.yaml",
                f"$values/platform/{part}/{env}/values.yaml",
            ]
            for value_file in chart["helm"]["valueFiles"]:
                assert (repo / value_file.removeprefix("$values/")).is_file()
            assert values["ref"] == "values"
            assert spec["destination"] == {"name": f"acme-mesh-{env}", "namespace": namespace}
            assert (spec["destination"]["name"], namespace) in allowed
            assert repo_url in project["sourceRepos"]
            assert spec["syncPolicy"]["retry"]["limit"] == -1
        # The controller runs before the gateway Service asks it for a load balancer;
        # external-dns after the gateway whose address it publishes.
        assert waves[f"{env}-{LBC}"] < waves[f"{env}-istio-gateway"]
        assert waves[f"{env}-{EXTERNAL_DNS}"] > waves[f"{env}-istio-gateway"]
        # The chart's webhook certificate, made anew at every render, is not drift.
        ignored = {i["kind"] for i in apps[f"{env}-{LBC}"]["spec"]["ignoreDifferences"]}
        assert ignored == {
            "Secret",
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        }
        assert (
            "RespectIgnoreDifferences=true"
            in apps[f"{env}-{LBC}"]["spec"]["syncPolicy"]["syncOptions"]
        )


def test_argo_cd_project_needs_no_other_cluster_scoped_kind(with_addons: dict[str, Path]) -> None:
    repo = with_addons["argocd"]
    kinds = {
        k["kind"]
        for k in _yaml(repo / "gitops/argocd/apps/project.yaml")["spec"]["clusterResourceWhitelist"]
    }
    # The controller's CRDs, webhooks and cluster roles are already listed; it is told to
    # make no IngressClass (nor its parameters), which the list would otherwise need.
    assert {"CustomResourceDefinition", "MutatingWebhookConfiguration", "ClusterRole"} <= kinds
    values = _yaml(repo / "platform" / LBC / "values.yaml")
    assert values["createIngressClassResource"] is False
    assert values["ingressClassParams"] == {"create": False}
    assert "IngressClassParams" not in kinds


# -- Flux -----------------------------------------------------------------------------


def _configmap_files(kustomization: Path) -> dict[str, Path]:
    """ConfigMap name -> the values file it is generated from."""
    found = {}
    for generator in _yaml(kustomization).get("configMapGenerator", []):
        (entry,) = generator["files"]
        found[generator["name"]] = Path(
            posixpath.normpath(kustomization.parent / entry.partition("=")[2])
        )
    return found


def test_flux_releases_read_common_then_environment_values(with_addons: dict[str, Path]) -> None:
    repo = with_addons["flux"]
    pins = _pins(repo)
    platform = repo / "gitops/flux/platform-base"
    releases = by_name(load_all(platform / "releases.yaml"))
    repositories = {
        r["metadata"]["name"]: r["spec"]["url"] for r in load_all(platform / "repositories.yaml")
    }
    common = _configmap_files(platform / "kustomization.yaml")
    for part, repo_url, pin, namespace in (
        (LBC, LBC_REPO, pins["awsLoadBalancerController"], "kube-system"),
        (EXTERNAL_DNS, EXTERNAL_DNS_REPO, pins["externalDns"], EXTERNAL_DNS),
    ):
        spec = releases[part]["spec"]
        chart = spec["chart"]["spec"]
        assert (chart["chart"], chart["version"]) == (part, pin)
        assert repositories[chart["sourceRef"]["name"]] == repo_url
        assert spec["targetNamespace"] == namespace
        maps = [v["name"] for v in spec["valuesFrom"]]
        assert maps == [f"{part}-values", f"{part}-environment-values"]
        assert common[maps[0]] == repo / "platform" / part / "values.yaml"
        for env in ENVIRONMENTS:
            own = _configmap_files(repo / "gitops/flux/platform" / env / "kustomization.yaml")
            assert own[maps[1]] == repo / "platform" / part / env / "values.yaml"
            assert own[maps[1]].is_file()
    gateway_needs = {d["name"] for d in releases["istio-gateway"]["spec"]["dependsOn"]}
    assert LBC in gateway_needs


# -- the whole repository -------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_repository_with_both_validates_clean(
    with_addons: dict[str, Path], invoke: Invoke, engine: str
) -> None:
    result = invoke(["-C", str(with_addons[engine]), "validate"])
    assert result.stdout.splitlines()[-1].startswith("0 errors, 0 warnings")


def test_the_switches_come_from_options_or_the_config_file(tmp_path: Path, invoke: Invoke) -> None:
    real = ["--domain", REAL_DOMAIN, "--acme-email", REAL_EMAIL, "--no-input", "--no-git"]
    invoke(["new", str(tmp_path / "flags"), "--aws-load-balancer-controller", *real])
    assert (tmp_path / "flags/platform" / LBC).is_dir()
    assert not (tmp_path / "flags/platform" / EXTERNAL_DNS).exists()

    answers = tmp_path / "answers.yaml"
    answers.write_text("gitops: flux\nawsLoadBalancerController: false\nexternalDns: true\n")
    invoke(["new", str(tmp_path / "file"), "--config-file", str(answers), *real])
    assert set(_pins(tmp_path / "file")) == {"istio", "certManager", "externalDns"}
    # An option wins over the file.
    invoke(
        ["new", str(tmp_path / "both"), "--config-file", str(answers), "--no-external-dns", *real]
    )
    assert set(_pins(tmp_path / "both")) == {"istio", "certManager"}


@pytest.mark.parametrize(("value", "read_as"), [('"true"', "the text"), ("1", "the number 1")])
def test_a_switch_must_be_true_or_false(
    tmp_path: Path, invoke: Invoke, value: str, read_as: str
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"name: acme\nexternalDns: {value}\n")
    result = invoke(
        ["new", str(tmp_path / "out"), "--config-file", str(answers), "--no-input"], expect=2
    )
    assert "answers.yaml:2" in result.stderr
    assert f"`externalDns` must be true or false, but YAML reads it as {read_as}" in result.stderr
    assert not (tmp_path / "out").exists()
