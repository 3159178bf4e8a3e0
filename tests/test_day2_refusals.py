"""Day-2 commands refuse, changing nothing, where canary steps refuse: a change that would
not validate (exit 1), a git state no commit belongs in, a hook that says no (exit 2)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REAL_DOMAIN, REAL_EMAIL, Invoke
from helpers import replace, start_merge
from kills import git, snapshot
from meshgen.git import worktree
from meshgen.scaffold import answers_from_mapping, generate

APP_ADD = ["app", "add", "checkout"]
ENV_ADD = ["env", "add", "qa"]
STAGING = "environments/staging/first-app.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A generated repository with its first commit on main."""
    answers = answers_from_mapping(
        {"name": "acme-mesh", "domain": REAL_DOMAIN, "acme_email": REAL_EMAIL}
    )
    return generate(answers, tmp_path / "acme").path


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ENV_ADD,
        ["env", "remove", "production"],
        APP_ADD,
        ["platform", "upgrade", "istio", "1.30.4"],
    ],
    ids=["env-add", "env-remove", "app-add", "platform-upgrade"],
)
def test_a_change_that_would_not_validate_changes_nothing(
    repo: Path, invoke: Invoke, command: list[str]
) -> None:
    replace(repo / STAGING, "  v1: 100\n", "  v1: 90\n")
    git(repo, "commit", "-qam", "a broken staging")
    before = snapshot(repo)
    result = invoke(["-C", str(repo), *command], expect=1)
    assert "refused, nothing changed" in result.stderr
    assert f"{STAGING}:" in result.stderr
    assert snapshot(repo) == before


def _dirty(repo: Path) -> None:
    replace(repo / "README.md", "#", "##")


# `env add qa` copies staging's environment file: a file of the user's in its place
# (app add refuses an existing path itself) would be overwritten by the checkout.
QA_FILE = "environments/qa/first-app.yaml"


def _untracked_target(repo: Path) -> None:
    (repo / QA_FILE).parent.mkdir()
    (repo / QA_FILE).write_text("mine\n")


