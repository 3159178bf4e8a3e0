"""istiod's settings as the repository declares them: its values file and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map
from meshgen.validate.facts.gitops import helm_releases

ISTIOD_VALUES = "platform/istio/istiod.values.yaml"
GATEWAY_VALUES = "platform/istio/gateway.values.yaml"
ISTIO_INGRESS_CONTROLLER = "istio.io/ingress-controller"

# istiod's own defaults (mesh.v1alpha1 MeshConfig and pilot's K8S_INGRESS_NS).
DEFAULT_INGRESS_SERVICE = "istio-ingressgateway"
DEFAULT_INGRESS_SELECTOR = "ingressgateway"
DEFAULT_INGRESS_CLASS = "istio"
DEFAULT_ISTIOD_NAMESPACE = "istio-system"


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    data: Mapping[str, Any]


def load_values(ctx: ValidationContext, relative: str) -> ValuesFile | None:
    path = ctx.root / relative
    if not path.is_file():
        return None
    try:
        data = yamlio.load_roundtrip(path)
    except ConfigError:
        return None
    return ValuesFile(path, as_map(data))


@dataclass(frozen=True)
class CniSetting:
    """Whether istiod's values turn on Istio CNI, and the values file that says so."""

    enabled: bool
    values: ValuesFile | None


def istiod_cni_setting(ctx: ValidationContext) -> CniSetting:
    """istiod's `cni.enabled` from platform/istio/istiod.values.yaml (chart default: off).

    Istio's documentation spells it `pilot.cni.enabled`: the istiod chart merges the
    `pilot:` mapping over the top level, so that spelling wins when both are present.
    """
    values = load_values(ctx, ISTIOD_VALUES)
    if values is None:
        return CniSetting(False, None)
    enabled = False
    for holder in (values.data, as_map(values.data.get("pilot"))):
        cni = holder.get("cni")
        if isinstance(cni, Mapping) and "enabled" in cni:
            enabled = cni.get("enabled") is True
    return CniSetting(enabled, values)


def mesh_uses_istio_cni(ctx: ValidationContext) -> bool | None:
    """Whether istiod leaves traffic redirection to Istio CNI (no `istio-init` injected).

    None when the repository neither installs istiod nor holds its values: a repository of
    plain manifests says nothing about the mesh it is applied to.
    """
    setting = istiod_cni_setting(ctx)
    if setting.values is None and not any(r.chart == "istiod" for r in helm_releases(ctx)):
        return None
    return setting.enabled
