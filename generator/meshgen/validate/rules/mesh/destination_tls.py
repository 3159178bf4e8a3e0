"""TLS origination that does not verify the server (istioctl's
destinationrule.CaCertificateAnalyzer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

_ORIGINATING = ("SIMPLE", "MUTUAL")


def _unverified(rule_object: Manifest, tls: Mapping[str, Any]) -> bool:
    if str(tls.get("mode", "")).upper() not in _ORIGINATING or tls.get("caCertificates"):
        return False
    if tls.get("insecureSkipVerify") is True:
        return False
    # A credentialName for a selected gateway workload carries the CA as well.
    return not (tls.get("credentialName") and as_map(spec(rule_object).get("workloadSelector")))


@rule(
    "MG434",
    "tls-origination-unverified",
    Severity.WARNING,
    istio_code="IST0128",
    istio_analyzer="destinationrule.CaCertificateAnalyzer",
)
def tls_origination_unverified(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule originates TLS (SIMPLE or MUTUAL) without caCertificates.

    Set `trafficPolicy.tls.caCertificates` (or a `credentialName` holding the CA) so
    the proxy verifies the server's certificate.
    """
    for world in worlds(ctx):
        for rule_object in world.istio("DestinationRule"):
            tls = as_map(as_map(spec(rule_object).get("trafficPolicy")).get("tls"))
            if _unverified(rule_object, tls):
                yield problem_at(
                    ctx,
                    world,
                    rule_object,
                    f"TLS mode {tls.get('mode')} for host {spec(rule_object).get('host')} "
                    "without caCertificates: the server is not verified",
                )


@rule(
    "MG435",
    "port-tls-origination-unverified",
    Severity.WARNING,
    istio_code="IST0129",
    istio_analyzer="destinationrule.CaCertificateAnalyzer",
)
def port_tls_origination_unverified(ctx: ValidationContext) -> Iterator[Problem]:
    """A DestinationRule port originates TLS (SIMPLE or MUTUAL) without caCertificates.

    Set `portLevelSettings[].tls.caCertificates` (or a `credentialName` holding the CA).
    """
    for world in worlds(ctx):
        for rule_object in world.istio("DestinationRule"):
            policy = as_map(spec(rule_object).get("trafficPolicy"))
            for setting in as_list(policy.get("portLevelSettings")):
                tls = as_map(as_map(setting).get("tls"))
                if _unverified(rule_object, tls):
                    number = as_map(as_map(setting).get("port")).get("number")
                    yield problem_at(
                        ctx,
                        world,
                        rule_object,
                        f"TLS mode {tls.get('mode')} on port {number} without caCertificates: "
                        "the server is not verified",
                    )
