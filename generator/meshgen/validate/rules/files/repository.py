"""The config (meshgen.yaml) and the static files: readable and schema-valid."""

from __future__ import annotations

from collections.abc import Iterator

from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Problem, Severity, rule


@rule("MG001", "config-unreadable", Severity.ERROR)
def config_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """meshgen.yaml is missing, not UTF-8, or not valid YAML.

    Restore meshgen.yaml from git (`git checkout -- meshgen.yaml`) or fix the YAML at the
    line shown.
    """
    error = ctx.config.error
    if error is not None:
        yield Problem(str(error.args[0]), ctx.location(ctx.config.path, error.line))


@rule("MG002", "config-schema", Severity.ERROR)
def config_schema(ctx: ValidationContext) -> Iterator[Problem]:
    """meshgen.yaml does not match its schema, or names an app chart outside the repository.

    Compare with the keys `meshgen new` writes; the message names the key and the value
    expected. An app's chart is a folder inside the repository, such as charts/<app>.
    """
    for error in ctx.config_schema_errors:
        where = f"{error.key_path}: " if error.key_path else ""
        yield Problem(f"{where}{error.message}", ctx.location(ctx.config.path, error.line))
    model_error = ctx.repo_error
    if model_error is not None:
        yield Problem(str(model_error.args[0]), ctx.location(ctx.config.path, model_error.line))


@rule("MG003", "static-file-unreadable", Severity.ERROR)
def static_file_unreadable(ctx: ValidationContext) -> Iterator[Problem]:
    """A YAML file under cluster/, platform/ or gitops/ (or given to --files) is not valid YAML.

    Fix the YAML at the line shown; `git diff` shows what changed.
    """
    for file in ctx.static_files:
        if file.error is not None:
            yield Problem(str(file.error.args[0]), ctx.location(file.path, file.error.line))
