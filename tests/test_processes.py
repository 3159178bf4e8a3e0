"""External programs run with argument lists and timeouts, never through a shell."""

from __future__ import annotations

import re
import time
from pathlib import Path

import git
import pytest

from conftest import Invoke
from meshgen.errors import ToolError
from meshgen.git import plumbing
from meshgen.tools import run

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "meshgen"


def test_no_module_starts_a_shell() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(", text):
            offenders.append(path.relative_to(PACKAGE).as_posix())
    assert offenders == []


def test_a_hanging_program_is_stopped_by_its_timeout() -> None:
    with pytest.raises(ToolError, match=r"no answer within 0.5s"):
        run(["sleep", "30"], timeout=0.5)


def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(ToolError, match="not found on PATH"):
        run(["meshgen-no-such-tool"])


def test_arguments_are_passed_verbatim_not_interpreted() -> None:
    result = run(["printf", "%s", "$(echo injected); rm -rf /"])
    assert result.stdout == "$(echo injected); rm -rf /"


def test_a_hanging_git_hook_is_stopped_and_nothing_changes(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, overlay = _repo_with_hook(tmp_path, invoke, "pre-commit", "sleep 30")
    before = overlay.read_bytes()
    monkeypatch.setattr(plumbing, "GIT_TIMEOUT_SECONDS", 1)

    started = time.monotonic()
    result = invoke(
        [
            "-C",
            str(repo),
            "weights",
            "set",
            "staging",
            "v1=90",
            "v2=10",
            "--branch",
            "canary/x",
        ],
        expect=2,
    )
    assert time.monotonic() - started < 25, "the hook was not stopped"
    assert "pre-commit hook gave no answer" in result.stderr
    assert overlay.read_bytes() == before
    assert git.Repo(repo).active_branch.name == "main"
    assert "canary/x" not in [head.name for head in git.Repo(repo).heads]


def test_a_post_checkout_hook_cannot_leave_a_half_made_step(tmp_path: Path, invoke: Invoke) -> None:
    # The switch to the new branch is part of the commit, not a checkout of the user's:
    # a failing post-checkout hook must not strand the step between branch and commit.
    repo, overlay = _repo_with_hook(tmp_path, invoke, "post-checkout", "exit 1")
    args = ["weights", "set", "staging", "v1=90", "v2=10", "--branch", "canary/pc"]
    invoke(["-C", str(repo), *args])
    checkout = git.Repo(repo)
    assert checkout.active_branch.name == "canary/pc"
    assert not checkout.is_dirty(untracked_files=True)
    assert [c.hexsha for c in checkout.iter_commits("main..canary/pc")] == [
        checkout.head.commit.hexsha
    ]
    assert "v2: 10" in overlay.read_text()


def _repo_with_hook(tmp_path: Path, invoke: Invoke, hook: str, script: str) -> tuple[Path, Path]:
    """A generated repo whose git runs `script` as its `hook`; and its staging file."""
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    path = repo / ".git" / "hooks" / hook
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return repo, repo / "environments" / "staging" / "first-app.yaml"
