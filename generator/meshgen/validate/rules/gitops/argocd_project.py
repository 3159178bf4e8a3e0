"""Every Argo CD Application is permitted by its AppProject."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.platform.argocd import Destination, Destinations, source_permitted
from meshgen.platform.objects import at, items, line_of_text, mapping, text
from meshgen.platform.releases import application_sources, argocd_applications
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.platform import repo_objects
from meshgen.validate.findings import Problem, Severity, rule

# Argo CD's built-in project, which permits everything unless an AppProject redefines it.
DEFAULT_PROJECT = "default"


@rule("MG509", "appproject-not-permitted", Severity.ERROR)
def appproject_not_permitted(ctx: ValidationContext) -> Iterator[Problem]:
    """An Argo CD Application is not permitted by its AppProject, or names none defined.

    Argo CD refuses to sync an Application whose source repository is not among its
    project's `sourceRepos`, or whose destination (cluster and namespace) is not among its
    `destinations` (globs; `!` entries deny). Add the repository or destination to the
    AppProject, or correct the Application. Checked when the repository defines
    AppProjects; the built-in `default` project is not.
    """
    objects = repo_objects(ctx)
    projects = {m.name: m for m in objects.of("argoproj.io", "AppProject")}
    if not projects:
        return
    destinations = {
        name: Destinations(
            [Destination.of(entry) for entry in items(at(project.data, "spec", "destinations"))]
        )
        for name, project in projects.items()
    }
    for application in argocd_applications(objects):
        manifest = application.manifest
        label = f"{manifest.kind} {application.name}"
        name = text(application.spec.get("project")) or DEFAULT_PROJECT
        project = projects.get(name)
        if project is None:
            if name != DEFAULT_PROJECT:
                yield Problem(
                    f"{label}: names AppProject {name!r}, which the repository does not "
                    f"define (AppProjects: {', '.join(sorted(projects))})",
                    ctx.location(manifest.source, line_of_text(ctx.root, manifest, "project:")),
                )
            continue
        spec = mapping(project.data.get("spec"))
        repos = [text(entry) for entry in items(spec.get("sourceRepos"))]
        for source in application_sources(application.spec):
            url = text(source.get("repoURL"))
            if url and not source_permitted(repos, url):
                yield Problem(
                    f"{label}: AppProject {name} does not permit source repository {url!r} "
                    f"(sourceRepos, {project.source})",
                    ctx.location(manifest.source, line_of_text(ctx.root, manifest, url)),
                )
        wanted = Destination.of(application.spec.get("destination"))
        if not destinations[name].permit(wanted):
            yield Problem(
                f"{label}: AppProject {name} does not permit destination {wanted} "
                f"(destinations, {project.source})",
                ctx.location(manifest.source, line_of_text(ctx.root, manifest, "destination:")),
            )
