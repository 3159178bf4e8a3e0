"""Reserved and example domains, which make the first certificate impossible.

Let's Encrypt refuses an ACME account whose contact lies in a reserved domain
(`invalidContact`) and any certificate for a reserved name, so a repository written with
placeholders never gets its issuers Ready: the sync stops at the issuers step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from meshgen import yamlio
from meshgen.domains import email_domain, reserved_suffix
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, dig
from meshgen.validate.findings import Location, Problem, Severity, rule
from meshgen.validate.inputs.key_lines import KeyLines

_ISSUER_KINDS = ("ClusterIssuer", "Issuer")


@rule("MG004", "acme-contact-reserved", Severity.ERROR)
def acme_contact_reserved(ctx: ValidationContext) -> Iterator[Problem]:
    """The Let's Encrypt contact address lies in a reserved or example domain.

    Let's Encrypt refuses to register the account (`invalidContact`), so no issuer becomes
    Ready. Set `acmeEmail` in meshgen.yaml and `spec.acme.email` of every issuer in
    platform/cert-manager/cluster-issuers.yaml to a mailbox your team reads (expiry
    warnings go there).
    """
    found = _reserved_in_config(ctx, "acmeEmail", email_domain)
    if found:
        address, reserved, location = found
        yield Problem(
            f"acmeEmail {address} is in the reserved domain {reserved}; Let's Encrypt "
            "refuses it: use a mailbox your team reads",
            location,
        )
    for file in ctx.static_files:
        lines = KeyLines(file.path)
        for manifest in file.objects:
            if manifest.kind not in _ISSUER_KINDS or not manifest.api_version.startswith(
                "cert-manager.io/"
            ):
                continue
            address = dig(manifest.data, "spec", "acme", "email")
            if not isinstance(address, str):
                continue
            suffix = reserved_suffix(email_domain(address))
            if suffix:
                yield Problem(
                    f"{manifest.kind} {manifest.name}: spec.acme.email {address} is in the "
                    f"reserved domain {suffix}; Let's Encrypt refuses it: use a mailbox "
                    "your team reads",
                    ctx.location(file.path, lines.line(manifest.line, ("spec", "acme", "email"))),
                )


@rule("MG114", "host-reserved", Severity.ERROR)
def host_reserved(ctx: ValidationContext) -> Iterator[Problem]:
    """A host (or the repository's domain) lies in a reserved or example domain.

    No public certificate authority issues certificates for reserved names (RFC 2606,
    RFC 6761: example.com, example.net, example.org, .example, .test, .invalid,
    .localhost), and nobody can point their DNS at your gateway. Set `host:` in the
    environment file to a name in a domain you control, and `domain:` in meshgen.yaml to
    that domain.
    """
    found = _reserved_in_config(ctx, "domain", str)
    if found:
        domain, reserved, location = found
        yield Problem(
            f"domain {domain} is reserved ({reserved}, RFC 2606 / RFC 6761): use a domain "
            "you control",
            location,
        )
    for ref in ctx.environment_files:
        data = ref.file.data
        if ref.file.error is not None or not isinstance(data, Mapping):
            continue
        host = data.get("host")
        suffix = reserved_suffix(host) if isinstance(host, str) and host else None
        if suffix:
            yield Problem(
                f"host {host} is in the reserved domain {suffix}: no certificate can be "
                "issued for it; use a name in a domain you control",
                ctx.location(ref.file.path, yamlio.line_of(data, "host")),
            )


def _reserved_in_config(
    ctx: ValidationContext, key: str, domain_of: Callable[[str], str]
) -> tuple[str, str, Location] | None:
    """meshgen.yaml's `key`, the reserved domain its value lies in, and where; or None."""
    data = as_map(ctx.config.data)
    value = data.get(key)
    reserved = reserved_suffix(domain_of(value)) if isinstance(value, str) else None
    if not reserved or not isinstance(value, str):
        return None
    return value, reserved, ctx.location(ctx.config.path, yamlio.line_of(data, key))
