"""Whether Istio injects sidecars into a namespace or a workload.

A namespace is in the sidecar mesh with `istio-injection=enabled` or an `istio.io/rev`
label; `istio-injection=disabled` keeps it out whatever its revision label says, and
`istio.io/dataplane-mode=ambient` puts it in the ambient mesh instead. Without injection
webhooks in the input, meshgen assumes the ones istiod installs.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.facts.access import as_list, as_map, labels_of
from meshgen.validate.facts.world import INJECTION_LABEL, REVISION_LABEL, World

DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
INJECT_KEY = "sidecar.istio.io/inject"
PROXY_CONTAINER = "istio-proxy"
# Namespaces istioctl never expects to be injected.
SYSTEM_NAMESPACES = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", "local-path-storage", "istio-system"}
)
INJECTOR_CONFIG_MAP = "istio-sidecar-injector"


class Mode(enum.Enum):
    SIDECAR = "sidecar"
    AMBIENT = "ambient"
    DISABLED = "disabled"
    UNLABELLED = "unlabelled"


def namespace_mode(labels: Mapping[str, str]) -> Mode:
    injection = labels.get(INJECTION_LABEL)
    if injection == "disabled":
        return Mode.DISABLED
    if injection == "enabled" or labels.get(REVISION_LABEL):
        return Mode.SIDECAR
    if labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        return Mode.AMBIENT
    if injection is not None:
        return Mode.DISABLED
    return Mode.UNLABELLED


def namespace_labels(world: World, name: str) -> dict[str, str] | None:
    namespace = world.namespaces().get(name)
    return labels_of(namespace.data) if namespace is not None else None


def enabled_by_default(world: World) -> bool:
    """Whether the injector's configuration (when given) injects unlabelled namespaces."""
    for config_map in world.kind("ConfigMap"):
        if config_map.name != INJECTOR_CONFIG_MAP:
            continue
        values = as_map(config_map.data.get("data")).get("values")
        try:
            parsed: Any = json.loads(values) if isinstance(values, str) else None
        except ValueError:
            continue
        webhook = as_map(as_map(parsed).get("sidecarInjectorWebhook"))
        return webhook.get("enableNamespacesByDefault") is True
    return False


def has_proxy(containers: list[Mapping[str, Any]]) -> bool:
    return any(c.get("name") == PROXY_CONTAINER and c.get("image") for c in containers)


def inject_flag(metadata: Mapping[str, Any]) -> str | None:
    """The workload's own `sidecar.istio.io/inject` (label first, then annotation)."""
    for key in ("labels", "annotations"):
        value = as_map(metadata.get(key)).get(INJECT_KEY)
        if value is not None:
            return str(value).lower()
    return None


def workload_in_mesh(
    world: World, namespace: str, metadata: Mapping[str, Any], containers: list[Mapping[str, Any]]
) -> bool:
    """istioctl's reading of whether a workload runs with a sidecar."""
    if has_proxy(containers):
        return True
    flag = inject_flag(metadata)
    if flag is not None:
        return flag == "true"
    labels = namespace_labels(world, namespace)
    return labels is not None and labels.get(INJECTION_LABEL) == "enabled"


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions); none matches all."""
    if not isinstance(selector, Mapping):
        return True
    for key, value in as_map(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    return all(
        _expression_holds(as_map(e), labels) for e in as_list(selector.get("matchExpressions"))
    )


def _expression_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expression.get("key"))
    operator = expression.get("operator")
    values = [str(v) for v in as_list(expression.get("values"))]
    value = labels.get(key)
    holds = {
        "In": value is not None and value in values,
        "NotIn": value is None or value not in values,
        "Exists": value is not None,
        "DoesNotExist": value is None,
    }
    return holds.get(str(operator), False)


def injector_webhooks(world: World) -> list[Mapping[str, Any]]:
    hooks = []
    for config in world.kind("MutatingWebhookConfiguration"):
        for hook in as_list(config.data.get("webhooks")):
            if str(as_map(hook).get("name", "")).endswith("istio.io"):
                hooks.append(as_map(hook))
    return hooks


def targeted_for_injection(world: World, workload: Manifest, pod_labels: Mapping[str, str]) -> bool:
    """Whether an injection webhook would inject the workload's pods."""
    namespace = workload.namespace or world.default_namespace
    ns_labels = namespace_labels(world, namespace) or {}
    hooks = injector_webhooks(world)
    if hooks:
        return any(
            selector_matches(h.get("namespaceSelector"), ns_labels)
            and selector_matches(h.get("objectSelector"), pod_labels)
            for h in hooks
        )
    flag = pod_labels.get(INJECT_KEY)
    if flag == "false" or namespace_mode(ns_labels) is Mode.DISABLED:
        return False
    return namespace_mode(ns_labels) is Mode.SIDECAR or flag == "true"
