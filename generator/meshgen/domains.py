"""Reserved and example DNS names, which no public certificate authority will serve.

RFC 2606 and RFC 6761 set aside `example.com`, `example.net`, `example.org` and the
top-level names `.example`, `.test`, `.invalid` and `.localhost` for documentation and
testing. Let's Encrypt refuses them both as an ACME account contact (`invalidContact`)
and as certificate names, so a repository using them can never obtain a certificate.
"""

from __future__ import annotations

RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")


def reserved_suffix(name: str) -> str | None:
    """The reserved domain `name` is or lies under (e.g. `example.com`), or None.

    `name` is a host name or the domain part of an e-mail address; case and a final
    dot do not matter.
    """
    labels = name.strip().rstrip(".").lower().split(".")
    if not labels or not labels[-1]:
        return None
    if labels[-1] in RESERVED_TOP_LEVEL:
        return labels[-1]
    last_two = ".".join(labels[-2:])
    return last_two if last_two in RESERVED_DOMAINS else None


def email_domain(address: str) -> str:
    """The domain of an e-mail address: what follows the last `@`."""
    return address.rpartition("@")[2]
