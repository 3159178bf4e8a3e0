"""`meshgen doctor`."""

from __future__ import annotations

import click

from meshgen.cli.options import helm_binary_option


@click.command()
@helm_binary_option
def doctor(helm_binary: str | None) -> None:
    """Check the tools meshgen uses: the Helm backend, git, kubectl and a kube context.

    Exit code 0 when meshgen can work (Helm and git available); kubectl and a context
    are needed only for `meshgen validate --kubectl`.

    \b
    Example:
      meshgen doctor
    """
    from meshgen.doctor import can_work, run_checks

    checks = run_checks(helm_binary)
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark = "ok" if check.ok else ("MISSING" if check.required else "--")
        click.echo(f"{check.name.ljust(width)}  {mark.ljust(7)}  {check.detail}")
    if not can_work(checks):
        click.echo("meshgen: error: a required tool is missing (see above)", err=True)
        click.get_current_context().exit(2)
