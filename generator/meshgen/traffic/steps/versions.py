"""Steps that change which versions an environment runs: add one at 0 %, retire one at 0 %."""

from __future__ import annotations

import re

from meshgen.credentials import credential_in_text
from meshgen.errors import ConfigError
from meshgen.traffic.envfile import EnvFile
from meshgen.traffic.steps.edit import (
    Edit,
    Target,
    app_args,
    command_line,
    finish,
    unknown_version,
)

# The grammar of docker/distribution references: what a registry accepts.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_IMAGE_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z"
)


def _refuse_credential(option: str, value: str) -> None:
    """An environment file is read by everyone with access to the repo: no secrets in it."""
    what = credential_in_text(value)
    if what is not None:
        raise ConfigError(
            f"{option}: the value looks like {what}; meshgen does not write credentials "
            "into environment files (keep them in a secret store)"
        )


def plan_add(
    target: Target,
    version: str,
    tag: str,
    repository: str | None = None,
    replicas: int | None = None,
) -> Edit:
    env = EnvFile.read(target.path)
    _refuse_credential("--image-tag", tag)
    if not _IMAGE_TAG.match(tag):
        raise ConfigError(
            f"--image-tag: {tag!r} is not an image tag (letters, digits, '_', '.', '-'; "
            "at most 128, not starting with '.' or '-'), e.g. 1.2.0"
        )
    model = env.version(env.version_names[-1]) if env.version_names else None
    chosen_repository = repository or (model.repository if model else "")
    if not chosen_repository:
        raise ConfigError("give the image with --image-repository, for example ghcr.io/acme/app")
    _refuse_credential("--image-repository", chosen_repository)
    if not _IMAGE_REPOSITORY.match(chosen_repository):
        raise ConfigError(
            f"--image-repository: {chosen_repository!r} is not an image repository, "
            "e.g. ghcr.io/acme/app"
        )
    chosen_replicas = replicas if replicas is not None else (model.replicas if model else None)
    new_text = env.with_version(version, chosen_repository, tag, chosen_replicas)
    after_traffic = {**env.raw_traffic, version: 0}
    command = command_line(
        "versions",
        "add",
        target.environment,
        version,
        "--image-tag",
        tag,
        *(["--image-repository", repository] if repository else []),
        *app_args(target),
    )
    subject = f"{target.label}: add {target.app} {version} ({chosen_repository}:{tag}) at 0%"
    return finish(
        target, env, new_text, [*env.version_names, version], after_traffic, command, subject
    )


def plan_retire(target: Target, version: str) -> Edit:
    env = EnvFile.read(target.path)
    if version not in env.version_names:
        raise unknown_version(target, env, version, retiring=True)
    weight = env.raw_traffic.get(version, 0)
    if weight != 0:
        others = [v for v in env.version_names if v != version]
        if others:
            advice = (
                f"move it to 0 first (for example `meshgen promote {target.environment} "
                f"{others[0]}`), then retire it"
            )
        else:
            advice = (
                "it is the only version; add its successor first (`meshgen versions add "
                f"{target.environment} VERSION --image-tag TAG`) and promote that"
            )
        raise ConfigError(
            f"{version} still takes {weight}% of {target.label}'s traffic; {advice}",
            path=env.path,
            line=env.weight_line(version),
        )
    new_text = env.without_version(version)
    after_traffic = {k: v for k, v in env.raw_traffic.items() if k != version}
    command = command_line("versions", "retire", target.environment, version, *app_args(target))
    subject = f"{target.label}: retire {target.app} {version}"
    remaining = [v for v in env.version_names if v != version]
    return finish(target, env, new_text, remaining, after_traffic, command, subject)
