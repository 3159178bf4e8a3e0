"""Options shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


ENV_HELM_TIMEOUT = "MESHGEN_HELM_TIMEOUT"


def _prepare_helm(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Set the render limits (the Helm worker starts with the first render, if any)."""
    from meshgen.helm.base import Limits
    from meshgen.helm.select import prepare

    limits = Limits()
    raw = os.environ.get(ENV_HELM_TIMEOUT)
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = 0.0
        if not 0 < seconds < 86400:
            raise click.BadParameter(
                f"{ENV_HELM_TIMEOUT}={raw[:40]!r}: expected the seconds one Helm render may "
                "take, such as 120",
                ctx=ctx,
                param=param,
            )
        limits = Limits(timeout_seconds=seconds)
    prepare(limits)
    return value


def helm_binary_option(function: F) -> F:
    return click.option(
        "--helm-binary",
        metavar="PATH",
        envvar="MESHGEN_HELM",
        callback=_prepare_helm,
        help="Render with this helm executable instead of the embedded Helm SDK "
        f"(also: MESHGEN_HELM). A render is stopped after {ENV_HELM_TIMEOUT} seconds "
        "[default: 120].",
    )(function)


def kubernetes_version_callback(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """The range `meshgen new` accepts: what the chart supports and meshgen validates."""
    if value is None:
        return None
    from meshgen.errors import ConfigError
    from meshgen.resources import kubernetes_versions
    from meshgen.scaffold.answers import KUBERNETES_MINOR, MIN_KUBERNETES_MINOR, Answers

    try:
        if not KUBERNETES_MINOR.match(value):
            raise ConfigError(value)
        Answers(kubernetes_version=value).validate()
    except ConfigError:
        raise click.BadParameter(
            f"expected a version from 1.{MIN_KUBERNETES_MINOR} to {kubernetes_versions()[-1]} "
            f"(what the chart supports and meshgen validates against), got {value!r}"
        ) from None
    return value
