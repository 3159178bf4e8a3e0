"""istiod's settings as the repository declares them: its values file and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgen.errors import ConfigError
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, as_text
from meshgen.validate.facts.gitops import helm_releases
from meshgen.yaml_lines import load_with_lines

ISTIOD_VALUES = "platform/istio/istiod.values.yaml"
GATEWAY_VALUES = "platform/istio/gateway.values.yaml"
ISTIO_INGRESS_CONTROLLER = "istio.io/ingress-controller"

# istiod's own defaults for Kubernetes Ingress support (mesh.v1alpha1 MeshConfig).
DEFAULT_MESH_CONFIG = {
    "ingressClass": "istio",
    "ingressControllerMode": "STRICT",
    "ingressSelector": "ingressgateway",
    "ingressService": "istio-ingressgateway",
}
DEFAULT_INGRESS_SERVICE = DEFAULT_MESH_CONFIG["ingressService"]
DEFAULT_INGRESS_SELECTOR = DEFAULT_MESH_CONFIG["ingressSelector"]
DEFAULT_INGRESS_CLASS = DEFAULT_MESH_CONFIG["ingressClass"]
# pilot's K8S_INGRESS_NS default.
DEFAULT_ISTIOD_NAMESPACE = "istio-system"


def ingress_mode(mesh: Mapping[str, Any]) -> str:
    """meshConfig.ingressControllerMode, upper case ("" when unset)."""
    raw = mesh.get("ingressControllerMode")
    # Unquoted, OFF reads as the boolean false (YAML 1.1, as Helm reads values).
    return "OFF" if raw is False else as_text(raw).upper()


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    data: Mapping[str, Any]


def load_values(ctx: ValidationContext, relative: str) -> ValuesFile | None:
    path = ctx.root / relative
    if not path.is_file():
        return None
    try:
        data = load_with_lines(path)
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


def unserved_reason(
    solver_ingress: Mapping[str, Any],
    mesh: Mapping[str, Any],
    ingress_classes: Mapping[str, str],
    mesh_origin: str | None,
    *,
    classes_complete: bool,
) -> str | None:
    """Why istiod would not serve an ACME solver's Ingress, or None when it would.

    `ingress_classes` maps each IngressClass name to its controller. istiod serves an
    Ingress whose `ingressClassName` names an IngressClass with Istio's controller, or
    whose `class` annotation equals meshConfig.ingressClass, and (in DEFAULT mode only)
    one that names no class; in OFF mode none at all. Without `classes_complete` (plain
    objects, whose cluster may define more IngressClasses), an unknown IngressClass is
    taken to be Istio's when its name is meshConfig.ingressClass.
    """
    class_name = as_text(solver_ingress.get("ingressClassName"))
    annotation = as_text(solver_ingress.get("class"))
    mode = ingress_mode(mesh)
    mesh_class = as_text(mesh.get("ingressClass")) or DEFAULT_INGRESS_CLASS
    if mode == "OFF":
        where = f" in {mesh_origin}" if mesh_origin else ""
        return f"meshConfig.ingressControllerMode is OFF{where}"
    if class_name:
        return _class_name_reason(class_name, mesh_class, ingress_classes, classes_complete)
    if annotation:
        if annotation == mesh_class:
            return None
        return f"class {annotation!r} is not meshConfig.ingressClass {mesh_class!r}"
    if mode != "DEFAULT":
        return "the solver names no ingress class, and istiod serves only class-named Ingresses"
    return None


def _class_name_reason(
    class_name: str, mesh_class: str, ingress_classes: Mapping[str, str], classes_complete: bool
) -> str | None:
    controller = ingress_classes.get(class_name)
    if controller is None and classes_complete:
        return f"no IngressClass {class_name!r} is defined"
    if controller is None:
        if class_name == mesh_class:
            return None
        return f"class {class_name!r} is not meshConfig.ingressClass {mesh_class!r}"
    if controller != ISTIO_INGRESS_CONTROLLER:
        return (
            f"IngressClass {class_name!r} has controller {controller!r}, "
            f"not {ISTIO_INGRESS_CONTROLLER!r}"
        )
    return None
