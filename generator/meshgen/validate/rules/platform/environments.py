"""Every environment has its cluster and its platform."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.upstream import CHART_PINS
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.config import environment_line
from meshgen.validate.facts.platform import environment_releases, pinned_versions, repo_objects
from meshgen.validate.findings import Problem, Severity, rule

# Istio CNI is optional; MG505 keeps it and istiod's `cni.enabled` together.
OPTIONAL_CHARTS = ("cni",)


@rule("MG506", "environment-cluster-missing", Severity.ERROR)
def environment_cluster_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment's cluster has no eksctl ClusterConfig under cluster/.

    Nothing says how to create the cluster the environment runs on. Add
    cluster/<env>.yaml (kind ClusterConfig, `metadata.name` the environment's `cluster:` in
    meshgen.yaml) as `meshgen new` writes it, or correct the environment's `cluster:`.
    """
    if ctx.repo is None:
        return
    created = {
        manifest.name
        for manifest in repo_objects(ctx).of("eksctl.io", "ClusterConfig")
        if manifest.source.startswith("cluster/")
    }
    for environment in ctx.environments:
        if environment.cluster not in created:
            yield Problem(
                f"environment {environment.name!r} runs on cluster {environment.cluster!r}, "
                "but no eksctl ClusterConfig under cluster/ creates it",
                ctx.location(ctx.config.path, environment_line(ctx, environment.name)),
            )


@rule("MG507", "environment-platform-missing", Severity.ERROR)
def environment_platform_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment lacks a release of a platform chart meshgen.yaml pins.

    Istio (charts base, istiod, gateway) and cert-manager must run in every environment for
    the app's mesh routing and certificates to work. With Argo CD, restore the platform
    Applications whose destination is the environment's cluster; with Flux, the `platform`
    Kustomization of gitops/flux/clusters/<env>/ (as `meshgen new` writes them).
    """
    repo = ctx.repo
    if repo is None or repo.gitops not in ("argocd", "flux"):
        return
    pins = pinned_versions(ctx)
    required = [
        chart for chart, pin in CHART_PINS.items() if pin in pins and chart not in OPTIONAL_CHARTS
    ]
    releases = environment_releases(ctx)
    for environment in ctx.environments:
        present = {release.chart for release in releases.get(environment.name, [])}
        missing = [chart for chart in required if chart not in present]
        if not missing:
            continue
        where = (
            f"no Argo CD Application releases it to cluster {environment.cluster!r}"
            if repo.gitops == "argocd"
            else f"gitops/flux/clusters/{environment.name}/ does not apply a HelmRelease of it"
        )
        yield Problem(
            f"environment {environment.name!r} has no release of chart "
            f"{', '.join(missing)}: {where}",
            ctx.location(ctx.config.path, environment_line(ctx, environment.name)),
        )
