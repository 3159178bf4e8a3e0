"""What `istioctl analyze` assumes about a cluster that plain files do not show.

Given only manifests, istioctl analyzes them against a mesh configuration (`--meshConfigFile`,
else Istio's defaults) and adds the default ingress gateway, a Pod and a Service labelled
`istio: ingressgateway` in istio-system, so that Gateways written for it are not reported
as selecting nothing. meshgen does the same for `--files` unless the input brings a
gateway of its own (or `--no-default-gateway`); inside a generated repository the
repository says what is installed, so nothing is assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.render import Manifest
from meshgen.validate.facts.access import as_map

ISTIO_NAMESPACE = "istio-system"
# Where findings about the assumed gateway would point; no rule reports on it.
ASSUMED_SOURCE = "<istioctl default ingress gateway>"
MESH_DEFAULTS: Mapping[str, Any] = {
    "ingressControllerMode": "STRICT",
    "ingressService": "istio-ingressgateway",
}
DEFAULT_GATEWAY_LABELS: Mapping[str, str] = {"istio": "ingressgateway"}
# The Service istioctl adds for files-only analysis: port -> target port.
DEFAULT_GATEWAY_PORTS: Mapping[int, int] = {80: 80, 443: 443, 31400: 31400, 15443: 15443}


@dataclass(frozen=True)
class MeshContext:
    """The mesh configuration given on the command line, and whether to assume a gateway."""

    mesh_config: Mapping[str, Any] | None = None
    mesh_origin: str | None = None
    assume_default_gateway: bool = False


def _defines_gateway(manifest: Manifest) -> bool:
    """Whether an object runs an Istio gateway: Istio's gateway charts label its pods `istio`."""
    metadata = manifest.data.get("metadata")
    if manifest.kind != "Pod":
        template = as_map(as_map(manifest.data.get("spec")).get("template"))
        metadata = template.get("metadata")
    return "istio" in as_map(as_map(metadata).get("labels"))


def default_gateway_objects(objects: Sequence[Manifest], context: MeshContext) -> list[Manifest]:
    """The Pod and Service of istioctl's default ingress gateway, when they are to be assumed."""
    mesh = {**MESH_DEFAULTS, **(context.mesh_config or {})}
    if (
        not context.assume_default_gateway
        or str(mesh.get("ingressControllerMode")).upper() == "OFF"
        or any(_defines_gateway(m) for m in objects)
    ):
        return []
    name = str(mesh.get("ingressService") or MESH_DEFAULTS["ingressService"])
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{name}-dummypod",
            "namespace": ISTIO_NAMESPACE,
            "labels": dict(DEFAULT_GATEWAY_LABELS),
        },
        "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2"}]},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ISTIO_NAMESPACE},
        "spec": {
            "selector": dict(DEFAULT_GATEWAY_LABELS),
            "ports": [
                {"name": f"port-{port}", "port": port, "targetPort": target, "protocol": "TCP"}
                for port, target in DEFAULT_GATEWAY_PORTS.items()
            ],
        },
    }
    return [Manifest(ASSUMED_SOURCE, 1, "", pod), Manifest(ASSUMED_SOURCE, 1, "", service)]


def load_mesh_config(path: Path, shown: str) -> Mapping[str, Any]:
    """A MeshConfig from YAML: the MeshConfig itself, or the `istio` ConfigMap holding it."""
    text = yamlio.read_text(path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            "--mesh-config is not valid YAML; give a MeshConfig or the `istio` ConfigMap",
            path=Path(shown),
            line=line,
        ) from None
    if isinstance(document, Mapping) and document.get("kind") == "ConfigMap":
        data = document.get("data")
        mesh_text = data.get("mesh") if isinstance(data, Mapping) else None
        if not isinstance(mesh_text, str):
            raise ConfigError(
                "--mesh-config is a ConfigMap without `data.mesh`; give the `istio` ConfigMap "
                "or a MeshConfig",
                path=Path(shown),
                line=1,
            )
        try:
            document = yaml.safe_load(mesh_text)
        except yaml.YAMLError:
            raise ConfigError(
                "`data.mesh` of the --mesh-config ConfigMap is not valid YAML",
                path=Path(shown),
                line=1,
            ) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise ConfigError(
            "--mesh-config must hold a mapping (a MeshConfig or the `istio` ConfigMap)",
            path=Path(shown),
            line=1,
        )
    return document
