"""`meshgen weights set` and the other canary-step commands: edits, commits, refusals.

Every refusal asserts that neither the environment file nor the repository changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REAL_ANSWERS, Invoke
from helpers import git, line_of, replace, repo_state

STAGING = Path("environments/staging/first-app.yaml")


def test_set_without_commit_edits_two_lines_and_leaves_git_alone(
    acme: Path, invoke: Invoke
) -> None:
    before = repo_state(acme)
    result = invoke(["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10"])
    assert "v1 100% -> 90%, v2 0% -> 10%" in result.stdout
    assert (acme / STAGING).read_text() == before[STAGING.as_posix()].replace(
        "  v1: 100\n  v2: 0\n", "  v1: 90\n  v2: 10\n"
    )
    after = repo_state(acme)
    assert after["refs"] == before["refs"] and after["head"] == before["head"]
    assert after["status"] == f" M {STAGING.as_posix()}\n"
    invoke(["-C", str(acme), "validate"])


def test_set_on_a_branch_commits_only_the_environment_file(acme: Path, invoke: Invoke) -> None:
    main_before = git(acme, "rev-parse", "main")
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10",
         "--branch", "canary/staging-v2-10"]
    )  # fmt: skip
    assert "you are now on it" in result.stdout
    assert git(acme, "symbolic-ref", "--short", "HEAD").strip() == "canary/staging-v2-10"
    assert git(acme, "rev-parse", "main") == main_before
    assert git(acme, "rev-parse", "HEAD~1") == main_before
    assert git(acme, "show", "--name-only", "--format=", "HEAD").split() == [STAGING.as_posix()]
    assert git(acme, "diff", "--numstat", "HEAD~1", "HEAD").split() == [
        "2",
        "2",
        STAGING.as_posix(),
    ]
    message = git(acme, "log", "-1", "--format=%B")
    assert message.startswith("staging: first-app traffic v1 100% -> 90%, v2 0% -> 10%\n")
    assert "meshgen weights set staging v1=90 v2=10" in message
    assert git(acme, "status", "--porcelain") == ""


def test_message_replaces_the_subject(acme: Path, invoke: Invoke) -> None:
    invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=50", "v2=50", "--commit",
         "-m", "staging: half and half"]
    )  # fmt: skip
    assert git(acme, "log", "-1", "--format=%s").strip() == "staging: half and half"
    assert git(acme, "symbolic-ref", "--short", "HEAD").strip() == "main"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["v1=90", "v2=20"], "weights sum to 110, not 100"),
        (["v1=100", "v2=-10"], "weight of v2 must be a whole number 0..100, got '-10'"),
        (["v1=90.5", "v2=9.5"], "weight of v1 must be a whole number 0..100, got '90.5'"),
        (["v1=ninety"], "weight of v1 must be a whole number"),
        (["v1=90", "v9=10"], "staging has no version v9 (versions: v1, v2)"),
        (["v1"], "'v1' is not VERSION=WEIGHT"),
        (["v1=50", "v1=50"], "v1 is given twice"),
        (["v1=101"], "weight of v1 must be 0..100, got 101"),
    ],
)
def test_set_refuses_bad_weights_and_changes_nothing(
    acme: Path, invoke: Invoke, args: list[str], message: str
) -> None:
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", *args, "--branch", "canary/x"],
        expect=2,
    )
    assert result.stderr.startswith("meshgen: error: "), result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert repo_state(acme) == before


def test_sum_refusal_names_the_file_and_line(acme: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(acme), "weights", "set", "staging", "v2=10"], expect=2)
    line = line_of(acme / STAGING, "traffic:")
    assert f"{acme / STAGING}:{line}: refused, nothing changed: weights sum to 110" in result.stderr


def test_unknown_environment_is_refused(acme: Path, invoke: Invoke) -> None:
    before = repo_state(acme)
    result = invoke(["-C", str(acme), "weights", "set", "qa", "v1=100"], expect=2)
    assert "unknown environment 'qa'; meshgen.yaml declares: staging, production" in result.stderr
    assert repo_state(acme) == before


def test_dirty_tree_is_refused_when_committing(acme: Path, invoke: Invoke) -> None:
    readme = acme / "README.md"
    readme.write_text(readme.read_text() + "local note\n")
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "c/1"],
        expect=2,
    )
    assert "the working tree has uncommitted changes" in result.stderr
    assert "--allow-dirty" in result.stderr
    assert repo_state(acme) == before


def test_allow_dirty_still_commits_only_the_environment_file(acme: Path, invoke: Invoke) -> None:
    readme = acme / "README.md"
    readme.write_text(readme.read_text() + "local note\n")
    git(acme, "add", "README.md")
    (acme / "scratch.txt").write_text("untracked\n")
    invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "c/1",
         "--allow-dirty"]
    )  # fmt: skip
    assert git(acme, "show", "--name-only", "--format=", "HEAD").split() == [STAGING.as_posix()]
    assert git(acme, "status", "--porcelain", "-uall").splitlines() == [
        "M  README.md",
        "?? scratch.txt",
    ]


def test_uncommitted_edits_of_the_environment_file_are_never_committed(
    acme: Path, invoke: Invoke
) -> None:
    path = acme / STAGING
    replace(path, "replicas: 1", "replicas: 3")
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--commit",
         "--allow-dirty"],
        expect=2,
    )  # fmt: skip
    assert f"{STAGING.as_posix()} has uncommitted changes" in result.stderr
    assert repo_state(acme) == before


def test_existing_branch_is_refused(acme: Path, invoke: Invoke) -> None:
    git(acme, "branch", "canary/taken")
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10",
         "--branch", "canary/taken"],
        expect=2,
    )  # fmt: skip
    assert "branch 'canary/taken' already exists" in result.stderr
    assert repo_state(acme) == before


def test_invalid_branch_name_is_refused(acme: Path, invoke: Invoke) -> None:
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "a..b"],
        expect=2,
    )
    assert "'a..b' is not a valid git branch name" in result.stderr
    assert repo_state(acme) == before


def test_detached_head_needs_a_branch(acme: Path, invoke: Invoke) -> None:
    git(acme, "checkout", "-q", "--detach")
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--commit"], expect=2
    )
    assert "HEAD is detached" in result.stderr and "--branch NAME" in result.stderr
    assert repo_state(acme) == before
    invoke(["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "c/d"])
    assert git(acme, "symbolic-ref", "--short", "HEAD").strip() == "c/d"


def test_repository_without_commits_is_refused(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "fresh"
    invoke(["new", str(repo), "--no-input", "--no-git", *REAL_ANSWERS])
    git(repo, "init", "-q", "-b", "main")
    original = (repo / STAGING).read_text()
    result = invoke(
        ["-C", str(repo), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "c/1"],
        expect=2,
    )
    assert "has no commits yet" in result.stderr
    assert (repo / STAGING).read_text() == original
    assert git(repo, "branch", "--list") == ""


def test_not_a_git_repository_is_refused_only_when_committing(
    tmp_path: Path, invoke: Invoke
) -> None:
    repo = tmp_path / "plain"
    invoke(["new", str(repo), "--no-input", "--no-git", *REAL_ANSWERS])
    original = (repo / STAGING).read_text()
    result = invoke(
        ["-C", str(repo), "weights", "set", "staging", "v1=90", "v2=10", "--commit"], expect=2
    )
    assert "is not inside a git repository" in result.stderr
    assert (repo / STAGING).read_text() == original
    invoke(["-C", str(repo), "weights", "set", "staging", "v1=90", "v2=10"])
    assert "  v2: 10\n" in (repo / STAGING).read_text()


def test_a_failing_commit_hook_leaves_everything_as_it_was(acme: Path, invoke: Invoke) -> None:
    hook = acme / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=90", "v2=10", "--branch", "c/1"],
        expect=2,
    )
    assert "pre-commit hook failed" in result.stderr and "hook says no" in result.stderr
    assert repo_state(acme) == before


def test_nothing_to_commit_is_refused(acme: Path, invoke: Invoke) -> None:
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=100", "--branch", "c/1"], expect=2
    )
    assert "nothing to commit" in result.stderr
    assert repo_state(acme) == before


def test_shift_and_promote(acme: Path, invoke: Invoke) -> None:
    invoke(["-C", str(acme), "shift", "staging", "--to", "v2", "--step", "25"])
    assert "  v1: 75\n  v2: 25\n" in (acme / STAGING).read_text()
    invoke(["-C", str(acme), "promote", "staging", "v2"])
    assert "  v1: 0\n  v2: 100\n" in (acme / STAGING).read_text()
    result = invoke(["-C", str(acme), "shift", "staging", "--to", "v2", "--step", "5"], expect=2)
    assert "v2 already has 100% in staging; nothing to shift" in result.stderr


def test_versions_add_and_retire(acme: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(acme), "versions", "retire", "staging", "v1"], expect=2)
    assert "v1 still takes 100% of staging's traffic; move it to 0 first" in result.stderr
    invoke(["-C", str(acme), "versions", "add", "staging", "v3", "--image-tag", "1.3.0"])
    text = (acme / STAGING).read_text()
    assert (
        "  v3:\n    image:\n      repository: registry.istio.io/release/examples-helloworld-v2\n"
        in text
    )
    assert '      tag: "1.3.0"\n    replicas: 1\n' in text
    assert "  v2: 0\n  v3: 0\n" in text
    result = invoke(
        ["-C", str(acme), "versions", "add", "staging", "v3", "--image-tag", "1.3.1"], expect=2
    )
    assert "version v3 already exists" in result.stderr
    invoke(["-C", str(acme), "versions", "retire", "staging", "v2"])
    traffic = (acme / STAGING).read_text().split("\ntraffic:\n")[1]
    assert traffic == "  v1: 100\n  v3: 0\n"
    assert "  v2:\n" not in (acme / STAGING).read_text()
    invoke(["-C", str(acme), "validate"])


@pytest.mark.parametrize(
    "command",
    [
        ["weights"],
        ["weights", "show"],
        ["weights", "set"],
        ["shift"],
        ["promote"],
        ["versions"],
        ["versions", "add"],
        ["versions", "retire"],
        ["diff"],
    ],
)
def test_every_command_help_has_an_example(invoke: Invoke, command: list[str]) -> None:
    text = invoke([*command, "--help"]).stdout
    assert "Example" in text
    assert f"meshgen {' '.join(command)}" in text


@pytest.mark.parametrize("target", ["inside", "outside"])
def test_a_symlinked_environment_file_is_refused_not_written_through(
    tmp_path: Path, invoke: Invoke, target: str
) -> None:
    repo = tmp_path / "linked"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    overlay = repo / "environments" / "staging" / "first-app.yaml"
    shared = (repo if target == "inside" else tmp_path) / "shared" / "staging.yaml"
    shared.parent.mkdir()
    overlay.rename(shared)
    overlay.symlink_to(shared)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "share the staging file")
    before = shared.read_bytes()

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
    assert "first-app.yaml" in result.stderr
    assert "symbolic link" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert b"v1: 100" in before
    assert "v1: 100" not in result.stderr
    assert overlay.is_symlink()
    assert shared.read_bytes() == before
    assert git(repo, "status", "--porcelain") == ""
    assert "canary/x" not in git(repo, "branch", "--list")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["versions", "retire", "production", "v9"], "did you mean v1 or v2?"),
        (["weights", "set", "production", "V1=90"], "did you mean v1?"),
        (["shift", "production", "--to", "v11", "--step", "10"], "did you mean v1?"),
        (["promote", "production", "prod-2024"], "add it first with `meshgen versions add"),
    ],
)
def test_an_unknown_version_gets_the_close_match(
    acme: Path, invoke: Invoke, args: list[str], words: str
) -> None:
    before = repo_state(acme)
    result = invoke(["-C", str(acme), *args], expect=2)
    assert words in result.stderr
    if args[0] == "versions" or "V1" in args[2]:
        assert "versions add" not in result.stderr
    assert repo_state(acme) == before


@pytest.mark.parametrize("tag", ["latest", "Latest"])
def test_versions_add_refuses_a_mutable_tag(acme: Path, invoke: Invoke, tag: str) -> None:
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "versions", "add", "staging", "v3", "--image-tag", tag], expect=2
    )
    assert "--image-tag" in result.stderr
    assert "release tag" in result.stderr
    assert repo_state(acme) == before


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ('  maxStep:\n    staging: "10"\n', "maxStep of staging: '10' is not a whole number"),
        ("  maxStep:\n    staging: 150\n", "maxStep of staging: 150 is not a whole number"),
        ("  maxStep:\n    staging: 0\n", "maxStep of staging: 0 is not a whole number"),
        ("  maxStep: 20\n", "`maxStep` must map environments to points"),
        ("  order: staging\n", "`order` must be a list of environment names"),
        ("", "expected a mapping"),
    ],
    ids=["text", "over-100", "zero", "not-a-mapping", "order-not-a-list", "empty-section"],
)
def test_a_malformed_guard_rail_stops_weight_changes(
    acme: Path, invoke: Invoke, section: str, says: str
) -> None:
    """A guard rail that cannot be read must not silently let every step through."""
    manifest = acme / "meshgen.yaml"
    manifest.write_text(
        manifest.read_text() + "guardrails:" + (" 7\n" if not section else "\n") + section
    )
    git(acme, "commit", "-qam", "guard rails")
    before = repo_state(acme)
    result = invoke(
        ["-C", str(acme), "weights", "set", "staging", "v1=0", "v2=100", "--branch", "x"],
        expect=2,
    )
    assert says in result.stderr
    assert "meshgen.yaml:" in result.stderr
    assert repo_state(acme) == before
