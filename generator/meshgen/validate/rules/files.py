"""meshgen's own files: meshgen.yaml and the environment overlays."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen import yamlio
from meshgen.repo import ENVIRONMENTS_DIR
from meshgen.traffic.weights import weight_problems
from meshgen.validate.context import OverlayRef, ValidationContext
from meshgen.validate.model import Problem, Severity, rule


@rule("MG001", "manifest-unreadable", Severity.ERROR)
def manifest_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """meshgen.yaml is missing, not UTF-8, or not valid YAML.

    Restore meshgen.yaml from git (`git checkout -- meshgen.yaml`) or fix the YAML at the
    line shown.
    """
    error = ctx.manifest.error
    if error is not None:
        yield Problem(str(error.args[0]), ctx.location(ctx.manifest.path, error.line))


@rule("MG002", "manifest-schema", Severity.ERROR)
def manifest_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """meshgen.yaml does not match its schema.

    Compare with the keys `meshgen new` writes; the message names the key and the value
    expected.
    """
    for error in ctx.manifest_schema_errors:
        where = f"{error.key_path}: " if error.key_path else ""
        yield Problem(f"{where}{error.message}", ctx.location(ctx.manifest.path, error.line))


@rule("MG003", "manifest-file-unreadable", Severity.ERROR)
def static_file_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """A YAML file under cluster/, platform/ or gitops/ (or given to --files) is not valid YAML.

    Fix the YAML at the line shown; `git diff` shows what changed.
    """
    for file in ctx.static_files:
        if file.error is not None:
            yield Problem(str(file.error.args[0]), ctx.location(file.path, file.error.line))


@rule("MG101", "overlay-unreadable", Severity.ERROR)
def overlay_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment file is not UTF-8 or not valid YAML.

    Fix the YAML at the line shown; `git diff` shows what changed.
    """
    for ref in ctx.overlays:
        error = ref.file.error
        if error is not None and ref.file.path.exists():
            yield Problem(str(error.args[0]), ctx.location(ref.file.path, error.line))


@rule("MG102", "overlay-schema", Severity.ERROR)
def overlay_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment file does not match the environment schema.

    The schema is environments/schema.yaml in meshgen; the message names the key and
    what it must be.
    """
    for path, errors in ctx.overlay_schema_errors.items():
        for error in errors:
            where = f"{error.key_path}: " if error.key_path else ""
            yield Problem(f"{where}{error.message}", ctx.location(path, error.line))


@rule("MG103", "overlay-missing", Severity.ERROR)
def overlay_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment declared in meshgen.yaml has no file for one of its apps.

    Create environments/<env>/<app>.yaml (copy another environment's file), or remove
    the environment from meshgen.yaml.
    """
    for ref in ctx.overlays:
        if not ref.file.path.exists():
            line = _environment_line(ctx, ref.environment.name)
            yield Problem(
                f"environment {ref.environment.name!r} has no file {ctx.rel(ref.file.path)}",
                ctx.location(ctx.manifest.path, line),
            )


@rule("MG104", "overlay-undeclared", Severity.WARNING)
def overlay_undeclared(ctx: ValidationContext) -> Iterator[Problem]:
    """A folder under environments/ is not declared in meshgen.yaml, so nothing deploys it.

    Add it to `environments:` in meshgen.yaml, or delete the folder.
    """
    if ctx.repo is None or ctx.only_environments:
        return
    declared = {e.name for e in ctx.repo.environments}
    folder = ctx.root / ENVIRONMENTS_DIR
    if not folder.is_dir():
        return
    for child in sorted(folder.iterdir()):
        if child.is_dir() and child.name not in declared:
            yield Problem(
                f"environments/{child.name}/ is not listed under `environments:` in meshgen.yaml",
                ctx.location(child),
            )


@rule("MG110", "weights-invalid", Severity.ERROR, istio_code=None)
def weights_invalid(ctx: ValidationContext) -> Iterator[Problem]:
    """Traffic weights are not whole numbers 0..100 summing to 100 over defined versions.

    Edit `traffic:` so that every listed version exists under `versions:` and the weights
    add up to 100, or use `meshgen weights set ENV v1=90 v2=10`.
    """
    for ref, data, versions, traffic in _weight_maps(ctx):
        for problem in weight_problems(versions.keys(), traffic):
            # Non-integer and out-of-range weights break the environment schema too,
            # and MG102 reports them there once.
            if problem.code in ("type", "range"):
                continue
            line = yamlio.line_of(traffic, problem.version) if problem.version else None
            if line is None:
                line = yamlio.line_of(data, "traffic")
            yield Problem(problem.message, ctx.location(ref.file.path, line))


@rule("MG111", "version-without-weight", Severity.WARNING)
def version_without_weight(ctx: ValidationContext) -> Iterator[Problem]:
    """A version under `versions:` has no entry under `traffic:`; it gets weight 0.

    Give it an explicit weight (0 is fine) so that reviewers see it in the traffic table.
    """
    for ref, _, versions, traffic in _weight_maps(ctx):
        for version in versions:
            if version not in traffic:
                yield Problem(
                    f"version {version} has no weight under `traffic:`; add `{version}: 0`",
                    ctx.location(ref.file.path, yamlio.line_of(versions, version)),
                )


def _environment_line(ctx: ValidationContext, name: str) -> int | None:
    data = ctx.manifest.data
    if not isinstance(data, Mapping):
        return None
    environments = data.get("environments")
    if isinstance(environments, list):
        for entry in environments:
            if isinstance(entry, Mapping) and entry.get("name") == name:
                return yamlio.line_of(entry)
    return yamlio.line_of(data, "environments")


def _weight_maps(
    ctx: ValidationContext,
) -> Iterator[tuple[OverlayRef, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]:
    """Each readable overlay with its `versions:` and `traffic:` maps, when both are maps."""
    for ref in ctx.overlays:
        data = ref.file.data
        if ref.file.error is not None or not isinstance(data, Mapping):
            continue
        versions = data.get("versions")
        traffic = data.get("traffic")
        if isinstance(versions, Mapping) and isinstance(traffic, Mapping):
            yield ref, data, versions, traffic


@rule("MG112", "host-shared", Severity.ERROR)
def host_shared(ctx: ValidationContext) -> Iterator[Problem]:
    """Two environments serve the same external host.

    Each environment's Gateway and Certificate claim its `host:`; DNS can point a name at
    one gateway only, so give every environment its own host (e.g. first-app.<env>.<domain>).
    """
    first_seen: dict[tuple[str, str], OverlayRef] = {}
    for ref in ctx.overlays:
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
    for ref, _, versions, _ in _weight_maps(ctx):
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
                    ctx.location(ref.file.path, yamlio.line_of_path(image, ["tag"])),
                )
