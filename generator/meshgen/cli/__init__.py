"""The `meshgen` command line: a thin layer over the core.

Commands parse options, call the core, print what it returns and choose the exit code.
Command modules import the core lazily, so `meshgen --help` stays fast.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from meshgen import __version__
from meshgen.cli.grammar import SuggestingGroup
from meshgen.errors import MeshgenError

ENV_TRACEBACK = "MESHGEN_TRACEBACK"

# name -> "module:attribute", imported when the command runs or its help is shown.
_COMMANDS = {
    "new": "meshgen.cli.new:new",
    "render": "meshgen.cli.render:render",
    "validate": "meshgen.cli.validate:validate",
    "rules": "meshgen.cli.validate:rules",
    "doctor": "meshgen.cli.doctor:doctor",
    "weights": "meshgen.cli.weights:weights",
    "shift": "meshgen.cli.canary:shift",
    "promote": "meshgen.cli.canary:promote",
    "versions": "meshgen.cli.canary:versions",
    "diff": "meshgen.cli.diff:diff",
    "schemas": "meshgen.cli.schemas:schemas",
}


# Forms of earlier releases, answered with the one that replaced them.
_REPLACED_FORMS = {
    "--repo": "the repository is chosen before the command: meshgen -C DIR COMMAND ...",
}


class MeshgenGroup(SuggestingGroup):
    """Loads commands on demand and turns MeshgenErrors into one line and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; usage errors print as one `meshgen: error:` line, like the rest."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            message = exc.format_message()
            if isinstance(exc, click.NoSuchOption) and exc.option_name in _REPLACED_FORMS:
                message = f"No such option {exc.option_name!r}: {_REPLACED_FORMS[exc.option_name]}"
            elif _names_a_folder(exc):
                message += f"; {_REPLACED_FORMS['--repo']}"
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"meshgen: error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("meshgen: aborted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - wiring mistake
            raise TypeError(f"{target} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        directory = ctx.params.get("directory")
        # As `git -C`: every command, and every relative path it is given, starts in DIR.
        # The previous folder comes back afterwards, for callers that run meshgen in-process.
        moved = contextlib.chdir(directory) if directory else contextlib.nullcontext()
        try:
            with moved:
                return super().invoke(ctx)
        except MeshgenError as exc:
            if _show_traceback(ctx):
                _print_traceback()
            from meshgen.credentials import scrub  # only when an error is shown

            click.echo(f"meshgen: error: {scrub(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`meshgen rules | head`): nothing to report. Point
            # stdout at /dev/null so that flushing at exit does not raise again.
            _silence_stdout()
            ctx.exit(0)
        except OSError as exc:
            # The file system said no (disk full, permissions, ...): the user's problem to
            # fix, not a bug, and the command left nothing half-written.
            if _show_traceback(ctx):
                _print_traceback()
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"meshgen: error: {exc.strerror or exc}{where}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("meshgen: interrupted; nothing was left half-written", err=True)
            ctx.exit(130)
        except Exception as exc:
            if _show_traceback(ctx):
                raise
            click.echo(
                f"meshgen: internal error: {type(exc).__name__}: {exc} "
                "(this is a bug in meshgen; rerun with --traceback and report it)",
                err=True,
            )
            ctx.exit(2)


def _names_a_folder(exc: click.ClickException) -> bool:
    """An extra argument that is a folder: the repository, as earlier releases took it."""
    found = re.match(r"Got unexpected extra arguments? \((.*)\)$", exc.format_message())
    return found is not None and any(Path(word).is_dir() for word in found[1].split())


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _print_traceback() -> None:
    # traceback pulls in linecache and tokenize; only an error being shown needs them.
    import traceback

    traceback.print_exc()


def _show_traceback(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("traceback")) or os.environ.get(ENV_TRACEBACK) == "1"


@click.group(
    cls=MeshgenGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="meshgen")
@click.option(
    "-C",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Run as if meshgen was started in DIR, like `git -C` "
    "[default: the repository around the current folder].",
)
@click.option(
    "--traceback",
    is_flag=True,
    help=f"Show the Python traceback of an error (also: {ENV_TRACEBACK}=1).",
)
def cli(directory: Path | None, traceback: bool) -> None:
    """Bootstrap and operate a GitOps repository for Istio canary releases on EKS.

    Every command works on the repository around the current folder, or around DIR
    with -C DIR.

    \b
    A typical day:
      meshgen new acme-mesh --no-input          write a repo (Argo CD, staging + production)
      cd acme-mesh && meshgen validate          prove it right, offline
      meshgen -C acme-mesh render --env staging see what the cluster will get
      meshgen weights set staging v1=90 v2=10   move traffic (also: shift, promote)
      meshgen doctor                            check the tools meshgen and the bootstrap use

    Exit codes: 0 success, 1 validation findings, 2 the command could not do its job.
    """


def main() -> NoReturn:
    cli.main(prog_name="meshgen")
    sys.exit(0)  # pragma: no cover - cli.main exits itself
