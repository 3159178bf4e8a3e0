"""Workloads: objects that run pods, with their pod spec and labels."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_map, dig, str_map
from meshgen.validate.findings import Problem

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class Workload:
    """An object that runs pods: its pod spec, and the namespace its pods run in.

    `environment` is "" for a static object; `namespace` is "" where no rule needs it.
    """

    environment: str
    manifest: Manifest
    pod: Mapping[str, Any]
    namespace: str = ""

    @cached_property
    def pod_labels(self) -> dict[str, str]:
        """The labels the pods get (from the pod template, or the Pod's own)."""
        return str_map(self.template_metadata.get("labels"))

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for key in _CONTAINER_LISTS:
            items = self.pod.get(key) or []
            if isinstance(items, list):
                found.extend(item for item in items if isinstance(item, Mapping))
        return found

    @property
    def template_metadata(self) -> Mapping[str, Any]:
        """The pod template's metadata (the Pod's own, for a Pod)."""
        path = POD_TEMPLATE_PATHS[self.manifest.kind][:-1]
        return as_map(dig(self.manifest.data, *path, "metadata"))

    @property
    def pod_security(self) -> Mapping[str, Any]:
        context = self.pod.get("securityContext")
        return context if isinstance(context, Mapping) else {}

    def problem(self, ctx: ValidationContext, message: str) -> Problem:
        label = f"[{self.environment}] " if self.environment else ""
        return Problem(
            f"{label}{self.manifest.ref}: {message}",
            ctx.location(self.manifest.source, self.manifest.line),
        )


def container_security(container: Mapping[str, Any]) -> Mapping[str, Any]:
    context = container.get("securityContext")
    return context if isinstance(context, Mapping) else {}


def workloads(ctx: ValidationContext) -> Iterator[Workload]:
    for environment, manifest in ctx.all_objects:
        path = POD_TEMPLATE_PATHS.get(manifest.kind)
        if path is None:
            continue
        pod = dig(manifest.data, *path)
        if isinstance(pod, Mapping):
            yield Workload(environment, manifest, pod)


def container_name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", "?"))
