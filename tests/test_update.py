"""`meshgen update`: a repository written by template 1 (the meshgen of commit b451f70)
brought to the current template, keeping the team's edits."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git, replace
from meshgen import TEMPLATE_VERSION
from meshgen.day2 import archive

PROJECT = Path(__file__).resolve().parents[1]
RELEASE = archive.RELEASED[1]
# A real-looking domain: example.com is reserved, and validate may say so.
DOMAIN = ("--domain", "acme.io", "--acme-email", "platform@acme.io")


def has_release() -> bool:
    found = subprocess.run(
        ["git", "-C", str(PROJECT), "cat-file", "-e", f"{RELEASE}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


needs_history = pytest.mark.skipif(
    not has_release(), reason=f"needs the project's git history (commit {RELEASE})"
)


@needs_history
def test_shipped_archive_is_what_the_script_builds() -> None:
    spec = importlib.util.spec_from_file_location(
        "archive_template", PROJECT / "scripts" / "archive-template.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.build(1) == archive.archive_path(1).read_bytes()


def test_archive_holds_the_template_chart_and_environments() -> None:
    with tarfile.open(archive.archive_path(1)) as tar:
        names = tar.getnames()
    assert "cookiecutter-template/cookiecutter.json" in names
    assert "charts/first-app/Chart.yaml" in names
    assert "environments/defaults/staging.yaml" in names


def release_meshgen(tmp_path: Path) -> Path:
    """The sources of the release, exported from git (no worktree, nothing registered)."""
    dest = tmp_path / "release"
    dest.mkdir()
    exported = subprocess.run(
        ["git", "-C", str(PROJECT), "archive", RELEASE, "generator", "charts",
         "environments", "cookiecutter-template"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=exported, check=True)
    return dest


def generate_with_release(tmp_path: Path, engine: str) -> Path:
    release = release_meshgen(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(release / "generator")}
    subprocess.run(
        [sys.executable, "-m", "meshgen", "new", str(tmp_path / "acme"), "--no-input",
         "--gitops", engine, *DOMAIN],
        cwd=release, env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return tmp_path / "acme"


def _running_as_rendered(ours: Path, rendered: Path, relative: Path) -> str:
    """`rendered`, with the versions and weights of `ours` when it is an environment file:
    what runs stays the team's (the template's default images may have changed)."""
    from meshgen import yamlio

    text = rendered.read_text()
    if relative.parts[0] != "environments":
        return text
    tree = yamlio.loads_roundtrip(text, rendered)
    mine = yamlio.load_roundtrip(ours)
    for key in ("versions", "traffic"):
        tree[key] = mine[key]
    return yamlio.dumps_roundtrip(tree)


@needs_history
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_template_1_repository_updates_keeping_the_team_edits(
    tmp_path: Path, invoke: Invoke, engine: str
) -> None:
    repo = generate_with_release(tmp_path, engine)
    assert "  template: 1\n" in (repo / "meshgen.yaml").read_text()
    staging = repo / "environments/staging/first-app.yaml"
    replace(staging, "  v1: 100\n  v2: 0\n", "  v1: 70\n  v2: 30\n")
    replace(staging, 'tag: "1.0"', 'tag: "1.0.1"')
    replace(
        staging,
        "# Canary releases happen here",
        "# Owned by the payments team.\n# Canary releases happen here",
    )
    values = repo / "platform/istio/gateway.values.yaml"
    values.write_text(values.read_text() + "# Sized for the Black Friday peak.\n")
    git(repo, "commit", "-qam", "team edits")

    result = invoke(["-C", str(repo), "update", "--branch", "update/template-2"])
    assert "Update to template 2 (from 1)" in result.stdout
    assert git(repo, "branch", "--show-current").strip() == "update/template-2"
    assert git(repo, "status", "--porcelain") == ""
    assert f"  template: {TEMPLATE_VERSION}\n" in (repo / "meshgen.yaml").read_text()
    invoke(["-C", str(repo), "validate"])
    weights = invoke(["-C", str(repo), "weights", "show"]).stdout
    assert "staging      v1          70%  docker.io/istio/examples-helloworld-v1:1.0.1" in weights
    assert "production   v1         100%  docker.io/istio/examples-helloworld-v1:1.0\n" in weights

    # Every file is what the current template writes, with the team's edits on top.
    fresh = tmp_path / "fresh"
    invoke(["new", str(fresh), "--no-input", "--name", "acme", "--gitops", engine, *DOMAIN])
    team_edits = {
        staging: lambda text: text.replace(
            "# Canary releases happen here",
            "# Owned by the payments team.\n# Canary releases happen here",
            1,
        ),
        values: lambda text: text + "# Sized for the Black Friday peak.\n",
    }
    for path in sorted(fresh.rglob("*")):
        relative = path.relative_to(fresh)
        if path.is_file() and ".git" not in relative.parts:
            ours = repo / relative
            expected = _running_as_rendered(ours, path, relative)
            expected = team_edits.get(ours, lambda text: text)(expected)
            assert ours.read_text() == expected, relative
    again = invoke(["-C", str(repo), "update"])
    assert "Already on template 2" in again.stdout


@needs_history
@pytest.mark.slow
def test_an_edit_the_template_also_changes_is_left_as_a_conflict(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = generate_with_release(tmp_path, "argocd")
    manifest = repo / "meshgen.yaml"
    # The team edits the line the update changes (the recorded template version).
    replace(manifest, "  template: 1\n", "  template: 1  # pinned by the platform team\n")
    git(repo, "commit", "-qam", "team edit on the template's line")
    head = git(repo, "rev-parse", "HEAD")
    result = invoke(["-C", str(repo), "update", "--branch", "update/template-2"], expect=1)
    assert "conflicts" in result.stderr and "  meshgen.yaml" in result.stderr
    text = manifest.read_text()
    assert "<<<<<<< repository" in text and ">>>>>>> template 2" in text
    assert git(repo, "branch", "--show-current").strip() == "update/template-2"
    assert git(repo, "rev-parse", "HEAD^") == head  # one commit, for review on the pull request
    assert "meshgen.yaml" in git(repo, "log", "-1", "--format=%B")


@needs_history
@pytest.mark.slow
def test_an_update_with_conflicts_is_published_whole_with_or_without_a_commit(
    tmp_path: Path, invoke: Invoke
) -> None:
    # All or nothing, for an update that leaves conflicts: with --branch, one commit
    # holding every merged file, markers included; without, the same files put in place
    # together, nothing staged, HEAD where it was. Either way exit 1, conflicts listed.
    repo = generate_with_release(tmp_path, "argocd")
    replace(repo / "meshgen.yaml", "  template: 1\n", "  template: 1  # pinned\n")
    git(repo, "commit", "-qam", "team edit on the template's line")
    start = git(repo, "rev-parse", "HEAD").strip()
    written = tmp_path / "written"
    subprocess.run(["cp", "-a", str(repo), str(written)], check=True)

    invoke(["-C", str(repo), "update", "--branch", "update/template-2"], expect=1)
    assert git(repo, "rev-parse", "HEAD^").strip() == start
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    committed = git(repo, "rev-parse", "HEAD^{tree}").strip()

    result = invoke(["-C", str(written), "update"], expect=1)
    assert "  meshgen.yaml" in result.stderr
    assert git(written, "rev-parse", "HEAD").strip() == start
    assert git(written, "diff", "--cached", "--name-only") == ""
    git(written, "add", "--all")
    assert git(written, "write-tree").strip() == committed
