"""The distribution: built as `meshgen-gitops`, installed it gives the `meshgen` command.

The public PyPI name `meshgen` belongs to an unrelated project, so every install must
name `meshgen-gitops`; the command and the import package stay `meshgen`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from meshgen import __version__

PROJECT = Path(__file__).resolve().parents[1]
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--quiet"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheel and sdist, built offline with the build backend of the test extra."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(PROJECT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_wheel_and_sdist_are_named_meshgen_gitops(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        f"meshgen_gitops-{__version__}-py3-none-any.whl",
        f"meshgen_gitops-{__version__}.tar.gz",
    ]
    with tarfile.open(dist / names[1]) as sdist:
        members = sdist.getnames()
    assert f"meshgen_gitops-{__version__}/generator/meshgen/cli/__init__.py" in members
    assert f"meshgen_gitops-{__version__}/charts/first-app/Chart.yaml" in members


def test_the_wheel_installs_the_meshgen_command(dist: Path, tmp_path: Path) -> None:
    """What `pipx install meshgen_gitops-*.whl` does, minus fetching the dependencies."""
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(
            f"meshgen_gitops-{__version__}.dist-info/entry_points.txt"
        ).decode()
    assert "meshgen = meshgen.cli:main" in entry_points
    target = tmp_path / "site"
    # The dependencies are those of this test environment; the wheel's own files go first.
    subprocess.run(
        [*PIP_INSTALL, "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    command = target / "bin" / "meshgen"
    version = subprocess.run(
        [str(command), "--version"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.strip() == f"meshgen, version {__version__}", version.stderr
    # The wheel carries the template and charts: `new` works without this checkout.
    made = subprocess.run(
        [str(command), "new", str(tmp_path / "acme"), "--no-input", "--no-git"],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "acme" / "charts" / "first-app" / "Chart.yaml").is_file()
    where = subprocess.run(
        [sys.executable, "-c", "import meshgen; print(meshgen.__file__)"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.stdout.startswith(str(target)), where.stdout
