"""What a generated repo holds outside the app chart: cluster, platform, GitOps, CI.

The objects must be valid for the upstream tools that read them (eksctl, Argo CD, Flux,
cert-manager, the Istio charts, GitHub Actions, pre-commit, yamllint), and wired so that
the engine brings an empty cluster to a working mesh in the right order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import GOLDEN_DIR, REAL_ANSWERS, Golden, Invoke

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


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs}


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


# -- repository tooling ---------------------------------------------------------------


def run_tool(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_workflow_config_and_yaml_pass_their_own_tools(
    pristine_repos: dict[str, Path], engine: str
) -> None:
    repo = pristine_repos[engine]
    checks = [
        ("check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/validate.yaml"),
        ("pre_commit", "validate-config", ".pre-commit-config.yaml"),
        ("yamllint", "--strict", "-c", ".yamllint.yaml", "."),
    ]  # fmt: skip
    for check in checks:
        result = run_tool(repo, *check)
        assert result.returncode == 0, f"{check}\n{result.stdout}\n{result.stderr}"


def test_yamllint_config_would_catch_a_problem(pristine_repos: dict[str, Path]) -> None:
    repo = pristine_repos["flux"]
    broken = repo.parent / "yamllint-check"
    broken.mkdir(exist_ok=True)
    (broken / ".yamllint.yaml").write_text((repo / ".yamllint.yaml").read_text())
    (broken / "bad.yaml").write_text("key: value\nkey: again\n")
    result = run_tool(broken, "yamllint", "--strict", "-c", ".yamllint.yaml", ".")
    assert result.returncode != 0
    assert "duplication of key" in result.stdout


def test_pre_commit_hooks_are_local_only(pristine_repos: dict[str, Path]) -> None:
    config = yaml.safe_load((pristine_repos["argocd"] / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    entries = {hook["id"]: hook["entry"] for hook in config["repos"][0]["hooks"]}
    assert entries == {"meshgen-validate": "meshgen validate", "yamllint": "yamllint --strict"}


def test_workflow_validates_every_pull_request_and_publishes_weights_and_diff(
    pristine_repos: dict[str, Path],
) -> None:
    workflow = yaml.safe_load(
        (pristine_repos["argocd"] / ".github" / "workflows" / "validate.yaml").read_text()
    )
    assert "pull_request" in workflow[True]  # PyYAML reads the key `on` as True
    steps = workflow["jobs"]["validate"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "meshgen validate" in scripts
    assert "meshgen weights show" in scripts
    assert 'meshgen diff --base "origin/$BASE_REF" --head HEAD --format markdown' in scripts
    assert "GITHUB_STEP_SUMMARY" in scripts
    assert "gh pr comment" in scripts
    assert workflow["jobs"]["validate"]["permissions"]["pull-requests"] == "write"
    # The findings reach code scanning.
    assert "meshgen validate --format sarif > meshgen.sarif" in scripts
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "meshgen.sarif"
    assert workflow["jobs"]["validate"]["permissions"]["security-events"] == "write"


def test_readme_walks_from_the_cluster_to_a_trusted_certificate_in_order(
    pristine_repos: dict[str, Path],
) -> None:
    def position(text: str, needle: str) -> int:
        assert needle in text, needle
        return text.index(needle)

    common_start = ["meshgen validate` must end", "eksctl create cluster -f cluster/staging.yaml"]
    common_end = [
        "kubectl -n istio-ingress get service istio-gateway",
        "kubectl -n istio-ingress get certificate --watch",
        "letsencrypt-production` gives the trusted one",
        "kubectl -n <env> logs first-app-test-traffic-split",
        "## Teardown",
        "kubectl -n istio-ingress delete service istio-gateway",
        "eksctl delete cluster -f cluster/<env>.yaml",
        "## Shifting traffic by pull request",
    ]
    engine_steps = {
        "argocd": [
            "manifests/install.yaml",
            "argocd cluster add",
            "kubectl apply -n argocd -f gitops/argocd/root.yaml",
            "argocd app sync <env>-first-app",
        ],
        "flux": [
            "flux install",
            "kubectl apply -f gitops/flux/clusters/staging/sync.yaml",
            "helm test first-app -n <env> --logs",
        ],
    }
    for engine, steps in engine_steps.items():
        readme = (pristine_repos[engine] / "README.md").read_text()
        ordered = [*common_start, *steps[:-1], *common_end[:3], steps[-1], *common_end[3:]]
        positions = [position(readme, step) for step in ordered]
        assert positions == sorted(positions), engine
        # Nothing sends a reader to the public `meshgen` project on PyPI, someone else's.
        assert "pypi.org/project/meshgen/" not in readme
        assert "pip install meshgen-gitops==0.1.0" in readme


def test_install_instructions_name_the_distribution_and_the_generating_version(
    pristine_repos: dict[str, Path],
) -> None:
    repo = pristine_repos["flux"]
    pre_commit = (repo / ".pre-commit-config.yaml").read_text()
    assert "pip install meshgen-gitops==0.1.0 yamllint" in pre_commit
    assert "pip install meshgen " not in pre_commit
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "validate.yaml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    (install,) = [s for s in steps if s.get("name") == "Install meshgen and yamllint"]
    # The pinned distribution by default; MESHGEN_PIP_SPEC still overrides it.
    assert '"${MESHGEN_PIP_SPEC:-meshgen-gitops==0.1.0}"' in install["run"]
    assert install["env"]["MESHGEN_PIP_SPEC"] == "${{ vars.MESHGEN_PIP_SPEC }}"
    (python,) = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert python["with"]["cache"] == "pip"


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


def test_validate_reads_each_environment_s_platform_values_over_the_common_ones(
    repo_copy: Callable[[str], Path], invoke: Invoke
) -> None:
    repo = repo_copy("flux")
    production = repo / "platform" / "istio" / "production" / "gateway.values.yaml"
    production.write_text(production.read_text() + "labels:\n  istio: edge\n")
    result = invoke(["-C", str(repo), "validate", "--select", "MG405"], expect=1)
    findings = [line for line in result.stdout.splitlines() if " MG405 " in line]
    # Production's gateway pods are labelled istio=edge; staging keeps istio=gateway.
    assert len(findings) == 1, result.stdout
    assert "[production] Gateway/istio-ingress/first-app-production" in findings[0]
    assert "installed gateways: istio=edge" in findings[0]


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
