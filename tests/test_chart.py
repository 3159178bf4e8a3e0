"""The first-app chart: what each environment deploys, and which values it refuses.

Renders go through meshgen's own render path (embedded Helm SDK, install order), with
the default environment files that `meshgen new` copies, so what is checked here is what
a generated repository deploys.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yamale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Golden
from meshgen import resources, yamlio
from meshgen.errors import TemplateError
from meshgen.helm.sdk import EmbeddedHelm
from meshgen.render import Manifest, Rendering, render_app
from meshgen.repo import App, Environment, Repo
from meshgen.severity import Severity
from meshgen.traffic.weights import weight_problems
from meshgen.validate.schemas import meshgen_files
from meshgen.validate.schemas.kube import KubeSchemas, is_core_api

KUBERNETES_VERSION = "1.34"
DEFAULT_ENVIRONMENTS = ("staging", "production")
CHART = "charts/first-app"
HEADER = "x-first-app-version"

_BACKEND = EmbeddedHelm()


# -- helpers ---------------------------------------------------------------------------


def default_values(environment: str) -> dict[str, Any]:
    """The environment file `meshgen new` writes for `environment`, as Helm values."""
    path = resources.environments_dir() / "defaults" / f"{environment}.yaml"
    return dict(yamlio.to_plain(yamlio.load_roundtrip(path)))


def render(values: Mapping[str, Any], namespace: str = "staging") -> Rendering:
    repo = Repo(
        root=resources.data_root(),
        name="acme-mesh",
        gitops="argocd",
        kubernetes_version=KUBERNETES_VERSION,
        environments=(Environment(namespace, namespace, "acme-mesh"),),
        apps=(App("first-app", CHART),),
    )
    return render_app(repo, repo.environments[0], repo.apps[0], _BACKEND, values)


def objects(values: Mapping[str, Any], namespace: str = "staging") -> list[Manifest]:
    return list(render(values, namespace).manifests)


def of_kind(manifests: list[Manifest], kind: str) -> list[Mapping[str, Any]]:
    return [m.data for m in manifests if m.kind == kind]


def version(image_suffix: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "image": {
            "repository": f"registry.istio.io/release/examples-helloworld-{image_suffix}",
            "tag": "1.0",
        },
        "replicas": replicas,
    }


def three_versions() -> dict[str, Any]:
    values = default_values("staging")
    values["versions"]["v3"] = version("v2", replicas=2)
    values["traffic"] = {"v1": 80, "v2": 15, "v3": 5}
    return values


def one_version() -> dict[str, Any]:
    values = default_values("staging")
    values["versions"] = {"v1": version("v1")}
    values["traffic"] = {"v1": 100}
    return values


SCENARIOS = {
    "staging": lambda: default_values("staging"),
    "production": lambda: default_values("production"),
    "three-versions": three_versions,
    "one-version": one_version,
}


def weighted_route(service_route: Mapping[str, Any]) -> Mapping[str, Any]:
    (route,) = [r for r in service_route["spec"]["http"] if r.get("name") == "weighted"]
    return route


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for manifest in manifests:
        if manifest.kind == "Deployment":
            yield manifest.ref, manifest.data["spec"]["template"]["spec"]
        elif manifest.kind == "Pod":
            yield manifest.ref, manifest.data["spec"]


# -- golden files ----------------------------------------------------------------------


@pytest.mark.parametrize("environment", DEFAULT_ENVIRONMENTS)
def test_default_environment_renders_as_reviewed(environment: str, golden: Golden) -> None:
    rendering = render(default_values(environment), namespace=environment)
    golden(f"chart/{environment}.yaml", rendering.to_yaml())


def test_staging_holds_every_object_of_the_seed() -> None:
    manifests = objects(default_values("staging"))
    assert [m.ref for m in manifests] == [
        "NetworkPolicy/staging/first-app-default-deny",
        "NetworkPolicy/staging/first-app-mesh",
        "NetworkPolicy/staging/first-app",
        "NetworkPolicy/staging/first-app-callers",
        "ServiceAccount/staging/first-app",
        "ServiceAccount/staging/first-app-client",
        "Service/staging/first-app",
        "Deployment/staging/first-app-client",
        "Deployment/staging/first-app-v1",
        "Deployment/staging/first-app-v2",
        "AuthorizationPolicy/staging/first-app-allow-nothing",
        "AuthorizationPolicy/staging/first-app",
        "Certificate/istio-ingress/first-app-staging-tls",
        "DestinationRule/staging/first-app",
        "Gateway/istio-ingress/first-app-staging",
        "PeerAuthentication/staging/first-app",
        "VirtualService/staging/first-app",
        "Pod/staging/first-app-test-traffic-split",
    ]


def test_staging_routes_and_selects_as_in_the_seed() -> None:
    manifests = objects(default_values("staging"))
    # The GitOps layer creates the namespace: uninstalling the release must not delete it.
    assert not of_kind(manifests, "Namespace")

    deployments = {d["metadata"]["name"]: d for d in of_kind(manifests, "Deployment")}
    for name in ("v1", "v2"):
        pod_labels = deployments[f"first-app-{name}"]["spec"]["template"]["metadata"]["labels"]
        assert pod_labels == {"app": "first-app", "version": name}
    client = deployments["first-app-client"]["spec"]["template"]["spec"]
    assert client["containers"][0]["image"].startswith("docker.io/curlimages/curl:")
    assert client["containers"][0]["command"] == ["/bin/sleep", "infinity"]

    (service,) = of_kind(manifests, "Service")
    assert service["spec"]["selector"] == {"app": "first-app"}
    # Istio picks the protocol from the port name (http, http-*) or appProtocol.
    assert [(p["name"], p["appProtocol"]) for p in service["spec"]["ports"]] == [("http", "http")]

    (rule,) = of_kind(manifests, "DestinationRule")
    assert rule["spec"]["host"] == "first-app.staging.svc.cluster.local"
    assert {s["name"]: s["labels"] for s in rule["spec"]["subsets"]} == {
        "v1": {"version": "v1"},
        "v2": {"version": "v2"},
    }

    (service_route,) = of_kind(manifests, "VirtualService")
    assert service_route["spec"]["hosts"] == [
        "first-app.staging.svc.cluster.local",
        "first-app.staging.example.com",
    ]
    assert service_route["spec"]["gateways"] == ["mesh", "istio-ingress/first-app-staging"]
    split = {
        r["destination"]["subset"]: r["weight"] for r in weighted_route(service_route)["route"]
    }
    assert split == {"v1": 100, "v2": 0}

    (gateway,) = of_kind(manifests, "Gateway")
    assert gateway["metadata"]["namespace"] == "istio-ingress"
    assert gateway["spec"]["selector"] == {"istio": "gateway"}
    servers = {s["port"]["number"]: s for s in gateway["spec"]["servers"]}
    assert servers[80]["port"]["protocol"] == "HTTP"
    # A redirect on port 80 would break ACME HTTP-01 renewals.
    assert "tls" not in servers[80]
    assert servers[443]["tls"]["mode"] == "SIMPLE"
    secret = servers[443]["tls"]["credentialName"]

    (certificate,) = of_kind(manifests, "Certificate")
    assert certificate["metadata"]["namespace"] == "istio-ingress"
    assert certificate["spec"]["secretName"] == secret
    assert certificate["spec"]["dnsNames"] == ["first-app.staging.example.com"]
    assert certificate["spec"]["issuerRef"] == {
        "group": "cert-manager.io",
        "kind": "ClusterIssuer",
        "name": "letsencrypt-staging",
    }

    (peer_authentication,) = of_kind(manifests, "PeerAuthentication")
    assert peer_authentication["spec"]["mtls"] == {"mode": "STRICT"}
    assert peer_authentication["spec"]["mtls"] == {"mode": "STRICT"}


def test_production_is_issued_by_lets_encrypt_production_and_guards_drains() -> None:
    manifests = objects(default_values("production"), namespace="production")
    (certificate,) = of_kind(manifests, "Certificate")
    assert certificate["spec"]["issuerRef"]["name"] == "letsencrypt-production"
    budgets = {b["metadata"]["name"]: b["spec"] for b in of_kind(manifests, "PodDisruptionBudget")}
    assert budgets == {
        f"first-app-{name}": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app": "first-app", "version": name}},
        }
        for name in ("v1", "v2")
    }


# -- any number of versions ------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["three-versions", "one-version"])
def test_every_version_gets_a_deployment_a_subset_and_routes(scenario: str) -> None:
    values = SCENARIOS[scenario]()
    manifests = objects(values)
    names = sorted(values["versions"])

    deployments = {
        d["metadata"]["labels"]["version"]: d
        for d in of_kind(manifests, "Deployment")
        if d["metadata"]["labels"].get("app") == "first-app"
    }
    assert sorted(deployments) == names
    for name, spec in values["versions"].items():
        deployment = deployments[name]
        assert deployment["spec"]["replicas"] == spec["replicas"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        image = spec["image"]
        assert container["image"] == f"{image['repository']}:{image['tag']}"

    (rule,) = of_kind(manifests, "DestinationRule")
    assert [s["name"] for s in rule["spec"]["subsets"]] == names

    (service_route,) = of_kind(manifests, "VirtualService")
    split = {
        r["destination"]["subset"]: r["weight"] for r in weighted_route(service_route)["route"]
    }
    assert split == values["traffic"]


def test_a_version_at_weight_zero_stays_reachable_by_header() -> None:
    (service_route,) = of_kind(objects(default_values("staging")), "VirtualService")
    routes = service_route["spec"]["http"]
    # Istio tries routes in order: the header routes must come before the weighted one.
    assert routes[-1]["name"] == "weighted"
    by_header = {
        r["match"][0]["headers"][HEADER]["exact"]: r["route"][0]["destination"]["subset"]
        for r in routes[:-1]
    }
    assert by_header == {"v1": "v1", "v2": "v2"}
    for route in routes:
        for destination in route["route"]:
            # Every answer says which version gave it: what the Helm test counts.
            set_headers = destination["headers"]["response"]["set"]
            assert set_headers == {HEADER: destination["destination"]["subset"]}


def test_a_version_scaled_to_zero_without_traffic_renders() -> None:
    values = default_values("staging")
    values["versions"]["v2"]["replicas"] = 0
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects(values), "Deployment")}
    assert deployments["first-app-v2"]["spec"]["replicas"] == 0


def test_an_image_digest_pins_the_image() -> None:
    values = default_values("staging")
    digest = "sha256:" + "ab" * 32
    values["versions"]["v1"]["image"]["digest"] = digest
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects(values), "Deployment")}
    (container,) = deployments["first-app-v1"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"registry.istio.io/release/examples-helloworld-v1:1.0@{digest}"


def _pieces(cuts: list[int]) -> list[int]:
    """100 cut at `cuts`: the lengths of the pieces, in order."""
    bounds = [0, *sorted(cuts), 100]
    return [end - start for start, end in pairwise(bounds)]


weights_summing_to_100 = st.lists(st.integers(min_value=0, max_value=100), max_size=5).map(_pieces)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weights=weights_summing_to_100)
def test_any_split_summing_to_100_is_rendered_as_written(weights: list[int]) -> None:
    values = default_values("staging")
    values["versions"] = {f"v{i + 1}": version("v1") for i in range(len(weights))}
    values["traffic"] = {f"v{i + 1}": weight for i, weight in enumerate(weights)}
    (service_route,) = of_kind(objects(values), "VirtualService")
    split = {
        r["destination"]["subset"]: r["weight"] for r in weighted_route(service_route)["route"]
    }
    assert split == values["traffic"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weights=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5))
def test_any_split_not_summing_to_100_is_refused(weights: list[int]) -> None:
    values = default_values("staging")
    values["versions"] = {f"v{i + 1}": version("v1") for i in range(len(weights))}
    values["traffic"] = {f"v{i + 1}": weight for i, weight in enumerate(weights)}
    if sum(weights) == 100:
        objects(values)
    else:
        with pytest.raises(TemplateError, match=f"weights sum to {sum(weights)}, not 100"):
            objects(values)


# -- namespace -------------------------------------------------------------------------


def test_namespace_is_labelled_for_injection_by_label_or_by_revision_never_both() -> None:
    values = default_values("staging")
    values["namespace"] = {"create": True}  # installed by hand, without a GitOps engine
    (namespace,) = of_kind(objects(values), "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["istio-injection"] == "enabled"
    assert "istio.io/rev" not in labels

    values["namespace"] = {"create": True, "istioRevision": "1-30-3"}
    (namespace,) = of_kind(objects(values), "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["istio.io/rev"] == "1-30-3"
    assert "istio-injection" not in labels


def test_namespace_enforces_the_chosen_pod_security_level_and_warns_at_restricted() -> None:
    values = default_values("staging")
    values["namespace"] = {"create": True}  # installed by hand, without a GitOps engine
    (namespace,) = of_kind(objects(values), "Namespace")
    labels = namespace["metadata"]["labels"]
    # Generated repos run Istio CNI, so injected pods carry no istio-init and comply.
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"

    # A mesh without Istio CNI injects istio-init (NET_ADMIN): it must enforce less.
    values["namespace"] = {"create": True, "podSecurityEnforce": "privileged"}
    (namespace,) = of_kind(objects(values), "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_release_owns_no_namespace_but_secures_its_own_pods() -> None:
    manifests = objects(default_values("staging"))
    assert not of_kind(manifests, "Namespace")
    (peer,) = of_kind(manifests, "PeerAuthentication")
    # Scoped to the application: other releases may share the namespace.
    assert peer["spec"] == {
        "selector": {"matchLabels": {"app": "first-app"}},
        "mtls": {"mode": "STRICT"},
    }


def test_without_a_host_routing_stays_inside_the_mesh() -> None:
    values = default_values("staging")
    del values["host"]
    manifests = objects(values)
    assert not of_kind(manifests, "Gateway")
    assert not of_kind(manifests, "Certificate")
    (service_route,) = of_kind(manifests, "VirtualService")
    assert service_route["spec"]["gateways"] == ["mesh"]
    assert service_route["spec"]["hosts"] == ["first-app.staging.svc.cluster.local"]


# -- Pod Security Standard "restricted" ------------------------------------------------

_RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_violations(pod: Mapping[str, Any]) -> list[str]:
    """The "restricted" controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/."""
    found = [key for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= _RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}: {sorted(kinds)}")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        found += [
            f"{container['name']}: {problem}"
            for problem in _container_violations(container, pod.get("securityContext", {}))
        ]
    return found


def _container_violations(
    container: Mapping[str, Any], pod_context: Mapping[str, Any]
) -> Iterator[str]:
    context = container.get("securityContext", {})

    def effective(key: str) -> Any:
        return context.get(key, pod_context.get(key))

    if context.get("privileged"):
        yield "privileged"
    if context.get("allowPrivilegeEscalation") is not False:
        yield "allowPrivilegeEscalation not false"
    if effective("runAsNonRoot") is not True or effective("runAsUser") == 0:
        yield "may run as root"
    if (effective("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        yield "seccompProfile not RuntimeDefault"
    capabilities = context.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []):
        yield "capabilities not dropped"
    if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
        yield "capabilities added"
    if any(port.get("hostPort") for port in container.get("ports", [])):
        yield "hostPort"
    if context.get("readOnlyRootFilesystem") is not True:
        yield "root filesystem writable"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_pod_meets_the_restricted_pod_security_standard(scenario: str) -> None:
    pods = dict(pod_specs(objects(SCENARIOS[scenario]())))
    # The versions, the client and the Helm test pod.
    assert len(pods) == len(SCENARIOS[scenario]()["versions"]) + 2
    for ref, pod in pods.items():
        assert restricted_violations(pod) == [], ref


def test_the_restricted_check_finds_a_violation() -> None:
    pod = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": True}}],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
    }
    assert restricted_violations(pod) == [
        "volume host: ['hostPath']",
        "app: allowPrivilegeEscalation not false",
        "app: capabilities not dropped",
        "app: root filesystem writable",
    ]


def test_workloads_run_under_their_own_service_accounts_without_api_tokens() -> None:
    manifests = objects(default_values("staging"))
    accounts = {a["metadata"]["name"]: a for a in of_kind(manifests, "ServiceAccount")}
    for ref, pod in pod_specs(manifests):
        assert pod["serviceAccountName"] in accounts, ref
        assert pod["automountServiceAccountToken"] is False, ref
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())


def test_application_containers_have_probes_and_resources() -> None:
    values = default_values("staging")
    values["versions"]["v2"]["resources"] = {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects(values), "Deployment")}
    for name in ("first-app-v1", "first-app-v2"):
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        # /health answers at once; /hello does the application's (CPU-bound) work.
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
        assert container["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]
    (v1,) = deployments["first-app-v1"]["spec"]["template"]["spec"]["containers"]
    (v2,) = deployments["first-app-v2"]["spec"]["template"]["spec"]["containers"]
    assert v1["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert v2["resources"] == {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}


# -- strict schemas --------------------------------------------------------------------


@cache
def _kube_schemas() -> KubeSchemas:
    return KubeSchemas(KUBERNETES_VERSION)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_core_objects_match_the_strict_kubernetes_schemas(scenario: str) -> None:
    schemas = _kube_schemas()
    core = [m for m in objects(SCENARIOS[scenario]()) if is_core_api(m.api_version)]
    assert core
    for manifest in core:
        validator = schemas.validator(manifest.api_version, manifest.kind)
        assert validator is not None, f"no Kubernetes schema for {manifest.ref}"
        errors = [e.message for e in validator.iter_errors(manifest.data)]
        assert errors == [], manifest.ref


def test_the_strict_kubernetes_schemas_refuse_an_unknown_field() -> None:
    (service,) = [m for m in objects(default_values("staging")) if m.kind == "Service"]
    damaged = copy.deepcopy(dict(service.data))
    damaged["spec"]["portz"] = []
    validator = _kube_schemas().validator("v1", "Service")
    assert validator is not None
    assert list(validator.iter_errors(damaged))


def _crd_validator(shared: Path, manifest: Manifest) -> jsonschema.protocols.Validator:
    group, _, api_version = manifest.api_version.rpartition("/")
    path = shared / "crds-strict" / group / f"{manifest.kind.lower()}_{api_version}.json"
    assert path.is_file(), f"no upstream schema for {manifest.kind} {manifest.api_version}"
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_custom_resources_match_the_strict_upstream_crd_schemas(
    scenario: str, shared_schemas: Path
) -> None:
    custom = [m for m in objects(SCENARIOS[scenario]()) if not is_core_api(m.api_version)]
    assert {m.kind for m in custom} == {
        "AuthorizationPolicy",
        "Certificate",
        "DestinationRule",
        "Gateway",
        "PeerAuthentication",
        "VirtualService",
    }
    for manifest in custom:
        errors = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _crd_validator(shared_schemas, manifest).iter_errors(manifest.data)
        ]
        assert errors == [], manifest.ref


def test_the_strict_crd_schemas_refuse_an_unknown_field(shared_schemas: Path) -> None:
    (service_route,) = [m for m in objects(default_values("staging")) if m.kind == "VirtualService"]
    damaged = copy.deepcopy(dict(service_route.data))
    damaged["spec"]["http"][-1]["route"][0]["wieght"] = 10
    assert list(_crd_validator(shared_schemas, service_route).iter_errors(damaged))


# -- values the chart refuses ----------------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    values = default_values("staging")
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return values


# Environment files the chart refuses, with what Helm says: values.schema.json for
# single values, the chart's own checks for rules across keys.
REFUSED = {
    "weights-not-summing-to-100": (
        _with(traffic={"v1": 90, "v2": 20}),
        "traffic: weights sum to 110, not 100 (v1=90 + v2=20)",
    ),
    "weight-on-undefined-version": (
        _with(traffic={"v1": 100, "v3": 0}),
        "traffic.v3: weight given for v3, which is not under `versions:` (defined: v1, v2)",
    ),
    "weight-above-100": (
        _with(traffic={"v1": 101, "v2": -1}),
        "at '/traffic/v1': maximum: got 101, want 100",
    ),
    "fractional-weight": (
        _with(traffic={"v1": 99.5, "v2": 0.5}),
        "at '/traffic/v1': got number, want integer",
    ),
    "bad-host": (_with(host="First_App.example.com"), "at '/host': 'anyOf' failed"),
    "wildcard-host": (_with(host="*.example.com"), "at '/host': 'anyOf' failed"),
    "negative-replicas": (
        _with(versions__v1__replicas=-1),
        "at '/versions/v1/replicas': minimum: got -1, want 0",
    ),
    "version-name-not-a-dns-label": (
        _with(versions__V_1=version("v1"), traffic={"v1": 100, "V_1": 0}),
        "invalid propertyName 'V_1'",
    ),
    "missing-image": (
        _with(versions__v3={"replicas": 1}, traffic={"v1": 100, "v2": 0, "v3": 0}),
        "at '/versions/v3': missing property 'image'",
    ),
    "unquoted-numeric-tag": (
        _with(versions__v1__image={"repository": "docker.io/x", "tag": 1.0}),
        "at '/versions/v1/image/tag': got number, want string",
    ),
    "unknown-top-level-key": (_with(replicas=3), "additional properties 'replicas' not allowed"),
    "weight-on-a-version-scaled-to-zero": (
        _with(versions__v1__replicas=0),
        "versions.v1.replicas: 0 replicas cannot serve the 100% of traffic",
    ),
    "no-versions": (_with(versions={}, traffic={}), "at '/versions': minProperties"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_chart_refuses_with_a_clear_message(case: str) -> None:
    values, message = REFUSED[case]
    with pytest.raises(TemplateError) as raised:
        render(values)
    assert message in str(raised.value)


@cache
def _environment_schema() -> Any:
    return yamale.make_schema(str(resources.environments_dir() / "schema.yaml"), parser="ruamel")


def meshgen_objections(values: Mapping[str, Any]) -> list[str]:
    """What `meshgen validate` says about an environment file, before any rendering."""
    found = [f"{e.key_path}: {e.message}" for e in meshgen_files.check_environment_file(values)]
    versions, traffic = values.get("versions"), values.get("traffic")
    if isinstance(versions, Mapping) and isinstance(traffic, Mapping):
        found += [p.message for p in weight_problems(versions.keys(), traffic)]
    return found


# Caught at render time only: that zero replicas cannot serve traffic needs both keys,
# and meshgen's canary guard rails are checked after rendering.
_HELM_ONLY = {"weight-on-a-version-scaled-to-zero"}


@pytest.mark.parametrize("case", sorted(set(REFUSED) - _HELM_ONLY))
def test_meshgen_refuses_what_the_chart_refuses(case: str) -> None:
    values, _ = REFUSED[case]
    assert meshgen_objections(values), case


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_meshgen_accepts_what_the_chart_renders(scenario: str) -> None:
    assert meshgen_objections(SCENARIOS[scenario]()) == []


def test_values_schema_is_a_valid_draft_7_schema() -> None:
    schema = json.loads((resources.chart_dir() / "values.schema.json").read_text(encoding="utf-8"))
    # Draft 7: understood by every Helm 3 and 4 release.
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_both_schemas_describe_the_same_top_level_keys() -> None:
    values_schema = json.loads(
        (resources.chart_dir() / "values.schema.json").read_text(encoding="utf-8")
    )
    environment_schema = _environment_schema()
    assert set(environment_schema.dict) == set(values_schema["properties"])
    chart_defaults = yamlio.load_roundtrip(resources.chart_dir() / "values.yaml")
    assert set(chart_defaults) <= set(values_schema["properties"])


# -- helm lint --strict ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_helm_lint_strict_is_clean(scenario: str) -> None:
    messages = _BACKEND.lint(
        resources.chart_dir(),
        SCENARIOS[scenario](),
        namespace="staging",
        kube_version=KUBERNETES_VERSION,
    )
    assert [m for m in messages if m.severity is not Severity.INFO] == []


def test_helm_lint_strict_reports_bad_values() -> None:
    values, _ = REFUSED["negative-replicas"]
    messages = _BACKEND.lint(
        resources.chart_dir(), values, namespace="staging", kube_version=KUBERNETES_VERSION
    )
    assert any(m.severity is Severity.ERROR and "minimum" in m.message for m in messages)


# -- the Helm test ---------------------------------------------------------------------

# Stands in for curl inside the test pod: a request naming a version in the header is
# answered by that version (unless listed in STUB_DOWN); other requests are answered in
# turn by the versions of STUB_CYCLE, which sets the split deterministically.
_STUB_CURL = """#!/bin/sh
asked=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -H) asked="${2#*: }"; shift 2 ;;
    *) shift ;;
  esac
