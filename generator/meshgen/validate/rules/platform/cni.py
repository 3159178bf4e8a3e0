"""Istio CNI: istiod expects the node agent exactly where one is installed, and after it."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.gitops import (
    Release,
    comes_after,
    helm_releases,
    line_of_text,
    release_target,
)
from meshgen.validate.facts.meshconfig import ISTIOD_VALUES, istiod_cni_setting
from meshgen.validate.findings import Location, Problem, Severity, rule


@rule("MG505", "istio-cni-mismatch", Severity.ERROR)
def istio_cni_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """istiod's `cni.enabled` and the Istio CNI release (chart `cni`) disagree, or run out of order.

    With `cni.enabled: true` istiod injects an `istio-validation` init container in place
    of `istio-init`, and it fails on every node without the Istio CNI node agent: release
    the `cni` chart as `istio-cni` in istio-system beside istiod, before it (sync wave or
    dependsOn), with values platform/istio/cni.values.yaml. A `cni` release while istiod's
    `cni.enabled` is not true leaves istiod injecting `istio-init`, which needs NET_ADMIN
    and NET_RAW: set `cni.enabled: true` in platform/istio/istiod.values.yaml.
    """
    releases = helm_releases(ctx)
    istiods = [r for r in releases if r.chart == "istiod"]
    cnis = [r for r in releases if r.chart == "cni"]
    setting = istiod_cni_setting(ctx)
    cni_targets = {release_target(r) for r in cnis}
    istiod_targets = {release_target(r) for r in istiods}

    def at(release: Release) -> Location:
        manifest = release.manifest
        return ctx.location(manifest.source, line_of_text(ctx, manifest, f"chart: {release.chart}"))

    def where(release: Release) -> str:
        return f"{release.manifest.kind} {release.manifest.name}"

    if setting.enabled:
        for release in istiods:
            target = release_target(release)
            if target not in cni_targets:
                yield Problem(
                    f"{where(release)} installs istiod with cni.enabled: true "
                    f"({ISTIOD_VALUES}), but no `cni` chart release runs beside it ({target}): "
                    "injected pods would fail their istio-validation init container",
                    at(release),
                )
                continue
            for cni in (r for r in cnis if release_target(r) == target):
                if not comes_after(ctx, release, cni):
                    yield Problem(
                        f"{where(release)} is not ordered after {where(cni)}: istiod could "
                        "inject pods before the Istio CNI node agent runs, and they would fail "
                        "their istio-validation init container; give the CNI release an "
                        "earlier sync wave, or list it under istiod's dependsOn",
                        at(release),
                    )
        return
    for release in cnis:
        target = release_target(release)
        if target in istiod_targets:
            yield Problem(
                f"{where(release)} installs the Istio CNI node agent, but cni.enabled is not "
                f"true in {ISTIOD_VALUES}: istiod still injects istio-init, which needs "
                "NET_ADMIN and NET_RAW",
                at(release),
            )
