"""TLS at the gateway: ACME solvers and certificate issuers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_text, dig, is_kind, spec
from meshgen.validate.facts.gateway_installs import GatewayInstall
from meshgen.validate.facts.gitops import line_of_text
from meshgen.validate.facts.meshconfig import ISTIOD_VALUES, load_values, unserved_reason
from meshgen.validate.facts.world import World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG412", "acme-class-not-served", Severity.ERROR)
def acme_class_not_served(ctx: ValidationContext) -> Iterator[Problem]:
    """An ACME HTTP-01 solver uses an ingress class the mesh's ingress settings do not serve.

    cert-manager answers a challenge through an Ingress of the solver's class, which istiod
    serves only if `ingressClassName` names an IngressClass whose controller is
    `istio.io/ingress-controller` (platform/cert-manager/ingress-class.yaml), or the `class`
    annotation equals meshConfig.ingressClass; and meshConfig.ingressControllerMode must
    not be OFF. Set the solver's `ingressClassName: istio`, and point
    meshConfig.ingressSelector and ingressService at the installed gateway.
    """
    # In a repository MG501 reports a meshConfig that names no installed gateway, at
    # meshConfig itself; elsewhere this rule is the only one that can.
    gateway_checked_elsewhere = load_values(ctx, ISTIOD_VALUES) is not None
    for world in worlds(ctx):
        mesh, origin = world.mesh_config()
        classes = {
            obj.name: as_text(dig(obj.data, "spec", "controller"))
            for obj in world.kind("IngressClass")
            if is_kind(obj, "networking.k8s.io", "IngressClass")
        }
        installs = [] if gateway_checked_elsewhere else world.gateway_installs()
        selector = as_text(mesh.get("ingressSelector"))
        service_name = as_text(mesh.get("ingressService"))
        for issuer in [*world.kind("ClusterIssuer"), *world.kind("Issuer")]:
            if not is_kind(issuer, _CERT_MANAGER_GROUP, issuer.kind):
                continue
            for solver in as_list(dig(issuer.data, "spec", "acme", "solvers")):
                ingress = dig(solver, "http01", "ingress")
                # A solver that edits a named Ingress uses that Ingress's class.
                if not isinstance(ingress, Mapping) or ingress.get("name"):
                    continue
                reason = unserved_reason(
                    ingress, mesh, classes, origin, classes_complete=not ctx.files_mode
                )
                if reason is None and installs:
                    reason = _gateway_missing(installs, selector, service_name)
                if reason is None:
                    continue
                needle = next(
                    (key for key in ("ingressClassName", "class") if as_text(ingress.get(key))),
                    "ingress",
                )
                yield Problem(
                    f"{world.label(issuer)}{issuer.ref}: HTTP-01 challenges would go "
                    f"unanswered: {reason}",
                    ctx.location(issuer.source, line_of_text(ctx, issuer, needle)),
                )


def _gateway_missing(installs: list[GatewayInstall], selector: str, service: str) -> str | None:
    if not any(i.pod_labels.get("istio") == selector for i in installs):
        return (
            f"they go to the gateway labelled istio={selector} (meshConfig.ingressSelector), "
            "which is not installed"
        )
    if not any(i.service_name == service for i in installs):
        return f"no installed gateway has the Service {service!r} (meshConfig.ingressService)"
    return None


_CERT_MANAGER_GROUP = "cert-manager.io"


@rule("MG413", "certificate-issuer-not-found", Severity.ERROR)
def certificate_issuer_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A Certificate's issuerRef names a ClusterIssuer or Issuer the repository does not define.

    cert-manager never issues such a certificate, so the Gateway serves no TLS. Name an
    issuer that exists (in a generated repository: `gateway.issuer` in the environment
    file), or define the issuer (platform/cert-manager/cluster-issuers.yaml). An Issuer
    must be in the Certificate's namespace; `kind` defaults to Issuer.
    """
    every = worlds(ctx)
    if not any(_issuers(world, kind) for world in every for kind in ("ClusterIssuer", "Issuer")):
        # Plain manifests that bring no issuer: the issuers live elsewhere, unknown here.
        return
    where = "the given files do not define" if ctx.files_mode else "the repository does not define"
    for world in every:
        cluster_issuers = {issuer.name for issuer in _issuers(world, "ClusterIssuer")}
        issuers = {(world.namespace_of(i), i.name) for i in _issuers(world, "Issuer")}
        for certificate in world.kind("Certificate"):
            if not certificate.api_version.startswith(f"{_CERT_MANAGER_GROUP}/"):
                continue
            ref = spec(certificate).get("issuerRef")
            if not isinstance(ref, Mapping) or not ref.get("name"):
                continue
            if str(ref.get("group") or _CERT_MANAGER_GROUP) != _CERT_MANAGER_GROUP:
                continue  # an external issuer (AWS PCA, Vault...): its kinds are not ours
            name = str(ref["name"])
            kind = str(ref.get("kind") or "Issuer")
            if kind == "ClusterIssuer":
                if name in cluster_issuers:
                    continue
                known = f"ClusterIssuers: {', '.join(sorted(cluster_issuers)) or 'none'}"
            elif kind == "Issuer":
                namespace = world.namespace_of(certificate)
                if (namespace, name) in issuers:
                    continue
                here = sorted(n for ns, n in issuers if ns == namespace)
                known = f"Issuers in namespace {namespace}: {', '.join(here) or 'none'}"
            else:
                continue
            yield problem_at(
                ctx,
                world,
                certificate,
                f"issuerRef names {kind} {name!r}, which {where} ({known}); "
                f"{_issuer_fix(ctx, world, certificate, name)}",
            )


def _issuers(world: World, kind: str) -> list[Manifest]:
    return [m for m in world.kind(kind) if m.api_version.startswith(f"{_CERT_MANAGER_GROUP}/")]


def _issuer_fix(ctx: ValidationContext, world: World, certificate: Manifest, name: str) -> str:
    """Where the issuer's name comes from: the environment file, when it sets it."""
    if ctx.repo is not None and id(certificate) not in world.shared:
        for ref in ctx.environment_files:
            chart = ctx.rel(ctx.repo.chart_path(ref.app)) + "/"
            gateway = ref.file.data.get("gateway") if isinstance(ref.file.data, Mapping) else None
            if (
                ref.environment.name == world.environment
                and certificate.source.startswith(chart)
                and isinstance(gateway, Mapping)
                and str(gateway.get("issuer")) == name
            ):
                return f"set gateway.issuer in {ctx.rel(ref.file.path)} to one that exists"
    return "point issuerRef at an issuer that exists, or define it"
