"""The TLS secrets Gateways name (istioctl's gateway.SecretAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec, str_map
from meshgen.validate.facts.world import problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule


@rule(
    "MG411",
    "credential-not-found",
    Severity.ERROR,
    istio_code="IST0101",
    istio_analyzer="gateway.SecretAnalyzer",
)
def credential_not_found(ctx: ValidationContext) -> Iterator[Problem]:
    """A Gateway's TLS `credentialName` has no Certificate or Secret where its gateway pods run.

    The gateway pods read the secret from their own namespace (istio-system for the
    default ingress gateway), whatever namespace the Gateway object is in: create a
    cert-manager Certificate there whose `secretName` is the `credentialName`.
    """
    for world in worlds(ctx):
        secrets: dict[tuple[str, str], str] = {}
        for certificate in world.kind("Certificate"):
            if certificate.api_version.startswith("cert-manager.io/"):
                name = str(spec(certificate).get("secretName", ""))
                secrets[(world.namespace_of(certificate), name)] = certificate.ref
        for secret in world.kind("Secret"):
            secrets[(world.namespace_of(secret), secret.name)] = secret.ref
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            # Gateways whose selector matches no pods are reported by MG405.
            matched = [i for i in installs if selects(selector, i.pod_labels)]
            if not matched:
                continue
            # An install whose namespace is unknown (a chart's values) is assumed to run
            # beside the Gateway object, as generated repositories deploy it.
            namespaces = sorted({i.namespace or world.namespace_of(gateway) for i in matched})
            for server in as_list(spec(gateway).get("servers")):
                tls = as_map(as_map(server).get("tls"))
                if not tls.get("credentialName"):
                    continue
                credential = str(tls["credentialName"])
                if any((namespace, credential) in secrets for namespace in namespaces):
                    continue
                elsewhere = sorted(ref for (_, name), ref in secrets.items() if name == credential)
                hint = (
                    f"; {', '.join(elsewhere)} writes it in another namespace" if elsewhere else ""
                )
                yield problem_at(
                    ctx,
                    world,
                    gateway,
                    f"credentialName {credential!r} has no Certificate or Secret in namespace "
                    f"{' or '.join(namespaces)}, where its gateway pods run{hint}",
                )
