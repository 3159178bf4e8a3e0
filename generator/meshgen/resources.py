"""Where the files meshgen ships live: in the wheel, or in a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    """The folder that holds `charts/`, `environments/` and `cookiecutter-template/`.

    A wheel carries them in `meshgen/_data/`; an editable install or a source checkout
    reads them from the project root, where they are maintained.
    """
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "charts").is_dir():
        return bundled
    return _PACKAGE_DIR.parent.parent


def chart_dir(name: str = "first-app") -> Path:
    return data_root() / "charts" / name


def environments_dir() -> Path:
    return data_root() / "environments"


def template_dir() -> Path:
    return data_root() / "cookiecutter-template"
