"""Canary steps in the git states users really have: mid-rebase, no identity, a remote,
hooks that reformat, read-only files, leftovers of a killed run."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git, repo_state, start_merge
from meshgen.git.commit import init_and_commit
from meshgen.git.remote import pull_request_url

STAGING = "environments/staging/first-app.yaml"
SET = ["weights", "set", "staging", "v1=90", "v2=10"]


@pytest.fixture
def repo(repo_copy: Callable[[str], Path]) -> Path:
    """A generated repository with its first commit on main."""
    root = repo_copy("argocd")
    init_and_commit(root, "Initial commit")
    return root


def _side_branch(repo: Path) -> None:
    """`other` and main both change README.md's first line: any replay conflicts."""
    git(repo, "switch", "-q", "-c", "other")
    (repo / "README.md").write_text("other side\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "switch", "-q", "main")
    (repo / "README.md").write_text("main side\n")
    git(repo, "commit", "-qam", "main")


def _rebase(repo: Path) -> None:
    (repo / "README.md").write_text("second\n")
    git(repo, "commit", "-qam", "second")
    git(repo, "rebase", "-i", "HEAD~1", env={"GIT_SEQUENCE_EDITOR": "sed -i s/^pick/edit/"})


def _stops_at_conflict(repo: Path, *args: str) -> None:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    assert done.returncode != 0, f"git {args[0]} was meant to stop at a conflict"


def _cherry_pick(repo: Path) -> None:
    _side_branch(repo)
    git(repo, "cherry-pick", "other", check=False)


def _revert(repo: Path) -> None:
    _side_branch(repo)
    (repo / "README.md").write_text("main again\n")
    git(repo, "commit", "-qam", "again")
    _stops_at_conflict(repo, "revert", "HEAD~1")


def _bisect(repo: Path) -> None:
    git(repo, "bisect", "start")


@pytest.mark.parametrize(
    ("enter", "named", "fix"),
    [
        (_rebase, "a rebase", "git rebase --abort"),
        (start_merge, "a merge", "git merge --abort"),
        (_cherry_pick, "a cherry-pick", "git cherry-pick --continue or --abort"),
        (_revert, "a revert", "git revert --continue or --abort"),
        (_bisect, "a bisect", "git bisect reset"),
    ],
    ids=["rebase", "merge", "cherry-pick", "revert", "bisect"],
)
def test_a_step_is_refused_while_git_is_mid_operation(
    repo: Path, invoke: Invoke, enter: Callable[[Path], None], named: str, fix: str
) -> None:
    enter(repo)
    before = repo_state(repo)
    for mode in (["--branch", "canary/x"], ["--commit", "--allow-dirty"]):
        result = invoke(["-C", str(repo), *SET, *mode], expect=2)
        assert f"in the middle of {named}" in result.stderr and fix in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert repo_state(repo) == before


def test_a_repository_of_another_user_is_named_so(repo: Path, invoke: Invoke) -> None:
    subprocess.run(["chown", "-R", "12345:12345", str(repo)], check=True)
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    assert "belongs to another user" in result.stderr and "safe.directory" in result.stderr


def test_missing_git_is_one_line(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    assert result.stderr == (
        "meshgen: error: git is not installed or not on PATH; install git "
        "(https://git-scm.com) and retry\n"
    )


def _no_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("NAME", "EMAIL"):
        monkeypatch.delenv(f"GIT_AUTHOR_{variable}")
        monkeypatch.delenv(f"GIT_COMMITTER_{variable}")


def test_a_step_without_a_git_identity_is_refused(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_identity(monkeypatch)
    before = repo_state(repo)
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    assert "needs a person as its author" in result.stderr and "--author" in result.stderr
    assert repo_state(repo) == before


def test_author_names_the_person_behind_the_step(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_identity(monkeypatch)
    author = ["--author", "Jane Doe <jane@example.com>"]
    invoke(["-C", str(repo), *SET, "--branch", "canary/x", *author])
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "Jane Doe <jane@example.com>|Jane Doe <jane@example.com>"
    )


def test_author_must_be_name_and_email(repo: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(repo), *SET, "--branch", "c/x", "--author", "jane"], expect=2)
    assert "is not 'Name <email>'" in result.stderr


def test_a_branch_only_on_the_remote_is_refused(repo: Path, invoke: Invoke) -> None:
    git(repo, "update-ref", "refs/remotes/origin/canary/x", "HEAD")
    before = repo_state(repo)
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    assert "exists on the remote (origin/canary/x)" in result.stderr
    assert repo_state(repo) == before


def test_a_commit_straight_to_the_base_branch_is_noted(repo: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(repo), *SET, "--commit"])
    assert "note: committed straight to main" in result.stderr
    result = invoke(
        ["-C", str(repo), "weights", "set", "staging", "v1=80", "v2=20", "--branch", "c/1"]
    )
    assert "straight to" not in result.stderr


def _hook(repo: Path, script: str) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\n{script}\n")
    hook.chmod(0o755)


def test_a_reformatting_hook_leaves_a_clean_tree(repo: Path, invoke: Invoke) -> None:
    # A formatter that rewrites the file without changing what it says.
    _hook(repo, f"printf '# formatted\\n' >> {STAGING}")
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"])
    assert "reformatted" in result.stderr
    assert git(repo, "status", "--porcelain=v1", "-uall") == ""
    committed = git(repo, "show", f"HEAD:{STAGING}")
    assert committed.endswith("# formatted\n") and "v2: 10" in committed


def test_a_hook_that_changes_the_weights_is_refused(repo: Path, invoke: Invoke) -> None:
    _hook(repo, f"sed -i 's/v2: 10/v2: 15/' {STAGING}")
    before = repo_state(repo)
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    assert "no longer holds this change" in result.stderr
    assert repo_state(repo) == before


def test_a_read_only_environment_file_is_refused(repo: Path, invoke: Invoke) -> None:
    (repo / STAGING).chmod(0o444)
    before = repo_state(repo)
    result = invoke(["-C", str(repo), *SET], expect=2)
    assert "read-only" in result.stderr and "chmod u+w" in result.stderr
    assert repo_state(repo) == before
    assert (repo / STAGING).stat().st_mode & 0o777 == 0o444


def test_leftovers_of_a_killed_run_are_removed_and_named(repo: Path, invoke: Invoke) -> None:
    (repo / ".git" / "meshgen-commit.index").write_bytes(b"DIRC")
    stale = repo / "environments" / "staging" / ".first-app.yaml.x1y2.tmp"
    stale.write_text("half")
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"])
    assert "removed .git/meshgen-commit.index" in result.stderr
    assert f"removed {stale.relative_to(repo)}" in result.stderr
    assert not stale.exists() and not (repo / ".git" / "meshgen-commit.index").exists()


def test_push_publishes_the_branch_and_links_the_pull_request(
    repo: Path, invoke: Invoke, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", "https://github.com/acme/acme-mesh.git")
    # Fetch URL on GitHub (what the link is made from), pushes to the local bare repo.
    git(repo, "remote", "set-url", "--push", "origin", str(origin))
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/v2-10", "--push"])
    assert "https://github.com/acme/acme-mesh/pull/new/canary/v2-10" in result.stdout
    assert git(origin, "rev-parse", "canary/v2-10") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-parse", "--abbrev-ref", "canary/v2-10@{upstream}").strip() == (
        "origin/canary/v2-10"
    )


def test_push_needs_a_branch(repo: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(repo), *SET, "--commit", "--push"], expect=2)
    assert "--push needs --branch" in result.stderr


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://github.com/acme/mesh.git", "https://github.com/acme/mesh/pull/new/c/x"),
        ("https://token@github.com/acme/mesh", "https://github.com/acme/mesh/pull/new/c/x"),
        ("git@github.com:acme/mesh.git", "https://github.com/acme/mesh/pull/new/c/x"),
        ("ssh://git@github.com/acme/mesh.git", "https://github.com/acme/mesh/pull/new/c/x"),
        ("https://gitlab.com/acme/mesh.git", None),
        ("/srv/git/mesh.git", None),
    ],
)
def test_pull_request_links_only_for_github(url: str, link: str | None) -> None:
    assert pull_request_url(url, "c/x") == link


