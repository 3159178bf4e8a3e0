"""Render the repository template again, for a repository's recorded answers.

What a day-2 command changes is the difference between two renders (with and without an
environment, template version N and the current one), carried into the repository
three-way so that the team's own edits stay.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from meshgen import TEMPLATE_VERSION, resources
from meshgen.day2 import archive
from meshgen.errors import ConfigError
from meshgen.scaffold.answers import Answers

Tree = dict[str, str]
"""Files by repository-relative POSIX path."""


@contextmanager
def template_data(version: int) -> Iterator[Path]:
    """The folder holding template `version` (cookiecutter-template/, charts/, environments/)."""
    if version == TEMPLATE_VERSION:
        yield resources.data_root()
        return
    if not archive.archive_path(version).is_file():
        supported = sorted({*archive.RELEASED, TEMPLATE_VERSION})
        raise ConfigError(
            f"template version {version} is not one meshgen {_meshgen_version()} knows "
            f"(it knows {', '.join(map(str, supported))}); use the meshgen release that "
            "wrote the repository, or a newer one"
        )
    scratch = Path(tempfile.mkdtemp(prefix="meshgen-template-"))
    try:
        yield archive.unpack(version, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _meshgen_version() -> str:
    from meshgen import __version__

    return __version__


def render(answers: Answers, version: int, template_cache: Path | None = None) -> Tree:
    """Every file `meshgen new` writes for `answers` with template `version`, git aside;
    compiled templates kept in `template_cache`, when given."""
    from meshgen.scaffold.create import build

    with template_data(version) as data:
        scratch = Path(tempfile.mkdtemp(prefix="meshgen-render-"))
        try:
            project = build(
                answers, scratch, data, template_version=version, template_cache=template_cache
            )
            return {
                path.relative_to(project).as_posix(): path.read_text(encoding="utf-8")
                for path in sorted(project.rglob("*"))
                if path.is_file() and ".git" not in path.relative_to(project).parts
            }
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
