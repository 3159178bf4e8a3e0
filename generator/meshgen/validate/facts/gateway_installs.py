"""The ingress gateways a repository installs, from the Istio `gateway` chart's values
or from gateway workloads and their Services."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshgen.render import Manifest
from meshgen.validate.facts.access import as_map, spec, str_map

# The Istio `gateway` chart's Service ports when its values set none.
_GATEWAY_CHART_PORTS = ((15021, 15021), (80, 80), (443, 443))


@dataclass(frozen=True)
class GatewayInstall:
    """An ingress gateway the repository installs: pod labels and its Service's ports.

    `target_ports` and `service_ports` are None when the ports are not known (a
    Deployment without a Service); `namespace` is None when the install does not say
    (a chart's values).
    """

    name: str
    pod_labels: Mapping[str, str]
    service_name: str | None
    target_ports: frozenset[int] | None
    origin: str
    namespace: str | None = None
    service_ports: frozenset[int] | None = None


def values_file_chart(path: Path) -> str | None:
    """Which Istio chart a values file is for, from its name: gateway*.yaml, istiod*.yaml."""
    stem = path.name.split(".")[0]
    if re.fullmatch(r"(istio-)?(ingress)?gateway(-[\w-]+)?", stem):
        return "gateway"
    if re.fullmatch(r"istiod(-[\w-]+)?", stem):
        return "istiod"
    return None


def release_from_file(path: Path) -> str:
    stem = path.name.split(".")[0]
    return stem if stem.startswith("istio") else f"istio-{stem}"


def install_from_values(release: str, values: Mapping[str, Any], origin: str) -> GatewayInstall:
    """Mirror the gateway chart's helpers: name, selector labels and Service ports."""
    name = str(values.get("name") or release)
    extra = str_map(values.get("labels"))
    pod_labels = {
        **extra,
        "app": extra.get("app", name),
        "istio": extra.get("istio", name.removeprefix("istio-")),
    }
    service = as_map(values.get("service"))
    ports_value = service.get("ports")
    pairs: list[tuple[int, int]] = []
    if isinstance(ports_value, list):
        for port in ports_value:
            if isinstance(port, Mapping) and isinstance(port.get("port"), int):
                target = port.get("targetPort", port["port"])
                pairs.append((port["port"], target if isinstance(target, int) else port["port"]))
    else:
        pairs = list(_GATEWAY_CHART_PORTS)
    return GatewayInstall(
        name,
        pod_labels,
        name,
        frozenset(target for _, target in pairs),
        origin,
        service_ports=frozenset(number for number, _ in pairs),
    )


def service_ports(service: Manifest) -> Iterator[int]:
    for port in spec(service).get("ports") or []:
        if not isinstance(port, Mapping) or not isinstance(port.get("port"), int):
            continue
        if str(port.get("protocol") or "TCP").upper() == "TCP":
            yield port["port"]


def service_target_ports(service: Manifest) -> Iterator[int]:
    for port in spec(service).get("ports") or []:
        if not isinstance(port, Mapping):
            continue
        target = port.get("targetPort")
        if isinstance(target, int):
            yield target
        elif isinstance(port.get("port"), int):
            yield port["port"]


def chart_installs(manifest: Manifest) -> dict[str, list[tuple[str, Any]]]:
    """(release, inline values or None) of each install of each chart `manifest` makes:
    a Flux HelmRelease, or each chart source of an Argo CD Application."""
    found: dict[str, list[tuple[str, Any]]] = {}
    if manifest.kind == "HelmRelease":
        chart_spec = (spec(manifest).get("chart") or {}).get("spec") or {}
        if isinstance(chart_spec, Mapping):
            release = str(spec(manifest).get("releaseName") or manifest.name)
            inline = spec(manifest).get("values")
            found.setdefault(str(chart_spec.get("chart")), []).append((release, inline))
        return found
    for source in [spec(manifest).get("source"), *(spec(manifest).get("sources") or [])]:
        if not isinstance(source, Mapping):
            continue
        helm = as_map(source.get("helm"))
        values: Any = helm.get("valuesObject")
        if values is None and isinstance(helm.get("values"), str):
            try:
                values = yaml.safe_load(helm["values"])
            except yaml.YAMLError:
                values = None
        release = str(helm.get("releaseName") or manifest.name)
        found.setdefault(str(source.get("chart")), []).append((release, values))
    return found
