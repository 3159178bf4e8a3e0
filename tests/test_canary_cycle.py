"""The whole canary workflow in a real git repository, one branch and merge per step."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REAL_ANSWERS, Golden, Invoke
from helpers import git, replace

STAGING = "environments/staging/first-app.yaml"


def traffic_of(repo: Path, ref: str = "HEAD") -> str:
    return git(repo, "show", f"{ref}:{STAGING}").split("\ntraffic:\n")[1]


@pytest.mark.slow
def test_canary_cycle_branch_by_branch(tmp_path: Path, invoke: Invoke, golden: Golden) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    r = ["-C", str(repo)]
    steps: list[tuple[list[str], str, str]] = [
        (["weights", "set", "staging", "v1=90", "v2=10"], "canary/v2-10",
         "staging: v1 100% -> 90%, v2 0% -> 10%"),
        (["shift", "staging", "--to", "v2", "--step", "40"], "canary/v2-50",
         "staging: v1 90% -> 50%, v2 10% -> 50%"),
        (["promote", "staging", "v2"], "canary/v2-100",
         "staging: v1 50% -> 0%, v2 50% -> 100%"),
        (["versions", "retire", "staging", "v1"], "retire/v1",
         "staging: v1 retired (was 0%)"),
        (["versions", "add", "staging", "v3", "--image-tag", "2.0"], "release/v3",
         "staging: v3 added at 0% (image tag 2.0)"),
        (["weights", "set", "staging", "v2=75", "v3=25"], "canary/v3-25",
         "staging: v2 100% -> 75%, v3 0% -> 25%"),
    ]  # fmt: skip
    for args, branch, reported in steps:
        main_before = git(repo, "rev-parse", "main")
        invoke([*r, *args, "--branch", branch])
        assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == branch
        assert git(repo, "rev-parse", "main") == main_before, "main moved before the merge"
        assert git(repo, "diff", "--name-only", "main", branch).split() == [STAGING]
        invoke(["-C", str(repo), "validate"])
        diff = invoke(["-C", str(repo), "diff", "--base", "main", "--head", branch]).stdout
        traffic = diff.split("Rendered manifests:")[0]
        assert f"  {reported}\n" in traffic, diff
        assert "  production: no change\n" in traffic
        if branch == "canary/v2-10":
            markdown = invoke(
                [
                    "-C",
                    str(repo),
                    "diff",
                    "--base",
                    "main",
                    "--head",
                    branch,
                    "--format",
                    "markdown",
                ]
            ).stdout
            golden("traffic/canary-step.md", markdown)
        git(repo, "switch", "-q", "main")
        git(repo, "merge", "-q", "--ff-only", branch)
        invoke(["-C", str(repo), "validate"])
    assert traffic_of(repo, "main") == "  v2: 75\n  v3: 25\n"
    assert git(repo, "status", "--porcelain") == ""
    # Six steps, one commit each, each touching only the staging file.
    log = git(repo, "log", "--format=%s", "--name-only", "main~6..main").split()
    assert [entry for entry in log if "/" in entry and entry.endswith(".yaml")] == [STAGING] * 6


def test_diff_never_touches_the_working_tree(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    invoke(["-C", str(repo), "weights", "set", "staging", "v1=80", "v2=20", "--branch", "c"])
    (repo / "README.md").write_text("uncommitted\n")
    status = git(repo, "status", "--porcelain", "-uall")
    refs = git(repo, "for-each-ref")
    worktrees = git(repo, "worktree", "list")
    result = invoke(["-C", str(repo), "diff", "--base", "main"])
    assert "staging: v1 100% -> 80%, v2 0% -> 20%" in result.stdout
    assert git(repo, "status", "--porcelain", "-uall") == status
    assert git(repo, "for-each-ref") == refs
    assert git(repo, "worktree", "list") == worktrees


def test_diff_defaults_to_main_and_filters_environments(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    invoke(["-C", str(repo), "promote", "production", "v2", "--branch", "p"])
    text = invoke(["-C", str(repo), "diff"]).stdout
    assert text.startswith("meshgen diff main...HEAD ")
    assert "  production: v1 100% -> 0%, v2 0% -> 100%\n" in text
    only = invoke(["-C", str(repo), "diff", "--env", "staging"]).stdout
    assert "production" not in only
    assert only.endswith("Rendered manifests:\n  no change\n")
    result = invoke(["-C", str(repo), "diff", "--env", "qa"], expect=2)
    assert "unknown environment 'qa'" in result.stderr


def test_diff_refuses_unknown_refs_and_plain_folders(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    result = invoke(["-C", str(repo), "diff", "--base", "nope"], expect=2)
    assert "'nope' names no commit" in result.stderr
    plain = tmp_path / "plain"
    invoke(["new", str(plain), "--no-input", "--no-git", *REAL_ANSWERS])
    result = invoke(["-C", str(plain), "diff"], expect=2)
    assert "is not inside a git repository" in result.stderr


def test_diff_reports_image_changes_and_render_failures(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    git(repo, "switch", "-q", "-c", "edit")
    path = repo / STAGING
    replace(path, 'tag: "1.0"', 'tag: "1.1"')
    production = repo / "environments/production/first-app.yaml"
    production.write_text("versions: [unclosed\n")
    git(repo, "commit", "-qam", "edit")
    # A side that does not render makes the diff incomplete: exit 1, like a finding.
    text = invoke(["-C", str(repo), "diff", "--base", "main"], expect=1).stdout
    assert "  staging: v1 image tag 1.0 -> 1.1\n" in text
    assert "  production: head: environments/production/first-app.yaml:" in text
    rendered = text.split("Rendered manifests:\n")[1]
    assert '+          image: "registry.istio.io/release/examples-helloworld-v1:1.1"\n' in rendered
    # The environment that failed to render is reported, not shown as deleted objects.
    assert "production/" not in rendered
    assert "  not compared for production: did not render (above)\n" in rendered
    markdown = invoke(["-C", str(repo), "diff", "--base", "main", "--format", "markdown"], expect=1)
    assert "Not compared for production" in markdown.stdout
    assert "No change." not in markdown.stdout


def test_diff_skips_links_that_leave_the_repository(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    (repo / "platform" / "hostname").symlink_to("/etc/hostname")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a local convenience link")
    result = invoke(["-C", str(repo), "diff", "--base", "HEAD~1"])
    assert "Rendered manifests:\n  no change\n" in result.stdout
