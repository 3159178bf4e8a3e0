"""Istio ingress settings: istiod's meshConfig names the gateway release it serves through."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen import yamlio
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, as_text, dig
from meshgen.validate.facts.gitops import helm_releases
from meshgen.validate.facts.meshconfig import (
    DEFAULT_INGRESS_SELECTOR,
    DEFAULT_INGRESS_SERVICE,
    DEFAULT_ISTIOD_NAMESPACE,
    GATEWAY_VALUES,
    ISTIOD_VALUES,
    load_values,
)
from meshgen.validate.findings import Location, Problem, Severity, rule


@rule("MG501", "ingress-gateway-mismatch", Severity.ERROR)
def ingress_gateway_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """istiod's meshConfig ingress settings do not name the gateway release's Service and pods.

    Kubernetes Ingresses (and so cert-manager's HTTP-01 challenges) are served by the pods
    labelled `istio: <meshConfig.ingressSelector>`, and get the address of the Service
    `<meshConfig.ingressService>` in the namespace `env.K8S_INGRESS_NS`. Release the
    `gateway` chart as `istio-gateway` in istio-ingress (or change
    platform/istio/istiod.values.yaml to match the release name, its `istio` pod label and
    its namespace).
    """
    istiod = load_values(ctx, ISTIOD_VALUES)
    gateway_values = load_values(ctx, GATEWAY_VALUES)
    if istiod is None:
        return
    mesh = as_map(istiod.data.get("meshConfig"))
    env = as_map(istiod.data.get("env"))
    service = as_text(mesh.get("ingressService")) or DEFAULT_INGRESS_SERVICE
    selector = as_text(mesh.get("ingressSelector")) or DEFAULT_INGRESS_SELECTOR
    istiod_namespaces = {r.namespace for r in helm_releases(ctx) if r.chart == "istiod"}
    default_namespace = min(istiod_namespaces) if istiod_namespaces else DEFAULT_ISTIOD_NAMESPACE
    namespace = as_text(env.get("K8S_INGRESS_NS")) or default_namespace
    values = gateway_values.data if gateway_values is not None else {}

    def at(mapping: Mapping[str, Any], key: str) -> Location:
        return ctx.location(istiod.path, yamlio.line_of(mapping, key) or yamlio.line_of(mapping))

    for release in helm_releases(ctx):
        if release.chart != "gateway":
            continue
        # The gateway chart names its objects after `name` (default: the release) and
        # labels pods `istio: <that name without "istio-">` unless `labels.istio` is set.
        service_name = as_text(values.get("name")) or release.name
        label = as_text(dig(values, "labels", "istio")) or service_name.removeprefix("istio-")
        where = f"{release.manifest.kind} {release.manifest.name} ({release.manifest.source})"
        if service != service_name:
            yield Problem(
                f"meshConfig.ingressService is {service!r}, but the gateway release of "
                f"{where} creates the Service {service_name!r}",
                at(mesh, "ingressService"),
            )
        if selector != label:
            yield Problem(
                f"meshConfig.ingressSelector is {selector!r}, but the gateway pods of "
                f"{where} carry `istio: {label}`",
                at(mesh, "ingressSelector"),
            )
        if release.namespace and namespace != release.namespace:
            yield Problem(
                f"istiod looks for the ingress Service in namespace {namespace!r} "
                f"(env.K8S_INGRESS_NS), but {where} installs the gateway in "
                f"{release.namespace!r}",
                at(env, "K8S_INGRESS_NS") if env else at(istiod.data, "meshConfig"),
            )