done
if [ -n "$asked" ]; then
  case " $STUB_DOWN " in *" $asked "*) exit 22 ;; esac
  printf '%s' "$asked"
  exit 0
fi
n=$(cat "$STUB_STATE" 2>/dev/null || echo 0)
echo $((n + 1)) > "$STUB_STATE"
set -- $STUB_CYCLE
i=$((n % $# + 1))
eval "answer=\\${$i}"
[ "$answer" = "down" ] && exit 22
printf '%s' "$answer"
"""


def _test_pod(values: Mapping[str, Any]) -> Mapping[str, Any]:
    (pod,) = of_kind(objects(values), "Pod")
    return pod


def run_helm_test(
    values: Mapping[str, Any], tmp_path: Path, cycle: str, down: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the test pod's script as the pod would, against the stand-in curl."""
    (container,) = _test_pod(values)["spec"]["containers"]
    assert container["command"] == ["/bin/sh", "-c"]
    stub = tmp_path / "bin" / "curl"
    stub.parent.mkdir()
    stub.write_text(_STUB_CURL, encoding="utf-8")
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {e["name"]: e["value"] for e in container["env"]}
    env |= {
        "PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}",
        "STUB_CYCLE": cycle,
        "STUB_DOWN": down,
        "STUB_STATE": str(tmp_path / "count"),
    }
    return subprocess.run(
        ["/bin/sh", "-c", container["args"][0]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _split(weights: Mapping[str, int], requests: int = 100) -> dict[str, Any]:
    values = three_versions()
    values["traffic"] = dict(weights)
    values["test"] = {"requests": requests, "tolerance": 10}
    return values


def test_helm_test_passes_when_each_share_is_within_tolerance(tmp_path: Path) -> None:
    values = _split({"v1": 75, "v2": 25, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1 v1 v1 v2 v1 v1 v1 v1 v2 v2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   v1: 70 answers, 70% for weight 75" in result.stdout
    assert "ok   v2: 30 answers, 30% for weight 25" in result.stdout
    assert "ok   v3: 0 answers, 0% for weight 0" in result.stdout


def test_helm_test_fails_when_a_share_is_off(tmp_path: Path) -> None:
    values = _split({"v1": 90, "v2": 10, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1 v2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL v1: 50 answers, 50% for weight 90" in result.stdout
    assert "FAIL v2: 50 answers, 50% for weight 10" in result.stdout


def test_helm_test_fails_when_a_version_cannot_be_reached_by_header(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0})
    result = run_helm_test(values, tmp_path, cycle="v1", down="v3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok   v2\n" in result.stdout
    assert "FAIL v3: answered by 'nobody'" in result.stdout


def test_helm_test_fails_on_failed_requests_and_unknown_answers(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0}, requests=20)
    result = run_helm_test(values, tmp_path, cycle="v1 v1 v1 v1 v1 v1 v1 v1 down v9")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL 2 requests failed" in result.stdout
    assert "FAIL 2 answers named no version listed" in result.stdout


def test_helm_test_pod_ends_although_it_has_a_sidecar() -> None:
    pod = _test_pod(default_values("staging"))
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    # Argo CD runs no Helm tests; its own hook annotation (which replaces Helm's) runs the
    # pod after every sync instead.
    assert annotations["argocd.argoproj.io/hook"] == "PostSync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    # Injected as a native sidecar, the proxy stops when the test container exits.
    assert annotations["sidecar.istio.io/nativeSidecar"] == "true"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["activeDeadlineSeconds"] == 300
    # The namespace injects it: the test really goes through the mesh.
    assert pod["metadata"]["namespace"] == "staging"
    assert "sidecar.istio.io/inject" not in pod["metadata"].get("labels", {})
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["URL"] == "http://first-app.staging.svc.cluster.local:80/hello"
    assert env["WEIGHTS"] == "v1=100 v2=0"


def test_gateway_routes_leave_port_80_to_the_acme_solver() -> None:
    (service_route,) = of_kind(objects(default_values("staging")), "VirtualService")
    gateway = "istio-ingress/first-app-staging"
    (weighted,) = [r for r in service_route["spec"]["http"] if r["name"] == "weighted"]
    at_gateway = [m for m in weighted["match"] if m["gateways"] == [gateway]]
    in_mesh = [m for m in weighted["match"] if m["gateways"] == ["mesh"]]
    assert [m["port"] for m in at_gateway] == [443]
    assert len(in_mesh) == 1
    assert "port" not in in_mesh[0]
    assert len(weighted["match"]) == 2


def _header_routes(override: str | None) -> list[Mapping[str, Any]]:
    values = default_values("staging")
    if override is not None:
        values["routing"] = {"headerOverride": override}
    (service_route,) = of_kind(objects(values), "VirtualService")
    return [r for r in service_route["spec"]["http"] if r["name"] != "weighted"]


def test_version_header_is_honoured_inside_the_mesh_only_by_default() -> None:
    # From the internet, nobody reaches a build at 0 % by sending a header.
    for route in _header_routes(None):
        assert [m["gateways"] for m in route["match"]] == [["mesh"]], route["name"]


def test_version_header_can_be_opened_to_the_gateway_or_turned_off() -> None:
    gateway = "istio-ingress/first-app-staging"
    for route in _header_routes("gateway"):
        sources = [(m["gateways"], m.get("port")) for m in route["match"]]
        assert sources == [(["mesh"], None), ([gateway], 443)], route["name"]
    assert _header_routes("off") == []
    values = default_values("staging")
    values["routing"] = {"headerOverride": "off"}
    env = {e["name"]: e["value"] for e in _test_pod(values)["spec"]["containers"][0]["env"]}
    assert env["HEADER_OVERRIDE"] == "false", "the split check then skips the header probes"


def test_helm_test_skips_the_header_check_when_the_header_is_off(tmp_path: Path) -> None:
    values = _split({"v1": 100, "v2": 0, "v3": 0}, requests=20)
    values["routing"] = {"headerOverride": "off"}
    result = run_helm_test(values, tmp_path, cycle="v1", down="v2 v3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "asked for by" not in result.stdout


# -- zero trust ------------------------------------------------------------------------


def test_network_policies_deny_by_default_and_allow_the_paths_the_mesh_needs() -> None:
    policies = {
        p["metadata"]["name"]: p["spec"]
        for p in of_kind(objects(default_values("staging")), "NetworkPolicy")
    }
    deny = policies["first-app-default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    app = policies["first-app"]
    assert app["podSelector"] == {"matchLabels": {"app": "first-app"}}
    (rule,) = app["ingress"]
    gateway, *callers = rule["from"]
    assert gateway["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "istio-ingress"
    }
    assert gateway["podSelector"]["matchLabels"] == {"istio": "gateway"}
    assert [c["podSelector"]["matchLabels"]["app"] for c in callers] == [
        "first-app-client",
        "first-app-test",
    ]
    assert rule["ports"] == [{"port": 5000, "protocol": "TCP"}]
    mesh = policies["first-app-mesh"]
    egress_ports = {p["port"] for e in mesh["egress"] for p in e["ports"]}
    assert egress_ports == {53, 15012}, "DNS and istiod"
    assert {p["port"] for p in mesh["ingress"][0]["ports"]} == {15020, 15021}, "kubelet probes"
    callers_out = policies["first-app-callers"]["egress"]
    assert callers_out == [
        {
            "to": [{"podSelector": {"matchLabels": {"app": "first-app"}}}],
            "ports": [{"port": 5000, "protocol": "TCP"}],
        }
    ]
    values = default_values("staging")
    values["policies"] = {"enabled": False}
    kinds = {m.kind for m in objects(values)}
    assert not kinds & {"NetworkPolicy", "AuthorizationPolicy"}


def test_authorization_allows_nothing_but_the_gateway_and_the_client() -> None:
    policies = {
        p["metadata"]["name"]: p["spec"]
        for p in of_kind(
            objects(default_values("production"), namespace="production"), "AuthorizationPolicy"
        )
    }
    assert policies["first-app-allow-nothing"] == {}
    allow = policies["first-app"]
    assert allow["action"] == "ALLOW"
    assert allow["selector"] == {"matchLabels": {"app": "first-app"}}
    (rule,) = allow["rules"]
    (source,) = rule["from"]
    assert source["source"]["principals"] == [
        "cluster.local/ns/istio-ingress/sa/istio-gateway",
        "cluster.local/ns/production/sa/first-app-client",
    ]


def test_checks_not_met_on_purpose_carry_their_reason() -> None:
    values = default_values("staging")
    digest = "sha256:" + "cd" * 32
    values["versions"]["v2"]["image"]["digest"] = digest
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects(values), "Deployment")}

    def skips(obj: Mapping[str, Any]) -> dict[str, str]:
        annotations = obj["metadata"].get("annotations", {})
        found = dict(
            v.split("=", 1) for k, v in annotations.items() if k.startswith("checkov.io/skip")
        )
        assert all(len(reason) > 20 for reason in found.values())
        return found

    def pull_policy(obj: Mapping[str, Any]) -> str:
        return str(obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"])

    # A tag can move: the kubelet asks the registry each time, and the digest check is skipped.
    assert set(skips(deployments["first-app-v1"])) == {"CKV_K8S_43"}
    assert pull_policy(deployments["first-app-v1"]) == "Always"
    # A digest names one build: the node's copy is that build.
    assert set(skips(deployments["first-app-v2"])) == {"CKV_K8S_15"}
    assert pull_policy(deployments["first-app-v2"]) == "IfNotPresent"
    # The idle client and the one-shot test pod have nothing to probe.
    assert set(skips(deployments["first-app-client"])) == {"CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"}
    assert set(skips(_test_pod(values))) == {"CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"}


def test_install_notes_show_the_split_and_how_to_measure_it() -> None:
    import helm_python

    values = three_versions()
    chart = helm_python.Chart.load(resources.chart_dir())
    rendered = chart.render(values, name="first-app", namespace="staging", is_install=True)
    notes = rendered["first-app/templates/NOTES.txt"]
    assert "  v1: 80%  (registry.istio.io/release/examples-helloworld-v1:1.0, replicas: 1)" in notes
    assert "  v3: 5%  (registry.istio.io/release/examples-helloworld-v2:1.0, replicas: 2)" in notes
    assert "-H 'x-first-app-version: <version>'" in notes
    assert "helm test first-app -n staging --logs" in notes