def test_a_failed_rollback_reports_the_cause_first(
    repo: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshgen import yamlio

    _hook(repo, "echo 'hook says no' >&2; exit 1")
    real_write = yamlio.atomic_write_text
    writes: list[str] = []

    def write_once(path: Path, text: str) -> None:
        writes.append(text)
        if len(writes) > 1:  # the rollback's write
            raise OSError(28, "No space left on device", str(path))
        real_write(path, text)

    monkeypatch.setattr(yamlio, "atomic_write_text", write_once)
    result = invoke(["-C", str(repo), *SET, "--branch", "canary/x"], expect=2)
    message = result.stderr.removeprefix("meshgen: error: ")
    assert message.startswith("the pre-commit hook failed in"), message
    assert message.index("hook says no") < message.index("putting")
    assert "No space left on device" in message and "git restore --staged --worktree" in message


@pytest.mark.parametrize(
    ("existing", "new", "says"),
    [
        ("canary", "canary/s", "cannot exist beside branch 'canary'"),
        ("feature/x", "feature", "cannot exist beside branch 'feature/x'"),
        (None, "canary/" + "x" * 300, "300 bytes, more than the 250 git can store"),
    ],
    ids=["below-a-branch", "above-branches", "too-long"],
)
def test_a_branch_git_could_not_create_is_refused_before_anything_changes(
    repo: Path, invoke: Invoke, existing: str | None, new: str, says: str
) -> None:
    """git's checkout -b writes the files and index before it creates the branch, and
    leaves them so when it cannot: such a name is refused first."""
    if existing is not None:
        git(repo, "branch", existing)
    before = repo_state(repo)
    result = invoke(["-C", str(repo), *SET, "--branch", new], expect=2)
    assert says in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert repo_state(repo) == before
