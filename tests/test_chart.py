"""The first-app chart: what each environment deploys, for any number of versions.

The chart's security, its values and its Helm test are in the test_chart_*.py modules.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chart_render import (
    DEFAULT_ENVIRONMENTS,
    HEADER,
    SCENARIOS,
    default_values,
    objects,
    of_kind,
    render,
    version,
    weighted_route,
)
from conftest import Golden
from meshgen.errors import TemplateError

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
