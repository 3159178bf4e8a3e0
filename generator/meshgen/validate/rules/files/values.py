"""Values across environment files: shared hosts, mutable image tags."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshgen import yamlio
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.environment_files import weight_maps
from meshgen.validate.findings import Problem, Severity, rule
from meshgen.validate.inputs.repo_files import EnvironmentFileRef, value_position


@rule("MG112", "host-shared", Severity.ERROR)
def host_shared(ctx: ValidationContext) -> Iterator[Problem]:
    """Two environments serve the same external host.

    Each environment's Gateway and Certificate claim its `host:`; DNS can point a name at
    one gateway only, so give every environment its own host (e.g. first-app.<env>.<domain>).
    """
    first_seen: dict[tuple[str, str], EnvironmentFileRef] = {}
    for ref in ctx.environment_files:
        data = ref.file.data
        if ref.file.error is not None or not isinstance(data, Mapping):
            continue
        host = data.get("host")
        if not isinstance(host, str) or not host:
            continue
        key = (ref.app.name, host.lower())
        earlier = first_seen.setdefault(key, ref)
        if earlier is not ref:
            yield Problem(
                f"host {host} is also the host of environment {earlier.environment.name} "
                f"({ctx.rel(earlier.file.path)}); give {ref.environment.name} its own host",
                ctx.location(ref.file.path, yamlio.line_of(data, "host")),
            )


@rule("MG113", "mutable-image-tag", Severity.WARNING)
def mutable_image_tag(ctx: ValidationContext) -> Iterator[Problem]:
    """A version runs an image tag that can change under it (`latest`, or no tag).

    Pin every version to an immutable tag (a release number) or a digest: a canary compares
    two known builds, and a rollback must bring back exactly the build that ran before.
    """
    for ref, _, versions, _ in weight_maps(ctx):
        for version, spec in versions.items():
            image = spec.get("image") if isinstance(spec, Mapping) else None
            if not isinstance(image, Mapping) or image.get("digest"):
                continue
            tag = str(image.get("tag") or "")
            if tag.lower() in ("", "latest"):
                shown = tag or "no tag"
                yield Problem(
                    f"version {version} runs {image.get('repository', '?')} with {shown}; pin a "
                    "release tag or a digest",
                    ctx.location(ref.file.path, *_tag_position(image)),
                )


def _tag_position(image: Mapping[str, object]) -> tuple[int, int]:
    """Where the tag's value is, or (no tag) where the `image:` mapping starts."""
    return value_position(image, "tag") or (yamlio.line_of_path(image, ["tag"]), 1)
