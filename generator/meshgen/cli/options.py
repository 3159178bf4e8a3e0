"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

REPO_ARGUMENT = click.argument(
    "repo",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)


def helm_binary_option(function: F) -> F:
    return click.option(
        "--helm-binary",
        metavar="PATH",
        envvar="MESHGEN_HELM",
        help="Render with this helm executable instead of the embedded Helm SDK "
        "(also: MESHGEN_HELM).",
    )(function)
