"""Pod Security levels that would reject Istio's injected `istio-init` container."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.meshconfig import ISTIOD_VALUES, mesh_uses_istio_cni
from meshgen.validate.findings import Problem, Severity, rule

_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

# Pod Security levels that forbid the NET_ADMIN and NET_RAW capabilities istio-init adds.
_LEVELS_WITHOUT_NET_ADMIN = frozenset({"baseline", "restricted"})


def _sidecar_injection_on(labels: Mapping[str, Any]) -> bool:
    # Istio's injector reads `istio-injection` first; `disabled` wins over a revision label.
    injection = labels.get("istio-injection")
    if injection is not None:
        return bool(injection == "enabled")
    return bool(labels.get("istio.io/rev"))


@rule("MG613", "pss-istio-init-rejected", Severity.ERROR)
def istio_init_rejected(ctx: ValidationContext) -> Iterator[Problem]:
    """An injected namespace enforces `baseline` or `restricted` while istiod injects istio-init.

    Without the Istio CNI node agent, istiod adds to every injected pod an `istio-init`
    container that needs NET_ADMIN and NET_RAW, which both levels forbid: admission rejects
    the pods. Install Istio CNI (chart `cni` as release `istio-cni`, and `cni.enabled: true`
    in platform/istio/istiod.values.yaml), or enforce `privileged` on the namespace
    (`namespace.podSecurityEnforce: privileged` in the environment file).
    """
    if mesh_uses_istio_cni(ctx) is not False:
        return
    for environment, manifest in ctx.all_objects:
        if manifest.kind != "Namespace" or manifest.api_version != "v1":
            continue
        metadata = manifest.data.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        if not isinstance(labels, Mapping) or not _sidecar_injection_on(labels):
            continue
        level = labels.get(_ENFORCE_LABEL)
        if level not in _LEVELS_WITHOUT_NET_ADMIN:
            continue
        label = f"[{environment}] " if environment else ""
        yield Problem(
            f"{label}{manifest.ref}: enforces Pod Security {level!r} with sidecar injection on, "
            f"but cni.enabled is not true in {ISTIOD_VALUES}: istio-init needs NET_ADMIN, "
            "so pods will be rejected",
            ctx.location(manifest.source, manifest.line),
        )
