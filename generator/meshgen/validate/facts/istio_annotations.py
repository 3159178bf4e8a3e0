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

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?\Z")
_PORTS = re.compile(r"^(\*|\s*|[0-9]+(\s*,\s*[0-9]+)*)\Z")


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


def _on_pods(
    *keys: str, check: Callable[[str], str | None] | None = None, deprecated: bool = False
) -> dict[str, Annotation]:
    return {key: Annotation(POD, deprecated=deprecated, check=check) for key in keys}


def _sidecar(*names: str) -> tuple[str, ...]:
    return tuple(f"sidecar.istio.io/{name}" for name in names)


def _traffic(*names: str) -> tuple[str, ...]:
    return tuple(f"traffic.sidecar.istio.io/{name}" for name in names)


# Grouped by what Istio accepts as their value.
_POD_ANNOTATIONS = {
    **_on_pods(
        *_sidecar("inject", "rewriteAppHTTPProbers", "enableCoreDump", "nativeSidecar"),
        "prometheus.istio.io/merge-metrics",
        check=_BOOL,
    ),
    **_on_pods(
        *_sidecar("proxyCPU", "proxyCPULimit", "proxyMemory", "proxyMemoryLimit"),
        check=_quantity,
    ),
    **_on_pods("sidecar.istio.io/interceptionMode", check=_one_of("REDIRECT", "TPROXY", "NONE")),
    **_on_pods(
        *_sidecar(
            "status",
            "proxyImage",
            "proxyImageType",
            "bootstrapOverride",
            "userVolume",
            "userVolumeMount",
            "logLevel",
            "componentLogLevel",
            "agentLogLevel",
            "extraStatTags",
            "statsHistogramBuckets",
            "statsFlushInterval",
        ),
        "status.sidecar.istio.io/port",
        *(
            f"readiness.status.sidecar.istio.io/{name}"
            for name in ("initialDelaySeconds", "periodSeconds", "failureThreshold")
        ),
        "readiness.status.sidecar.istio.io/applicationPorts",
        *_traffic(
            "includeOutboundIPRanges",
            "excludeOutboundIPRanges",
            "excludeInterfaces",
            "kubevirtInterfaces",
        ),
        "proxy.istio.io/config",
        "proxy.istio.io/overrides",
        "inject.istio.io/templates",
        "ambient.istio.io/redirection",
        "ambient.istio.io/bypass-inbound-capture",
    ),
    **_on_pods(
        *_traffic(
            "includeInboundPorts",
            "excludeInboundPorts",
            "includeOutboundPorts",
            "excludeOutboundPorts",
        ),
        check=_ports,
    ),
    **_on_pods(
        *_sidecar(
            "discoveryAddress",
            "controlPlaneAuthPolicy",
            "statsInclusionPrefixes",
            "statsInclusionSuffixes",
            "statsInclusionRegexps",
        ),
        deprecated=True,
    ),
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
