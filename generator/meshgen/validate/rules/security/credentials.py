"""Credentials (keys, tokens, passwords) committed to the repository."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshgen import yamlio
from meshgen.credentials import find_credentials, scan_text_files
from meshgen.validate.context import ValidationContext
from meshgen.validate.findings import Problem, Severity, rule
from meshgen.validate.inputs.key_lines import KeyLines


@rule("MG620", "credential-in-repo", Severity.ERROR)
def credential_in_repo(ctx: ValidationContext) -> Iterator[Problem]:
    """A file in the repository holds what looks like a credential.

    Every text file in the repository is scanned: the values of meshgen.yaml, the
    environment files and the YAML under cluster/, platform/ and gitops/, and every
    line of the rest (charts/, JSON, comments). Remove it (and
    rotate it: git history keeps it); reference a Kubernetes Secret, an External
    Secrets / Sealed Secrets object or a cloud secret store instead.
    """
    trees: list[tuple[Any, Any]] = [(ref.file.path, ref.file.data) for ref in ctx.environment_files]
    trees.append((ctx.config.path, ctx.config.data))
    for path, tree in trees:
        if tree is None:
            continue
        for suspect in find_credentials(tree):
            line = yamlio.line_of_path(tree, suspect.key_path)
            yield Problem(
                f"{_dotted(suspect.key_path)}: looks like {suspect.what}; keep secrets out of git",
                ctx.location(path, line),
            )
    parsed = {path for path, _ in trees} | {file.path for file in ctx.static_files}
    for found in [] if ctx.files_mode else scan_text_files(ctx.root, parsed):
        yield Problem(
            f"looks like {found.what}; keep secrets out of git",
            ctx.location(found.path, found.line),
        )
    for file in ctx.static_files:
        lines = KeyLines(file.path)
        for manifest in file.objects:
            for suspect in find_credentials(manifest.data):
                yield Problem(
                    f"{manifest.ref}: {_dotted(suspect.key_path)}: looks like {suspect.what}; "
                    "keep secrets out of git",
                    ctx.location(file.path, lines.line(manifest.line, suspect.key_path)),
                )
        for document in file.documents:
            for suspect in find_credentials(document.data):
                yield Problem(
                    f"{_dotted(suspect.key_path)}: looks like {suspect.what}; "
                    "keep secrets out of git",
                    ctx.location(file.path, lines.line(document.line, suspect.key_path)),
                )


def _dotted(key_path: tuple[str | int, ...]) -> str:
    return ".".join(map(str, key_path))
