"""The environment files: present, declared, readable and schema-valid."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.repo import ENVIRONMENTS_DIR
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.config import environment_line
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG101", "environment-file-unreadable", Severity.ERROR)
def environment_file_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment file is not UTF-8 or not valid YAML.

    Fix the YAML at the line shown; `git diff` shows what changed.
    """
    for ref in ctx.environment_files:
        error = ref.file.error
        if error is not None and ref.file.path.exists():
            yield Problem(str(error.args[0]), ctx.location(ref.file.path, error.line))


@rule("MG102", "environment-file-schema", Severity.ERROR)
def environment_file_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment file does not match the environment schema.

    The schema is environments/schema.yaml in meshgen; the message names the key and
    what it must be.
    """
    for path, errors in ctx.environment_file_schema_errors.items():
        for error in errors:
            where = f"{error.key_path}: " if error.key_path else ""
            yield Problem(f"{where}{error.message}", ctx.location(path, error.line))


@rule("MG103", "environment-file-missing", Severity.ERROR)
def environment_file_missing(ctx: ValidationContext) -> Iterator[Problem]:
    """An environment declared in meshgen.yaml has no file for one of its apps.

    Create environments/<env>/<app>.yaml (copy another environment's file), or remove
    the environment from meshgen.yaml.
    """
    for ref in ctx.environment_files:
        if not ref.file.path.exists():
            line = environment_line(ctx, ref.environment.name)
            yield Problem(
                f"environment {ref.environment.name!r} has no file {ctx.rel(ref.file.path)}",
                ctx.location(ctx.config.path, line),
            )


@rule("MG104", "environment-file-undeclared", Severity.WARNING)
def environment_file_undeclared(ctx: ValidationContext) -> Iterator[Problem]:
    """A folder under environments/ is not declared in meshgen.yaml, so nothing deploys it.

    Add it to `environments:` in meshgen.yaml, or delete the folder.
    """
    if ctx.repo is None or ctx.options.environments:
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
