"""`meshgen new`: the repository it writes, its first commit, and what it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

from conftest import REAL_ANSWERS, Invoke

DESIGN_ROWS = [
    "README.md",
    "meshgen.yaml",
    "cluster/staging.yaml",
    "cluster/production.yaml",
    "platform/istio/base.values.yaml",
    "platform/istio/istiod.values.yaml",
    "platform/istio/gateway.values.yaml",
    "platform/cert-manager/values.yaml",
    "platform/cert-manager/cluster-issuers.yaml",
    "charts/first-app/Chart.yaml",
    "charts/first-app/values.yaml",
    "environments/staging/first-app.yaml",
    "environments/production/first-app.yaml",
    ".pre-commit-config.yaml",
    ".github/workflows/validate.yaml",
]


def test_new_writes_every_design_row_and_commits_a_clean_tree(
    tmp_path: Path, invoke: Invoke
) -> None:
    dest = tmp_path / "acme-mesh"
    result = invoke(["new", str(dest), "--no-input"])

    for relative in DESIGN_ROWS:
        assert (dest / relative).is_file(), relative
    assert (dest / "gitops" / "argocd").is_dir()
    assert not (dest / "gitops" / "flux").exists()
    repo = git.Repo(dest)
    assert repo.active_branch.name == "main"
    assert not repo.is_dirty(untracked_files=True)
    committed = set(repo.git.ls_files().splitlines())
    assert set(DESIGN_ROWS) <= committed
    assert "Initial commit: acme-mesh" in repo.head.commit.message
    assert "First commit" in result.stdout


def test_new_with_flux_and_custom_environments(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "mesh"
    invoke(
        [
            "new",
            str(dest),
            "--no-input",
            "--gitops",
            "flux",
            "--env",
            "dev",
            "--env",
            "prod",
            "--domain",
            "acme.io",
            "--name",
            "platform",
        ]
    )
    assert (dest / "gitops" / "flux").is_dir()
    assert not (dest / "gitops" / "argocd").exists()
    assert sorted(p.name for p in (dest / "environments").iterdir()) == ["dev", "prod"]
    assert sorted(p.name for p in (dest / "cluster").iterdir()) == ["dev.yaml", "prod.yaml"]
    overlay = (dest / "environments" / "prod" / "first-app.yaml").read_text()
    assert "host: first-app.prod.acme.io" in overlay
    assert "letsencrypt-production" in overlay
    assert "letsencrypt-staging" in (dest / "environments" / "dev" / "first-app.yaml").read_text()
    manifest = (dest / "meshgen.yaml").read_text()
    assert "name: platform" in manifest
    assert "gitops: flux" in manifest


def test_overlays_keep_the_single_source_comments(tmp_path: Path, invoke: Invoke) -> None:
    from meshgen import resources

    dest = tmp_path / "acme-mesh"
    invoke(["new", str(dest), "--no-input", "--no-git", "--domain", "acme.io"])
    source = (resources.environments_dir() / "defaults" / "staging.yaml").read_text()
    written = (dest / "environments" / "staging" / "first-app.yaml").read_text()
    changed = [
        (before, after)
        for before, after in zip(source.splitlines(), written.splitlines(), strict=True)
        if before != after
    ]
    # Every comment and value survives; only the host follows the answers.
    assert changed == [("host: first-app.staging.example.com", "host: first-app.staging.acme.io")]


def test_chart_is_copied_from_its_single_source(tmp_path: Path, invoke: Invoke) -> None:
    from meshgen import resources

    dest = tmp_path / "acme-mesh"
    invoke(["new", str(dest), "--no-input", "--no-git"])
    source = resources.chart_dir()
    for path in source.rglob("*"):
        if path.is_file():
            copied = dest / "charts" / "first-app" / path.relative_to(source)
            assert copied.read_bytes() == path.read_bytes(), path


def test_no_git_leaves_no_repository(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "acme-mesh"
    invoke(["new", str(dest), "--no-input", "--no-git"])
    assert (dest / "meshgen.yaml").is_file()
    assert not (dest / ".git").exists()


def test_refuses_a_non_empty_destination_and_leaves_it_alone(
    tmp_path: Path, invoke: Invoke
) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    result = invoke(["new", str(dest), "--no-input"], expect=2)
    assert "is not empty" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_accepts_an_empty_destination_folder(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    invoke(["new", str(dest), "--no-input", "--no-git"])
    assert (dest / "meshgen.yaml").is_file()


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--name", "Bad_Name", "not a DNS label"),
        ("--env", "Prod!", "not a DNS label"),
        ("--region", "europe", "not an AWS region"),
        ("--domain", "not a domain", "not a DNS domain"),
        ("--acme-email", "nobody", "not an e-mail"),
        ("--repo-url", "ftp://x", "https://"),
        ("--name", "{{cookiecutter.x}}", "template syntax"),
    ],
)
def test_bad_answers_fail_before_anything_is_written(
    tmp_path: Path, invoke: Invoke, option: str, value: str, words: str
) -> None:
    dest = tmp_path / "out"
    result = invoke(["new", str(dest), "--no-input", option, value], expect=2)
    assert words in result.stderr
    assert result.stderr.startswith("meshgen: error: ")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_generation_leaves_nothing_behind(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshgen.errors import GitError
    from meshgen.scaffold import create

    def broken_commit(*_args: object, **_kwargs: object) -> str:
        raise GitError("injected failure during the first commit")

    monkeypatch.setattr(create.vcs, "first_commit", broken_commit)
    dest = tmp_path / "out"
    result = invoke(["new", str(dest), "--no-input"], expect=2)
    assert "injected failure" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_destination_folder_keeps_its_permissions(tmp_path: Path, invoke: Invoke) -> None:
    dest = tmp_path / "shared"
    dest.mkdir()
    dest.chmod(0o2770)
    invoke(["new", str(dest), "--no-input", "--no-git"])
    assert dest.stat().st_mode & 0o7777 == 0o2770
    assert (dest / "meshgen.yaml").is_file()


def test_new_in_the_current_empty_folder_keeps_that_folder(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "acme-mesh"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    invoke(["new", ".", "--no-input", *REAL_ANSWERS])
    assert here.stat().st_ino == inode
    assert (here / "meshgen.yaml").is_file()
    invoke(["validate"])


# -- placeholder domains ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        ("example.com", "example.com"),
        ("first-app.staging.EXAMPLE.net.", "example.net"),
        ("shop.example.org", "example.org"),
        ("anything.example", "example"),
        ("mesh.test", "test"),
        ("a.b.invalid", "invalid"),
        ("localhost", "localhost"),
        ("acme.io", None),
        ("example.com.acme.io", None),
        ("notexample.com", None),
        ("testing.dev", None),
        ("", None),
    ],
)
def test_reserved_domains_are_recognised(name: str, reserved: str | None) -> None:
    from meshgen.domains import email_domain, reserved_suffix

    assert reserved_suffix(name) == reserved
    assert reserved_suffix(email_domain(f"ops@{name}")) == reserved


def test_new_says_when_it_writes_placeholders_and_validate_refuses_them(
    tmp_path: Path, invoke: Invoke
) -> None:
    dest = tmp_path / "acme-mesh"
    result = invoke(["new", str(dest), "--no-input", "--no-git"])
    placeholders = [line for line in result.stderr.splitlines() if line.startswith("Placeholder")]
    assert len(placeholders) == 3, result.stderr
    assert "example.com (a reserved domain) cannot get a certificate" in placeholders[0]
    assert "Let's Encrypt refuses the contact platform@example.com" in placeholders[1]
    # A repository that cannot obtain a certificate never validates clean.
    report = invoke(["-C", str(dest), "validate"], expect=1).stdout
    assert "MG004 error: acmeEmail platform@example.com" in report
    assert "MG114 error: host first-app.production.example.com" in report
    assert report.splitlines()[-1].startswith("6 errors")

    real = tmp_path / "real"
    result = invoke(["new", str(real), "--no-input", "--no-git", *REAL_ANSWERS])
    assert "Placeholder" not in result.stderr
    invoke(["-C", str(real), "validate"])


def test_the_next_step_runs_as_printed_with_meshgen_off_the_path(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    command = Path(sys.executable).with_name("meshgen")
    if not command.is_file():
        pytest.skip(f"no console script {command} (meshgen not installed in this environment)")
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    env = {**os.environ, "PATH": f"{git_dir}:/usr/bin:/bin"}
    assert shutil.which("meshgen", path=env["PATH"]) is None
    made = subprocess.run(
        [str(command), "new", "acme", "--no-input", *REAL_ANSWERS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    next_line = made.stdout.splitlines()[-1]
    assert next_line.startswith("Next: "), made.stdout
    done = subprocess.run(
        ["/bin/sh", "-c", next_line.removeprefix("Next: ")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_progress_line_on_a_terminal_only(tmp_path: Path, invoke: Invoke) -> None:
    import os
    import pty
    import subprocess
    import sys

    quiet = invoke(["new", str(tmp_path / "piped"), "--no-input", *REAL_ANSWERS])
    assert "writing" not in quiet.stderr
    command = Path(sys.executable).with_name("meshgen")
    if not command.is_file():
        pytest.skip(f"no console script {command} (meshgen not installed in this environment)")
    terminal, stderr = pty.openpty()
    done = subprocess.run(
        [str(command), "new", str(tmp_path / "shown"), "--no-input", *REAL_ANSWERS],
        stderr=stderr,
        capture_output=False,
        stdout=subprocess.PIPE,
        check=True,
        timeout=120,
    )
    os.close(stderr)
    shown = os.read(terminal, 4096).decode()
    os.close(terminal)
    assert "meshgen: writing" in shown
    assert "and making its first commit" in shown
    assert shown.endswith("\r"), "the line is erased before the summary"
    assert b"First commit" in done.stdout


def test_new_leaves_nothing_in_the_temporary_folder(tmp_path: Path) -> None:
    """cookiecutter leaves every rendered hook script behind in TMPDIR unless told not to."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    subprocess.run(
        [sys.executable, "-m", "meshgen", "new", str(tmp_path / "acme"), "--no-input"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (tmp_path / "acme" / "meshgen.yaml").is_file()
    assert list(private_tmp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme", "tmp"]


def test_new_says_when_the_first_commit_is_authored_by_meshgen(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("NAME", "EMAIL"):
        monkeypatch.delenv(f"GIT_AUTHOR_{variable}")
        monkeypatch.delenv(f"GIT_COMMITTER_{variable}")
    dest = tmp_path / "acme"
    result = invoke(["new", str(dest), "--no-input"])
    assert "first commit is authored meshgen <meshgen@localhost>" in result.stderr
    author = git.Repo(dest).head.commit.author
    assert (author.name, author.email) == ("meshgen", "meshgen@localhost")


def test_new_with_a_git_identity_says_nothing_about_authors(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke(["new", str(tmp_path / "acme"), "--no-input"])
    assert "authored" not in result.stderr


def test_new_inside_another_repository_says_it_is_nested(tmp_path: Path, invoke: Invoke) -> None:
    outer = tmp_path / "monorepo"
    git.Repo.init(outer)
    result = invoke(["new", str(outer / "platform" / "acme"), "--no-input"], expect=2)
    assert "does not exist" in result.stderr
    (outer / "platform").mkdir()
    result = invoke(["new", str(outer / "platform" / "acme"), "--no-input"])
    assert f"inside the git repository at {outer}" in result.stderr
    assert "--no-git" in result.stderr
    alone = invoke(["new", str(tmp_path / "alone"), "--no-input"])
    assert "nested" not in alone.stderr


def test_scratch_folders_a_killed_new_left_are_removed_an_hour_later(
    tmp_path: Path, invoke: Invoke
) -> None:
    stale, recent = tmp_path / ".acme.meshgen-stale", tmp_path / ".acme.meshgen-recent"
    for folder in (stale, recent):
        (folder / "acme").mkdir(parents=True)
    an_hour_ago = time.time() - 3700
    os.utime(stale, (an_hour_ago, an_hour_ago))
    invoke(["new", str(tmp_path / "acme"), "--no-input", "--no-git"])
    assert not stale.exists()
    assert recent.exists()  # perhaps another meshgen new at work
