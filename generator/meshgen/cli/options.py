"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def helm_binary_option(function: F) -> F:
    return click.option(
        "--helm-binary",
        metavar="PATH",
        envvar="MESHGEN_HELM",
        help="Render with this helm executable instead of the embedded Helm SDK "
        "(also: MESHGEN_HELM).",
    )(function)


def kubernetes_version_callback(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """The range `meshgen new` accepts: what the chart supports and meshgen validates."""
    if value is None:
        return None
    from meshgen.errors import ConfigError
    from meshgen.scaffold.answers import KUBERNETES_MINOR, MIN_KUBERNETES_MINOR, Answers
    from meshgen.validate.schemas.kube import available_versions

    try:
        if not KUBERNETES_MINOR.match(value):
            raise ConfigError(value)
        Answers(kubernetes_version=value).validate()
    except ConfigError:
        raise click.BadParameter(
            f"expected a version from 1.{MIN_KUBERNETES_MINOR} to {available_versions()[-1]} "
            f"(what the chart supports and meshgen validates against), got {value!r}"
        ) from None
    return value
