"""Every environment is deployed by the GitOps engine."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.config import environment_line
from meshgen.validate.facts.gitops import argocd_deployments, flux_deployments, repo_path
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG503", "environment-not-deployed", Severity.ERROR)
def environment_not_deployed(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment in meshgen.yaml has no Argo CD Application or Flux HelmRelease for an app.

    Nothing would deploy the app there. With Argo CD, add the environment (its name,
    namespace and cluster) to the elements of the app's ApplicationSet in
    gitops/argocd/apps/; with Flux, add gitops/flux/clusters/<env>/ and
    gitops/flux/apps/<env>/ as `meshgen new` writes them for another environment.
    """
    repo = ctx.repo
    if repo is None or repo.gitops not in ("argocd", "flux"):
        return
    argocd = [d for _, d in argocd_deployments(ctx)] if repo.gitops == "argocd" else []
    for environment in ctx.environments:
        deployments = argocd if repo.gitops == "argocd" else flux_deployments(ctx, environment.name)
        for app in repo.apps:
            values_file = ctx.rel(repo.environment_file_path(environment.name, app.name))
            chart = repo_path(app.chart)
            target = (
                (environment.cluster, environment.namespace)
                if repo.gitops == "argocd"
                else (environment.name, environment.namespace)
            )
            if any(
                d.chart == chart and (d.cluster, d.namespace) == target and values_file in d.values
                for d in deployments
            ):
                continue
            engine = "Argo CD Application" if repo.gitops == "argocd" else "Flux HelmRelease"
            where = (
                f"cluster {environment.cluster!r}"
                if repo.gitops == "argocd"
                else f"gitops/flux/clusters/{environment.name}/"
            )
            yield Problem(
                f"environment {environment.name!r}: no {engine} deploys {chart} with "
                f"{values_file} to namespace {environment.namespace!r} ({where})",
                ctx.location(ctx.config.path, environment_line(ctx, environment.name)),
            )
