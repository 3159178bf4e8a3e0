"""The Istio annotations istioctl knows: the kinds each belongs on, the deprecated
ones, and the values Istio accepts for some of them.

istioctl only looks at annotations whose key contains `istio.io`; one it does not know
is reported as unknown, one on the wrong kind as misplaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

POD = ("Pod",)
SERVICE = ("Service",)
ANY = ("*",)

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_PORTS = re.compile(r"^(\*|\s*|[0-9]+(\s*,\s*[0-9]+)*)$")


def _one_of(*values: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in values else f"must be one of {', '.join(values)}"

    return check


def _quantity(value: str) -> str | None:
    return None if _QUANTITY.match(value.strip()) else "must be a Kubernetes quantity (500m, 1Gi)"


def _ports(value: str) -> str | None:
    return None if _PORTS.match(value) else "must be `*` or a comma-separated list of ports"


_BOOL = _one_of("true", "false")


@dataclass(frozen=True)
class Annotation:
    kinds: tuple[str, ...]
    deprecated: bool = False
    check: Callable[[str], str | None] | None = None


_POD_ANNOTATIONS = {
    "sidecar.istio.io/inject": Annotation(POD, check=_BOOL),
    "sidecar.istio.io/status": Annotation(POD),
    "sidecar.istio.io/rewriteAppHTTPProbers": Annotation(POD, check=_BOOL),
    "sidecar.istio.io/proxyImage": Annotation(POD),
    "sidecar.istio.io/proxyImageType": Annotation(POD),
    "sidecar.istio.io/proxyCPU": Annotation(POD, check=_quantity),
    "sidecar.istio.io/proxyCPULimit": Annotation(POD, check=_quantity),
    "sidecar.istio.io/proxyMemory": Annotation(POD, check=_quantity),
    "sidecar.istio.io/proxyMemoryLimit": Annotation(POD, check=_quantity),
    "sidecar.istio.io/interceptionMode": Annotation(
        POD, check=_one_of("REDIRECT", "TPROXY", "NONE")
    ),
    "sidecar.istio.io/bootstrapOverride": Annotation(POD),
    "sidecar.istio.io/userVolume": Annotation(POD),
    "sidecar.istio.io/userVolumeMount": Annotation(POD),
    "sidecar.istio.io/enableCoreDump": Annotation(POD, check=_BOOL),
    "sidecar.istio.io/logLevel": Annotation(POD),
    "sidecar.istio.io/componentLogLevel": Annotation(POD),
    "sidecar.istio.io/agentLogLevel": Annotation(POD),
    "sidecar.istio.io/extraStatTags": Annotation(POD),
    "sidecar.istio.io/nativeSidecar": Annotation(POD, check=_BOOL),
    "sidecar.istio.io/statsHistogramBuckets": Annotation(POD),
    "sidecar.istio.io/statsFlushInterval": Annotation(POD),
    "sidecar.istio.io/discoveryAddress": Annotation(POD, deprecated=True),
    "sidecar.istio.io/controlPlaneAuthPolicy": Annotation(POD, deprecated=True),
    "sidecar.istio.io/statsInclusionPrefixes": Annotation(POD, deprecated=True),
    "sidecar.istio.io/statsInclusionSuffixes": Annotation(POD, deprecated=True),
    "sidecar.istio.io/statsInclusionRegexps": Annotation(POD, deprecated=True),
    "status.sidecar.istio.io/port": Annotation(POD),
    "readiness.status.sidecar.istio.io/initialDelaySeconds": Annotation(POD),
    "readiness.status.sidecar.istio.io/periodSeconds": Annotation(POD),
    "readiness.status.sidecar.istio.io/failureThreshold": Annotation(POD),
    "readiness.status.sidecar.istio.io/applicationPorts": Annotation(POD),
    "traffic.sidecar.istio.io/includeOutboundIPRanges": Annotation(POD),
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": Annotation(POD),
    "traffic.sidecar.istio.io/includeInboundPorts": Annotation(POD, check=_ports),
    "traffic.sidecar.istio.io/excludeInboundPorts": Annotation(POD, check=_ports),
    "traffic.sidecar.istio.io/includeOutboundPorts": Annotation(POD, check=_ports),
    "traffic.sidecar.istio.io/excludeOutboundPorts": Annotation(POD, check=_ports),
    "traffic.sidecar.istio.io/excludeInterfaces": Annotation(POD),
    "traffic.sidecar.istio.io/kubevirtInterfaces": Annotation(POD),
    "proxy.istio.io/config": Annotation(POD),
    "proxy.istio.io/overrides": Annotation(POD),
    "inject.istio.io/templates": Annotation(POD),
    "prometheus.istio.io/merge-metrics": Annotation(POD, check=_BOOL),
    "ambient.istio.io/redirection": Annotation(POD),
    "ambient.istio.io/bypass-inbound-capture": Annotation(POD),
}

ANNOTATIONS: Mapping[str, Annotation] = {
    **_POD_ANNOTATIONS,
    "networking.istio.io/exportTo": Annotation(SERVICE),
    "networking.istio.io/traffic-distribution": Annotation(SERVICE),
    "alpha.istio.io/kubernetes-serviceaccounts": Annotation(SERVICE, deprecated=True),
    "alpha.istio.io/canonical-serviceaccounts": Annotation(SERVICE, deprecated=True),
    "galley.istio.io/analyze-suppress": Annotation(ANY),
    "install.operator.istio.io/chart-owner": Annotation(ANY),
    "install.operator.istio.io/owner-generation": Annotation(ANY),
    "install.operator.istio.io/version": Annotation(ANY),
    "istio.io/dry-run": Annotation(("AuthorizationPolicy",)),
}


def is_istio_annotation(key: str) -> bool:
    return "istio.io" in key
