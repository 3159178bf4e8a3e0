"""`meshgen doctor`."""

from __future__ import annotations

from pathlib import Path

import click

from meshgen.cli.options import helm_binary_option


@click.command()
@helm_binary_option
@click.option(
    "--bootstrap",
    is_flag=True,
    help="Also fail (exit 2) when a tool the cluster bootstrap needs is missing or skewed.",
)
def doctor(helm_binary: str | None, bootstrap: bool) -> None:
    """Check the tools meshgen uses, and those bootstrapping the clusters needs.

    meshgen needs the Helm backend and git. The bootstrap needs eksctl, the AWS CLI, the
    CLI of the repository's GitOps engine (argocd or flux), and a kubectl within one
    minor version of the repository's Kubernetes version; inside a repository, doctor
    checks against its meshgen.yaml. kubectl and a context are needed for
    `meshgen validate --kubectl`.

    Exit code 0 when meshgen can work (with --bootstrap: and the bootstrap tools are
    there), 2 otherwise.

    \b
    Examples:
      meshgen doctor
      meshgen -C acme-mesh doctor --bootstrap
    """
    from meshgen.doctor import RepoFacts, can_bootstrap, can_work, run_checks
    from meshgen.errors import ConfigError
    from meshgen.repo import load_repo

    try:
        model = load_repo(Path())
        facts: RepoFacts | None = RepoFacts(model.gitops, model.kubernetes_version)
        where = f"repository {model.root} ({model.gitops}, Kubernetes {model.kubernetes_version})"
    except ConfigError:
        facts = None
        where = "no meshgen repository here: checking the tools of both GitOps engines"
    checks = run_checks(helm_binary, facts)
    click.echo(where)
    width = max(len(check.name) for check in checks)
    for check in checks:
        needed = check.required or (bootstrap and check.bootstrap)
        mark = "ok" if check.ok else (check.problem if needed else "--")
        click.echo(f"{check.name.ljust(width)}  {mark.ljust(7)}  {check.detail}")
    if not can_work(checks):
        click.echo("meshgen: error: a required tool is missing (see above)", err=True)
        click.get_current_context().exit(2)
    if bootstrap and not can_bootstrap(checks):
        click.echo("meshgen: error: the bootstrap cannot run yet (see above)", err=True)
        click.get_current_context().exit(2)
