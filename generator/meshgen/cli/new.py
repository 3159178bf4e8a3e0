"""`meshgen new`."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from meshgen.cli.progress import Progress

if TYPE_CHECKING:
    from meshgen.scaffold.answers import Answers

GITOPS_CHOICE = click.Choice(["argocd", "flux"])


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--no-input",
    is_flag=True,
    help="Do not prompt; take answers from options, the config file and defaults.",
)
@click.option(
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of answers (name, gitops, environments, region, domain, acmeEmail, "
    "repoUrl, kubernetesVersion, awsLoadBalancerController, externalDns).",
)
@click.option(
    "--name", help="Repository and cluster name prefix, a DNS label [default: DEST's name]."
)
@click.option(
    "--gitops", type=GITOPS_CHOICE, help="GitOps engine that syncs the repo [default: argocd]."
)
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="NAME",
    help="An environment; repeat for several [default: staging, production].",
)
@click.option("--region", help="AWS region of the clusters [default: eu-west-1].")
@click.option(
    "--domain",
    help="DNS domain; each environment serves first-app.<env>.<domain> [default: example.com].",
)
@click.option(
    "--acme-email", help="E-mail address for Let's Encrypt [default: platform@example.com]."
)
@click.option(
    "--repo-url",
    help="Git URL the GitOps engine pulls from [default: https://github.com/example/<name>.git].",
)
@click.option("--kubernetes-version", help="EKS Kubernetes minor version [default: 1.34].")
@click.option(
    "--aws-load-balancer-controller/--no-aws-load-balancer-controller",
    default=None,
    help="Install the AWS Load Balancer Controller; the gateway's NLB then has IP targets "
    "and keeps the client's address [default: no].",
)
@click.option(
    "--external-dns/--no-external-dns",
    default=None,
    help="Install external-dns, which publishes each environment's host in Route 53 [default: no].",
)
@click.option("--no-git", is_flag=True, help="Do not initialise git nor make the first commit.")
def new(
    dest: Path,
    no_input: bool,
    config_file: Path | None,
    no_git: bool,
    **options: Any,
) -> None:
    """Write a new GitOps repository at DEST and make its first commit.

    DEST must not exist or be empty. Answers come from the options, then --config-file,
    then defaults; without --no-input, meshgen asks for the ones not given.

    \b
    Examples:
      meshgen new acme-mesh --no-input
      meshgen new acme-mesh --gitops flux --env dev --env staging --env prod \\
          --domain acme.io --acme-email ops@acme.io --no-input
      meshgen new acme-mesh --config-file answers.yaml --no-input
    """
    from meshgen.cache_folder import template_cache
    from meshgen.errors import ConfigError
    from meshgen.scaffold import answers_from_mapping, generate
    from meshgen.scaffold.answers import DNS_LABEL, Answers, read_config_file
    from meshgen.scaffold.create import check_destination

    check_destination(dest.absolute())
    config = read_config_file(config_file) if config_file else None
    values: dict[str, Any] = dict(config.values) if config else {}
    given = {key: value for key, value in options.items() if value not in (None, ())}
    values.update(given)

    def checked(values: dict[str, Any]) -> Answers:
        """The answers, or the first error, named in --config-file when it gave the answer."""
        try:
            return answers_from_mapping(values)
        except ConfigError as exc:
            raise (config.blame(exc, given) if config else exc) from None

    derived = dest.absolute().name
    if no_input and "name" not in values:
        if not DNS_LABEL.match(derived):
            raise click.UsageError(
                f"cannot use DEST's folder name {derived!r} as the repository name "
                "(lowercase letters, digits, '-'); pass --name"
            )
        values["name"] = derived
    if not no_input:
        # A wrong given answer is reported before any question, not after all of them.
        checked(values)
        default_name = derived if DNS_LABEL.match(derived) else Answers().name
        values = _prompt_missing(values, replace(Answers(), name=default_name))
    answers = checked(values)
    progress = Progress(sys.stderr)
    progress.show(f"writing {dest}" + ("" if no_git else " and making its first commit"))
    try:
        result = generate(answers, dest, git=not no_git, template_cache=template_cache(os.environ))
    finally:
        progress.clear()
    click.echo(f"Wrote {len(result.files)} files to {result.path}")
    if result.commit:
        click.echo(f"First commit {result.commit[:12]} on branch main")
    if result.fallback_author:
        click.echo(
            f"note: git has no user.name/user.email here, so the first commit is authored "
            f"{result.fallback_author}; set them (git config --global user.name ...) before "
            "the first canary step, which needs a person as its author",
            err=True,
        )
    if result.enclosing_repository:
        click.echo(
            f"note: {result.path} is inside the git repository at "
            f"{result.enclosing_repository}, so it is a nested repository; add it to that "
            "repository's .gitignore, or rerun with --no-git to make it part of it",
            err=True,
        )
    for placeholder in _placeholders(answers):
        click.echo(f"Placeholder: {placeholder}", err=True)
    click.echo(f"Next: cd {shlex.quote(str(dest))} && {_meshgen_command()} validate")


def _meshgen_command() -> str:
    """`meshgen` when that is this program on the PATH, else the path it was started by.

    After `make demo` meshgen lives in .venv-demo/bin, off the PATH: the next step must
    work as printed.
    """
    started = Path(sys.argv[0])
    on_path = shutil.which("meshgen")
    if started.name != "meshgen" or (on_path and Path(on_path).resolve() == started.resolve()):
        return "meshgen"
    return shlex.quote(str(started.absolute()))


def _placeholders(answers: Answers) -> list[str]:
    """What `new` wrote that no certificate authority accepts, and where to change it."""
    from meshgen.domains import email_domain, reserved_suffix

    found = []
    if reserved_suffix(answers.domain):
        found.append(
            f"hosts under {answers.domain} (a reserved domain) cannot get a certificate: "
            "set `domain:` in meshgen.yaml and `host:` in environments/*/*.yaml to your own "
            "domain (or pass --domain)"
        )
    if reserved_suffix(email_domain(answers.acme_email)):
        found.append(
            f"Let's Encrypt refuses the contact {answers.acme_email}: set `acmeEmail:` in "
            "meshgen.yaml and `email:` in platform/cert-manager/cluster-issuers.yaml to a "
            "mailbox your team reads (or pass --acme-email)"
        )
    if found:
        found.append("`meshgen validate` reports them as errors until they are replaced")
    return found


def _prompt_missing(values: dict[str, Any], defaults: Any) -> dict[str, Any]:
    """Ask for every answer not given, checking each at once and asking again if wrong."""
    from meshgen.errors import ConfigError
    from meshgen.scaffold import answers_from_mapping

    def checked(key: str) -> Any:
        def check(text: str) -> Any:
            value: Any = text.strip()
            if key == "environments":
                value = tuple(part.strip() for part in value.split(",") if part.strip())
            try:
                # Every other answer is a valid default, so an error is about this one. The
                # answer comes last: it must not be replaced by the engine's default.
                answers_from_mapping({"gitops": values.get("gitops", "argocd"), key: value})
            except ConfigError as exc:
                raise click.BadParameter(str(exc).split(": ", 1)[-1]) from None
            return value

        return check

    questions = [
        ("name", "Repository name", defaults.name),
        ("gitops", "GitOps engine (argocd or flux)", defaults.gitops),
        ("environments", "Environments (comma-separated)", ",".join(defaults.environments)),
        ("region", "AWS region", defaults.region),
        ("domain", "DNS domain", defaults.domain),
        ("acme_email", "E-mail for Let's Encrypt", defaults.acme_email),
        ("repo_url", "Git URL the GitOps engine pulls from", None),
        ("kubernetes_version", "EKS Kubernetes version", defaults.kubernetes_version),
    ]
    for key, text, default in questions:
        if key in values:
            continue
        # The repository URL's default follows the name just chosen.
        shown = (
            replace(defaults, name=values["name"]).effective_repo_url
            if default is None
            else default
        )
        try:
            values[key] = click.prompt(text, default=shown, value_proc=checked(key))
        except click.exceptions.Abort:
            if sys.stdin.isatty():
                raise
            # No terminal (CI, a pipe): the questions cannot be answered.
            raise click.UsageError(
                f"no terminal to answer {text!r}; pass --no-input to take the answers "
                "from the options, --config-file and the defaults"
            ) from None
    return values
