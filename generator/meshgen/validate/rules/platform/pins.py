"""Platform releases follow the chart names, repositories and versions meshgen.yaml pins."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen import upstream
from meshgen.platform.objects import line_of_text
from meshgen.platform.releases import ChartRelease
from meshgen.platform.values import did_you_mean
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.platform import (
    environment_pins,
    pinned_versions,
    same_version,
    unique_releases,
)
from meshgen.validate.findings import Location, Problem, Severity, rule


def _normalized(url: str) -> str:
    return url.strip().rstrip("/").lower()


@rule("MG511", "chart-pin-mismatch", Severity.ERROR)
def chart_pin_mismatch(ctx: ValidationContext) -> Iterator[Problem]:
    """A platform release's chart name, chart repository or version differs from the pins.

    meshgen.yaml pins the Istio (`versions.istio`: charts base, cni, istiod, gateway) and
    cert-manager (`versions.certManager`) versions, and `meshgen platform upgrade` moves
    pin and releases together. Fix the release's chart name, its repository URL (the
    Application's `repoURL`, or the Flux HelmRepository's `url`) or its version, or change
    the pin in meshgen.yaml with `meshgen platform upgrade`.
    """
    pins = pinned_versions(ctx)
    names = upstream.chart_names()
    published = {_normalized(info.repository) for info in upstream.charts()}
    seen: set[tuple[Location, str]] = set()
    for release in unique_releases(ctx):
        for problem in _problems(ctx, release, pins, names, published):
            key = (problem.location, problem.message)
            if key not in seen:
                seen.add(key)
                yield problem


def _problems(
    ctx: ValidationContext,
    release: ChartRelease,
    pins: dict[str, str],
    names: tuple[str, ...],
    published: set[str],
) -> Iterator[Problem]:
    manifest = release.manifest
    label = (
        f"{manifest.kind} {f'{manifest.namespace}/' if manifest.namespace else ''}{manifest.name}"
    )
    repository = _normalized(release.repository)
    known = upstream.chart(release.chart)
    if known is None:
        if repository in published:
            yield Problem(
                f"{label}: {release.repository} has no chart {release.chart!r} meshgen knows"
                f"{did_you_mean(release.chart, list(names))}",
                ctx.location(manifest.source, line_of_text(ctx.root, manifest, release.chart)),
            )
        return
    if repository != _normalized(known.repository):
        holder = release.repository_object or manifest
        yield Problem(
            f"{label}: chart {release.chart} comes from {release.repository!r}, not from "
            f"{known.repository!r} where it is published",
            ctx.location(
                holder.source, line_of_text(ctx.root, holder, release.repository or "repoURL")
            ),
        )
    pinned = pins.get(known.pin)
    # An environment upgraded ahead of the others has its own pin; whether each
    # environment runs its own is MG513's to say.
    own = environment_pins(ctx, known.pin)
    if (
        pinned
        and not same_version(release.version, pinned)
        and not any(same_version(release.version, version) for version in own)
    ):
        yield Problem(
            f"{label}: chart {release.chart} {release.version or '(no version)'}, but "
            f"meshgen.yaml pins versions.{known.pin}: {pinned}",
            ctx.location(
                manifest.source, line_of_text(ctx.root, manifest, release.version or "chart")
            ),
        )
