"""Gateways that claim the same listener or certificate (istioctl's
gateway.ConflictingGatewayAnalyzer and gateway.CertificateAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec, str_map
from meshgen.validate.facts.hosts import host_matches
from meshgen.validate.facts.world import problem_at, selects, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _listeners(gateway: Manifest) -> list[tuple[int, list[str]]]:
    found = []
    for server in as_list(spec(gateway).get("servers")):
        number = as_map(as_map(server).get("port")).get("number")
        if isinstance(number, int):
            hosts = [str(h).rpartition("/")[2] for h in as_list(as_map(server).get("hosts"))]
            found.append((number, hosts))
    return found


@rule(
    "MG421",
    "gateways-conflict",
    Severity.ERROR,
    istio_code="IST0145",
    istio_analyzer="gateway.ConflictingGatewayAnalyzer",
)
def gateways_conflict(ctx: ValidationContext) -> Iterator[Problem]:
    """Two Gateways select the same gateway pods and serve overlapping hosts on one port.

    Merge the servers into one Gateway, or give them distinct hosts or ports; the
    gateway otherwise serves only one of them, and which one is undefined.
    """
    for world in worlds(ctx):
        gateways = world.istio("Gateway")
        for gateway in gateways:
            selector = str_map(spec(gateway).get("selector"))
            for number, hosts in _listeners(gateway):
                rivals = []
                for other in gateways:
                    if other is gateway:
                        continue
                    theirs = str_map(spec(other).get("selector"))
                    # One selector containing the other selects the same pods.
                    if not (selects(selector, theirs) or selects(theirs, selector)):
                        continue
                    for their_number, their_hosts in _listeners(other):
                        if their_number == number and any(
                            host_matches(a, b) for a in hosts for b in their_hosts
                        ):
                            rivals.append(f"{world.namespace_of(other)}/{other.name}")
                            break
                if rivals:
                    yield problem_at(
                        ctx,
                        world,
                        gateway,
                        f"port {number} hosts {', '.join(hosts)} conflict with Gateway "
                        f"{', '.join(sorted(rivals))} on the same gateway pods",
                    )


def _same_certificate(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    if first.get("credentialName") or second.get("credentialName"):
        return bool(first.get("credentialName")) and first.get("credentialName") == second.get(
            "credentialName"
        )
    return (
        bool(first.get("serverCertificate") and first.get("privateKey"))
        and first.get("serverCertificate") == second.get("serverCertificate")
        and first.get("privateKey") == second.get("privateKey")
    )


def _tls_settings(gateway: Manifest) -> list[Mapping[str, Any]]:
    return [
        as_map(as_map(server).get("tls"))
        for server in as_list(spec(gateway).get("servers"))
        if as_map(server).get("tls")
    ]


@rule(
    "MG452",
    "gateway-duplicate-certificate",
    Severity.WARNING,
    istio_code="IST0138",
    istio_analyzer="gateway.CertificateAnalyzer",
)
def gateway_duplicate_certificate(ctx: ValidationContext) -> Iterator[Problem]:
    """Two Gateways on the same gateway pods serve the same certificate.

    Serve the hosts of one certificate from one Gateway: a client reusing an HTTP/2
    connection for another host of the certificate reaches the wrong Gateway's routes
    and gets 404.
    """
    for world in worlds(ctx):
        gateways = world.istio("Gateway")
        for gateway in gateways:
            selector = str_map(spec(gateway).get("selector"))
            mine = _tls_settings(gateway)
            for other in gateways:
                if other is gateway or not selects(selector, str_map(spec(other).get("selector"))):
                    continue
                if any(_same_certificate(a, b) for a in mine for b in _tls_settings(other)):
                    yield problem_at(
                        ctx,
                        world,
                        gateway,
                        f"serves the same certificate as Gateway "
                        f"{world.namespace_of(other)}/{other.name}",
                    )
