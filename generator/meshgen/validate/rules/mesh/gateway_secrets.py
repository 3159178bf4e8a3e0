"""The TLS secrets Gateways name (istioctl's gateway.SecretAnalyzer)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from meshgen.render import Manifest
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


# The key pairs Istio reads a gateway certificate from (kubernetes.io/tls, or generic).
_KEY_PAIRS = (("tls.crt", "tls.key"), ("cert", "key"))


def _secret_values(secret: Manifest) -> dict[str, str]:
    """A Secret's values as text: `data` decoded from base64, `stringData` as written."""
    values: dict[str, str] = {}
    for key, value in as_map(secret.data.get("data")).items():
        try:
            values[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            values[str(key)] = ""
    values.update({str(k): str(v) for k, v in as_map(secret.data.get("stringData")).items()})
    return values


def credential_problem(secret: Manifest) -> str | None:
    """Why a gateway cannot serve the certificate in a Secret, if it cannot."""
    values = _secret_values(secret)
    pair = next(((c, k) for c, k in _KEY_PAIRS if c in values and k in values), None)
    if pair is None:
        return "has neither tls.crt and tls.key nor cert and key"
    cert, key = pair
    if "-----BEGIN CERTIFICATE-----" not in values[cert]:
        return f"{cert} holds no PEM certificate"
    if "PRIVATE KEY-----" not in values[key]:
        return f"{key} holds no PEM private key"
    return None


@rule(
    "MG459",
    "gateway-credential-invalid",
    Severity.ERROR,
    istio_code="IST0161",
    istio_analyzer="gateway.SecretAnalyzer",
)
def gateway_credential_invalid(ctx: ValidationContext) -> Iterator[Problem]:
    """The Secret a Gateway's `credentialName` names holds no usable certificate and key.

    Put a PEM certificate chain and its private key in `tls.crt` and `tls.key` (a
    `kubernetes.io/tls` Secret, as cert-manager writes), or in `cert` and `key`.
    """
    for world in worlds(ctx):
        secrets = {(world.namespace_of(s), s.name): s for s in world.kind("Secret")}
        installs = world.gateway_installs()
        for gateway in world.istio("Gateway"):
            selector = str_map(spec(gateway).get("selector"))
            namespaces = {
                i.namespace or world.namespace_of(gateway)
                for i in installs
                if selects(selector, i.pod_labels)
            }
            for server in as_list(spec(gateway).get("servers")):
                credential = as_map(as_map(server).get("tls")).get("credentialName")
                for namespace in sorted(namespaces):
                    secret = secrets.get((namespace, str(credential)))
                    problem = credential_problem(secret) if secret is not None else None
                    if problem is not None:
                        yield problem_at(
                            ctx,
                            world,
                            gateway,
                            f"credentialName {credential!r}: Secret {namespace}/{credential} "
                            f"{problem}",
                        )
