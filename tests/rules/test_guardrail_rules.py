"""Guard rails from meshgen.yaml (MG700-MG703): enforced by the commands and by
`meshgen validate`.

MG701 and MG702 measure a change from its base in git, so their cases are tests here,
marked `rule_case`; what needs no history is in the folders tests/rules/<RULE>/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REAL_ANSWERS, Invoke
from helpers import git, line_of, replace, repo_state

STAGING = "environments/staging/first-app.yaml"
PRODUCTION = "environments/production/first-app.yaml"
RAILS = """guardrails:
  maxStep:
    staging: 50
    production: 20
  order: [staging, production]
"""


@pytest.fixture
def guarded(tmp_path: Path, invoke: Invoke) -> Path:
    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input", *REAL_ANSWERS])
    manifest = repo / "meshgen.yaml"
    manifest.write_text(manifest.read_text() + RAILS)
    git(repo, "commit", "-qam", "Add guard rails")
    return repo


@pytest.mark.rule_case("MG700", "pass")
@pytest.mark.rule_case("MG701", "pass")
@pytest.mark.rule_case("MG702", "pass")
@pytest.mark.rule_case("MG703", "pass")
def test_a_step_within_the_rails_validates(guarded: Path, invoke: Invoke) -> None:
    invoke(["-C", str(guarded), "weights", "set", "staging", "v1=50", "v2=50", "--branch", "a"])
    result = invoke(["-C", str(guarded), "validate"])
    assert "MG70" not in result.stdout


@pytest.mark.rule_case("MG701", "fail")
def test_a_step_too_large_is_refused_and_changes_nothing(guarded: Path, invoke: Invoke) -> None:
    before = repo_state(guarded)
    result = invoke(
        ["-C", str(guarded), "weights", "set", "staging", "v1=40", "v2=60", "--branch", "a"],
        expect=1,
    )
    line = line_of(guarded / STAGING, "  v1: 100")
    assert result.stderr.startswith(f"meshgen: error: {guarded / STAGING}:{line}: MG701 ")
    assert "v1 moves 60 points (100% -> 40%), more than the maximum step of 50" in result.stderr
    assert "pass --force to override" in result.stderr
    assert repo_state(guarded) == before


@pytest.mark.rule_case("MG701", "fail")
def test_force_records_the_override_and_validate_honours_it(guarded: Path, invoke: Invoke) -> None:
    result = invoke(["-C", str(guarded), "promote", "staging", "v2", "--branch", "fast", "--force"])
    assert "guard rail overridden with --force: MG701" in result.stderr
    message = git(guarded, "log", "-1", "--format=%B")
    assert "Guard rails overridden with --force:\n- MG701 staging: v1 moves 100 points" in message
    assert message.rstrip().endswith("Meshgen-Override: MG701")
    report = invoke(["-C", str(guarded), "validate"]).stdout
    line = line_of(guarded / STAGING, "  v1: 0")
    assert f"{STAGING}:{line}:1: MG701 warning: staging: v1 moves 100 points" in report
    assert "overridden by a Meshgen-Override commit trailer" in report


@pytest.mark.rule_case("MG701", "fail")
def test_validate_finds_a_large_step_made_by_hand(guarded: Path, invoke: Invoke) -> None:
    path = guarded / STAGING
    replace(path, "v1: 100", "v1: 0")
    replace(path, "v2: 0", "v2: 100")
    report = invoke(["-C", str(guarded), "validate"], expect=1).stdout
    line = line_of(guarded / STAGING, "  v1: 0")
    assert f"{STAGING}:{line}:1: MG701 error: staging: v1 moves 100 points" in report
    assert "(compared with main at " in report
    # Committed on a branch, the step is still measured against main.
    git(guarded, "switch", "-q", "-c", "by-hand")
    git(guarded, "commit", "-qam", "all at once")
    assert "MG701 error" in invoke(["-C", str(guarded), "validate"], expect=1).stdout


@pytest.mark.rule_case("MG702", "fail")
@pytest.mark.rule_case("MG702", "pass")
def test_production_moves_only_versions_at_100_in_staging(guarded: Path, invoke: Invoke) -> None:
    r = ["-C", str(guarded)]
    before = repo_state(guarded)
    result = invoke([*r, "weights", "set", "production", "v1=90", "v2=10", "--commit"], expect=1)
    assert "MG702 production: v2 gains traffic (0% -> 10%) but has 0% in staging" in result.stderr
    assert repo_state(guarded) == before
    for step in ("v1=50 v2=50", "v1=0 v2=100"):
        invoke([*r, "weights", "set", "staging", *step.split(), "--commit"])
    invoke([*r, "weights", "set", "production", "v1=90", "v2=10", "--branch", "prod-10"])
    assert "MG70" not in invoke(["-C", str(guarded), "validate"]).stdout


@pytest.mark.rule_case("MG702", "fail")
def test_validate_finds_production_moving_ahead_of_staging(guarded: Path, invoke: Invoke) -> None:
    path = guarded / PRODUCTION
    replace(path, "v1: 100", "v1: 90")
    replace(path, "v2: 0", "v2: 10")
    report = invoke(["-C", str(guarded), "validate"], expect=1).stdout
    line = line_of(guarded / PRODUCTION, "  v2: 10")
    assert (
        f"{PRODUCTION}:{line}:1: MG702 error: production: v2 gains traffic (0% -> 10%) "
        "but has 0% in staging; promote it to 100% in staging first"
    ) in report


@pytest.mark.rule_case("MG702", "pass")
def test_rollback_in_staging_is_never_blocked_by_order(guarded: Path, invoke: Invoke) -> None:
    r = ["-C", str(guarded)]
    invoke([*r, "weights", "set", "staging", "v1=60", "v2=40", "--commit"])
    invoke([*r, "weights", "set", "staging", "v1=100", "v2=0", "--commit"])


@pytest.mark.rule_case("MG701", "pass")
@pytest.mark.rule_case("MG701", "fail")
def test_base_ref_from_the_environment(
    guarded: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(["-C", str(guarded), "weights", "set", "staging", "v1=50", "v2=50", "--commit"])
    invoke(["-C", str(guarded), "weights", "set", "staging", "v1=0", "v2=100", "--commit"])
    assert "MG70" not in invoke(["-C", str(guarded), "validate"]).stdout
    monkeypatch.setenv("MESHGEN_BASE_REF", "main~2")
    assert "MG701 error: staging: v1 moves 100 points" in (
        invoke(["-C", str(guarded), "validate"], expect=1).stdout
    )


def test_a_base_ref_from_the_environment_that_names_no_commit_stops_validation(
    guarded: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHGEN_BASE_REF", "nonexistent")
    result = invoke(["-C", str(guarded), "validate", "--select", "MG7"], expect=2)
    assert result.stdout == ""
    assert result.stderr == (
        f"meshgen: error: MESHGEN_BASE_REF='nonexistent' names no commit in {guarded}; "
        "set it to a branch or commit that exists (fetch it first: git fetch origin main), "
        "or unset it to compare with origin/main or main\n"
    )


@pytest.mark.rule_case("MG700", "fail")
def test_not_checked_names_the_refs_tried(guarded: Path, invoke: Invoke) -> None:
    git(guarded, "branch", "-m", "main", "trunk")
    report = invoke(["-C", str(guarded), "validate", "--select", "MG7"]).stdout
    assert (
        "meshgen.yaml:1:1: MG700 info: guard rails not checked: neither origin/main nor main "
        "names a commit (MESHGEN_BASE_REF is not set)"
    ) in report


@pytest.mark.rule_case("MG700", "fail")
def test_rails_without_git_are_reported_as_not_checked(tmp_path: Path, invoke: Invoke) -> None:
    repo = tmp_path / "plain"
    invoke(["new", str(repo), "--no-input", "--no-git", *REAL_ANSWERS])
    (repo / "meshgen.yaml").write_text((repo / "meshgen.yaml").read_text() + RAILS)
    report = invoke(["-C", str(repo), "validate"]).stdout
    assert "meshgen.yaml:1:1: MG700 info: guard rails not checked:" in report
    assert "is not inside a git repository" in report


def test_rails_are_schema_checked(guarded: Path, invoke: Invoke) -> None:
    manifest = guarded / "meshgen.yaml"
    manifest.write_text(manifest.read_text().replace("production: 20", "production: 0"))
    report = invoke(["-C", str(guarded), "validate"], expect=1).stdout
    assert "MG002 error: guardrails.maxStep.production: 0 is less than 1" in report


def test_rules_are_listed(invoke: Invoke) -> None:
    listed = invoke(["rules"]).stdout
    for rule_id in ("MG700", "MG701", "MG702", "MG703"):
        assert rule_id in listed


@pytest.mark.rule_case("MG701", "fail")
def test_a_stacked_step_is_measured_from_the_base_as_validate_measures_it(
    guarded: Path, invoke: Invoke
) -> None:
    c = ["-C", str(guarded)]
    # 100 -> 50 on a first branch, not merged; then 50 -> 20 stacked on it: each step is
    # within staging's 50, but the pull request moves v1 80 points from main.
    invoke([*c, "weights", "set", "staging", "v1=50", "v2=50", "--branch", "step-1"])
    before = repo_state(guarded)
    result = invoke(
        [*c, "weights", "set", "staging", "v1=20", "v2=80", "--branch", "step-2"], expect=1
    )
    assert "MG701 staging: v1 moves 80 points (100% -> 20%)" in result.stderr
    head = git(guarded, "rev-parse", "main").strip()
    assert f"compared with main at {head[:12]}" in result.stderr
    assert repo_state(guarded) == before
    # validate on the first branch, edited by hand the same way, says the same.
    path = guarded / STAGING
    replace(path, "v1: 50", "v1: 20")
    replace(path, "v2: 50", "v2: 80")
    report = invoke([*c, "validate"], expect=1).stdout
    assert "MG701 error: staging: v1 moves 80 points (100% -> 20%)" in report
    assert f"(compared with main at {head[:12]})" in report


def test_without_a_base_the_commands_measure_the_file_on_disk_and_say_so(
    guarded: Path, invoke: Invoke
) -> None:
    git(guarded, "branch", "-m", "main", "trunk")
    result = invoke(
        ["-C", str(guarded), "weights", "set", "staging", "v1=40", "v2=60", "--commit"],
        expect=1,
    )
    assert "v1 moves 60 points (100% -> 40%)" in result.stderr
    assert "compared with the files on disk (neither origin/main nor main names a commit" in (
        result.stderr
    )
