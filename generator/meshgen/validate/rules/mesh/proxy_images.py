"""Sidecars older than the injector's image (istioctl's injection.ImageAnalyzer)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map
from meshgen.validate.facts.injection import (
    INJECTOR_CONFIG_MAP,
    PROXY_CONTAINER,
    SYSTEM_NAMESPACES,
    Mode,
    namespace_mode,
)
from meshgen.validate.facts.world import REVISION_LABEL, World, problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule


def _injected_image(world: World, revision: str) -> str | None:
    """The proxy image the injector of `revision` ("" for the default) puts in pods."""
    name = f"{INJECTOR_CONFIG_MAP}-{revision}" if revision else INJECTOR_CONFIG_MAP
    for config_map in world.kind("ConfigMap"):
        if config_map.name != name:
            continue
        raw = as_map(config_map.data.get("data")).get("values")
        try:
            values: Any = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        settings = as_map(as_map(values).get("global"))
        image = str(as_map(settings.get("proxy")).get("image") or "proxyv2")
        if "/" in image:
            return image
        tag = str(settings.get("tag") or "")
        mesh = world.mesh_config()[0]
        image_type = as_map(as_map(mesh.get("defaultConfig")).get("image")).get("imageType")
        if image_type == "distroless":
            tag += "-distroless"
        return f"{settings.get('hub')}/{image}:{tag}"
    return None


def _proxy_image(containers: list[Mapping[str, Any]]) -> str | None:
    for container in containers:
        if container.get("name") == PROXY_CONTAINER and container.get("image"):
            return str(container["image"])
    return None


@rule(
    "MG458",
    "proxy-image-mismatch",
    Severity.WARNING,
    istio_code="IST0158",
    istio_analyzer="injection.ImageAnalyzer",
)
def proxy_image_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """Pods of an injected namespace run a proxy image other than the one the injector uses.

    Restart the workloads (`kubectl rollout restart`) so that they get the current proxy;
    this usually follows an upgrade of the control plane.
    """
    for world in worlds(ctx):
        for name, namespace in world.sorted_namespaces():
            labels = world.labels(namespace)
            if name in SYSTEM_NAMESPACES or namespace_mode(labels) is not Mode.SIDECAR:
                continue
            expected = _injected_image(world, labels.get(REVISION_LABEL, ""))
            if expected is None:
                continue
            stale = sorted(
                w.manifest.name
                for w in world.workloads()
                if w.manifest.kind == "Pod"
                and w.namespace == name
                and (image := _proxy_image(w.containers)) is not None
                and image != expected
            )
            if stale:
                yield problem_at(
                    ctx,
                    world,
                    namespace,
                    f"pods {', '.join(stale)} run another proxy image than {expected}",
                )
