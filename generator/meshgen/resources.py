"""Where the files meshgen ships live: in the wheel, or in a source checkout."""

from __future__ import annotations

import importlib.util
import re
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


@cache
def kubernetes_schema_root() -> Path:
    """The Kubernetes JSON schemas bundled in the `kubernetes-validate` package."""
    # Only the package's data folder is needed: finding it without importing the package
    # spares its own imports (packaging, importlib_resources, typing_extensions).
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "No module named 'kubernetes_validate'", name="kubernetes_validate"
        )
    return Path(spec.origin).resolve().parent / "kubernetes-json-schema"


@cache
def kubernetes_versions() -> tuple[str, ...]:
    """Kubernetes minor versions with bundled schemas, oldest first (e.g. "1.34").

    The newest is the newest version meshgen validates against, which `meshgen new`
    and the command line also check answers with.
    """
    found = set()
    for folder in kubernetes_schema_root().iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local", folder.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


@cache
def installed_version(distribution: str, module: str) -> str | None:
    """The installed version of `distribution` (which provides the module `module`), or
    None when it is not installed.

    Read from the name of its `.dist-info` folder beside the module, as pip writes it:
    importing importlib.metadata costs a warm `meshgen validate` a few percent. Anything
    else (an egg, a zip) is asked of importlib.metadata.
    """
    import os

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))  # noqa: PTH120
    prefix = re.sub(r"[-_.]+", "_", distribution).lower() + "-"
    try:
        names = os.listdir(site)  # noqa: PTH208
    except OSError:
        names = []
    found = [
        name[len(prefix) : -len(".dist-info")]
        for name in names
        if name.lower().startswith(prefix) and name.endswith(".dist-info")
    ]
    if len(found) == 1:
        return found[0]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
