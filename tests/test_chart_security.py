"""The first-app chart's pods meet the "restricted" Pod Security Standard, and its
network and authorization policies trust nothing but the paths the mesh needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from chart_render import (
    SCENARIOS,
    default_values,
    helm_test_pod,
    objects,
    of_kind,
    pod_specs,
)

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
    assert set(skips(helm_test_pod(values))) == {"CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"}
