"""Istio ingress settings: meshConfig names the gateway release, ACME solvers a served class."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen import yamlio
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, as_text, dig, is_kind
from meshgen.validate.facts.gitops import helm_releases, line_of_text
from meshgen.validate.facts.meshconfig import (
    DEFAULT_INGRESS_CLASS,
    DEFAULT_INGRESS_SELECTOR,
    DEFAULT_INGRESS_SERVICE,
    DEFAULT_ISTIOD_NAMESPACE,
    GATEWAY_VALUES,
    ISTIO_INGRESS_CONTROLLER,
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


@rule("MG502", "acme-solver-class-not-served", Severity.ERROR)
def acme_solver_class_not_served(ctx: ValidationContext) -> Iterator[Problem]:
    """An ACME HTTP-01 solver uses an ingress class that the mesh does not serve.

    The challenge Ingress cert-manager creates is answered only if istiod serves its
    class: `ingressClassName` must name an IngressClass whose controller is
    `istio.io/ingress-controller` (platform/cert-manager/ingress-class.yaml), or the
    `class` annotation must equal meshConfig.ingressClass; and meshConfig.
    ingressControllerMode must not be OFF. Set the solver's `ingressClassName: istio`.
    """
    istiod = load_values(ctx, ISTIOD_VALUES)
    mesh = as_map(istiod.data.get("meshConfig")) if istiod is not None else {}
    raw_mode = mesh.get("ingressControllerMode")
    # Unquoted, OFF reads as the boolean false (YAML 1.1, as Helm reads values).
    mode = "OFF" if raw_mode is False else as_text(raw_mode).upper()
    mesh_class = as_text(mesh.get("ingressClass")) or DEFAULT_INGRESS_CLASS
    classes = {
        obj.name: as_text(dig(obj.data, "spec", "controller"))
        for obj in ctx.static_objects
        if is_kind(obj, "networking.k8s.io", "IngressClass")
    }
    for issuer in ctx.static_objects:
        if issuer.kind not in ("ClusterIssuer", "Issuer"):
            continue
        if not issuer.api_version.startswith("cert-manager.io/"):
            continue
        for solver in as_list(dig(issuer.data, "spec", "acme", "solvers")):
            ingress = dig(solver, "http01", "ingress")
            if not isinstance(ingress, Mapping):
                continue
            class_name = as_text(ingress.get("ingressClassName"))
            annotation = as_text(ingress.get("class"))
            reason = _unserved_reason(class_name, annotation, mode, mesh_class, classes)
            if reason is None:
                continue
            needle = "ingressClassName" if class_name else "class" if annotation else "ingress"
            line = line_of_text(ctx, issuer, needle)
            yield Problem(
                f"{issuer.kind} {issuer.name}: HTTP-01 challenges would go unanswered: {reason}",
                ctx.location(issuer.source, line),
            )


def _unserved_reason(
    class_name: str, annotation: str, mode: str, mesh_class: str, classes: Mapping[str, str]
) -> str | None:
    """Why istiod would not serve the solver's Ingress, or None when it would."""
    reason: str | None = None
    if mode == "OFF":
        reason = f"meshConfig.ingressControllerMode is OFF in {ISTIOD_VALUES}"
    elif class_name and class_name not in classes:
        reason = f"no IngressClass {class_name!r} is defined under platform/"
    elif class_name and classes[class_name] != ISTIO_INGRESS_CONTROLLER:
        reason = (
            f"IngressClass {class_name!r} has controller {classes[class_name]!r}, "
            f"not {ISTIO_INGRESS_CONTROLLER!r}"
        )
    elif not class_name and annotation and annotation != mesh_class:
        reason = f"class {annotation!r} is not meshConfig.ingressClass {mesh_class!r}"
    elif not class_name and not annotation and mode != "DEFAULT":
        reason = "the solver names no ingress class, and istiod serves only class-named Ingresses"
    return reason