def _ignored_target(repo: Path) -> None:
    (repo / ".gitignore").write_text(f"/{QA_FILE}\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    _untracked_target(repo)


def _branch_taken(repo: Path) -> None:
    git(repo, "branch", "app/checkout")


def _detached(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")


@pytest.mark.parametrize(
    ("enter", "command", "mode", "message"),
    [
        (_dirty, APP_ADD, "--commit", "the working tree has uncommitted changes (README.md)"),
        (_untracked_target, ENV_ADD, "--commit", f"{QA_FILE} exists but is not committed"),
        (_ignored_target, ENV_ADD, "--branch", f"{QA_FILE} exists but is not committed"),
        (start_merge, APP_ADD, "--branch", "in the middle of a merge"),
        (_branch_taken, APP_ADD, "--branch", "branch 'app/checkout' already exists"),
        (_detached, APP_ADD, "--commit", "HEAD is detached"),
    ],
    ids=["dirty", "untracked", "ignored", "merge", "branch-exists", "detached"],
)
def test_git_states_a_commit_does_not_belong_in_are_refused(
    repo: Path,
    invoke: Invoke,
    enter: Callable[[Path], None],
    command: list[str],
    mode: str,
    message: str,
) -> None:
    enter(repo)
    before = snapshot(repo)
    args = [mode, "app/checkout"] if mode == "--branch" else [mode]
    result = invoke(["-C", str(repo), *command, *args], expect=2)
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert snapshot(repo) == before


def test_no_identity_is_refused_before_anything_is_written_unless_an_author_is_given(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(variable)
    before = snapshot(repo)
    result = invoke(["-C", str(repo), *APP_ADD, "--branch", "app/checkout"], expect=2)
    assert "needs a person as its author" in result.stderr and "--author" in result.stderr
    assert snapshot(repo) == before
    author = ["--author", "Jane Doe <jane@example.com>"]
    usage = invoke(["-C", str(repo), *APP_ADD, *author], expect=2)
    assert "--author needs a commit" in usage.stderr
    assert snapshot(repo) == before
    invoke(["-C", str(repo), *APP_ADD, "--branch", "app/checkout", *author])
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Jane Doe <jane@example.com>"


def _hook(repo: Path, name: str, body: str) -> None:
    hook = repo / ".git" / "hooks" / name
    hook.write_text(f"#!/bin/sh\n{body}\n")
    hook.chmod(0o755)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("pre-commit", "echo 'hook says no' >&2; exit 1"),
        ("pre-commit", "echo '# reformatted' >> meshgen.yaml"),
        ("commit-msg", "echo 'hook says no' >&2; exit 1"),
    ],
    ids=["pre-commit-refuses", "pre-commit-rewrites", "commit-msg-refuses"],
)
def test_a_hook_that_says_no_puts_every_file_back(
    repo: Path, invoke: Invoke, name: str, body: str
) -> None:
    # With a pre-commit hook the files are written and staged for it first; its refusal
    # (or a rewrite that changes what a file says) must take all of them back.
    _hook(repo, name, body)
    before = snapshot(repo)
    result = invoke(["-C", str(repo), *APP_ADD, "--branch", "app/checkout"], expect=2)
    assert "hook" in result.stderr
    assert snapshot(repo) == before
    assert not (repo / ".git" / worktree.STAGING_DIR).exists()


@pytest.mark.slow
def test_sigterm_while_a_hook_runs_rolls_the_change_back(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hook(repo, "pre-commit", 'kill -TERM "$MESHGEN_UNDER_TEST"\nsleep 30')
    monkeypatch.setenv("MESHGEN_UNDER_TEST", str(os.getpid()))
    before = snapshot(repo)
    result = invoke(["-C", str(repo), *APP_ADD, "--branch", "app/checkout"], expect=130)
    assert "interrupted" in result.stderr
    assert snapshot(repo) == before


def test_a_failing_rename_puts_back_those_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The publishing process renames one file after another; when one fails (here a
    # folder that appeared where the change creates one), the files it already replaced
    # or deleted are put back.
    root = tmp_path / "repo"
    (root / "keep").mkdir(parents=True)
    (root / "keep" / "gone.yaml").write_text("deleted by the change\n")
    (root / "keep" / "edited.yaml").write_text("before\n")
    real_stage = worktree._stage

    def stage_then_collide(*args: object) -> None:
        real_stage(*args)  # type: ignore[arg-type]
        (root / "new").mkdir()
        (root / "new" / "mine.txt").write_text("someone else's\n")

    monkeypatch.setattr(worktree, "_stage", stage_then_collide)
    changes = {
        "keep/gone.yaml": None,
        "keep/edited.yaml": b"after\n",
        "new/file.yaml": b"new\n",
    }
    with pytest.raises(OSError) as failure:
        worktree.publish_files(root, changes)
    assert failure.value.errno in (errno.ENOTEMPTY, errno.EEXIST)
    assert (root / "keep" / "gone.yaml").read_text() == "deleted by the change\n"
    assert (root / "keep" / "edited.yaml").read_text() == "before\n"
    assert sorted(p.name for p in (root / "new").iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in (root / "keep").iterdir()) == ["edited.yaml", "gone.yaml"]
    assert sorted(p.name for p in root.iterdir()) == ["keep", "new"]


@pytest.mark.slow
def test_a_pre_commit_hook_that_passes_sees_the_change_and_it_is_committed(
    repo: Path, invoke: Invoke
) -> None:
    # The hook runs on the written, staged files: what it checks is what is committed.
    _hook(repo, "pre-commit", "git diff --cached --name-only > .git/hook-saw")
    start = git(repo, "rev-parse", "HEAD").strip()
    invoke(["-C", str(repo), *APP_ADD, "--branch", "app/checkout"])
    assert git(repo, "rev-parse", "HEAD^").strip() == start
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    committed = git(repo, "diff", "--name-only", start, "HEAD")
    assert (repo / ".git" / "hook-saw").read_text() == committed
    assert "charts/checkout/Chart.yaml" in committed.splitlines()


def test_outside_git_leftovers_beside_the_files_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "a").mkdir(parents=True)
    (root / "a" / "kept.yaml").write_text("mine\n")
    (root / "a" / ".kept.yaml.0123abcd.meshgen-tmp").write_text("half\n")
    (root / ".new.0123abcd.meshgen-tmp" / "b").mkdir(parents=True)
    found = worktree.remove_leftovers(root, None)
    assert sorted(p.relative_to(root).as_posix() for p in found) == [
        ".new.0123abcd.meshgen-tmp",
        "a/.kept.yaml.0123abcd.meshgen-tmp",
    ]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["a", "a/kept.yaml"]
