"""Day-2 commands under kills and concurrent runs, in real meshgen processes.

After any kill the repository, once the lock is free, is byte for byte as before the
command, or holds exactly its change: with --branch one commit on the new branch,
checked out, with a clean tree (compared by parent and tree with an undisturbed run);
without, the working tree of an undisturbed run. Validation is not under test here
(tests/test_day2_refusals.py is about it): it passes, so that a sweep over every
publication point stays fast.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kills import differences, git, meshgen, pair, settled, snapshot

# The command the kills sweep over: it writes a new chart folder, a new file in every
# environment and GitOps folder, and meshgen.yaml, without rendering the template (so
# that each of the many runs is short).
APP_ADD = ("app", "add", "checkout")
BRANCH = ("--branch", "app/checkout")
ENV_ADD = ("env", "add", "qa")
WORKERS = 2
DOMAIN = {"domain": "acme.io", "acme_email": "platform@acme.io"}


@dataclass(frozen=True)
class Case:
    repo: Path
    before: dict[str, str]
    branched: dict[str, str]
    """After `app add checkout --branch app/checkout`."""
    written: dict[str, str]
    """After `app add checkout` without a commit."""


def _run(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = meshgen(repo, *args, validation=False, env=env)
    _, err = process.communicate(timeout=120)
    return process.returncode, err.decode()


def _copy(repo: Path, where: Path) -> Path:
    shutil.copytree(repo, where, symlinks=True)
    return where


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    from meshgen.scaffold import answers_from_mapping, generate

    root = tmp_path_factory.mktemp("day2")
    repo = generate(answers_from_mapping({"name": "acme-mesh", **DOMAIN}), root / "acme").path
    results = {}
    for name, args in (("branched", BRANCH), ("written", ())):
        copy = _copy(repo, root / name)
        code, err = _run(copy, *APP_ADD, *args)
        assert code == 0, err
        results[name] = snapshot(copy)
    return Case(repo, snapshot(repo), results["branched"], results["written"])


def _judge(repo: Path, expected: Sequence[tuple[str, dict[str, str]]]) -> tuple[str, str]:
    """Which expected state the settled repository is in, or INCONSISTENT and why."""
    state = settled(repo)
    for name, wanted in expected:
        if state == wanted:
            return name, ""
    detail = "\n".join(differences(state, wanted, name) for name, wanted in expected)
    return "INCONSISTENT", detail


def _git_wrapper(folder: Path) -> Path:
    """A `git` that counts its calls and, at call $KILL_AT, SIGKILLs meshgen (its parent):
    then exits without running git (KILL_MODE=before) or runs it (KILL_MODE=during, as a
    git meshgen started and then was killed)."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir()
    script = folder / "git"
    script.write_text(
        "#!/bin/sh\n"
        'n=$(( $(cat "$KILL_COUNTER" 2>/dev/null || echo 0) + 1 ))\n'
        'echo "$n" > "$KILL_COUNTER"\n'
        'echo "$n $*" >> "$KILL_COUNTER.log"\n'
        'if [ "$n" = "$KILL_AT" ]; then\n'
        "  kill -KILL $PPID\n"
        '  if [ "$KILL_MODE" = before ]; then exit 1; fi\n'
        "fi\n"
        f'exec {real} "$@"\n'
    )
    script.chmod(0o755)
    return folder


def _killed_at(case: Case, where: Path, wrapper: Path, call: int, mode: str) -> tuple[str, str]:
    import os

    repo = _copy(case.repo, where)
    env = {
        "PATH": f"{wrapper}:{os.environ['PATH']}",
        "KILL_COUNTER": str(where.parent / f"{where.name}.count"),
        "KILL_AT": str(call),
        "KILL_MODE": mode,
    }
    _run(repo, *APP_ADD, *BRANCH, env=env)
    return _judge(repo, [("before", case.before), ("after", case.branched)])


@pytest.mark.slow
def test_a_kill_at_every_git_command_leaves_the_change_undone_or_one_commit(
    case: Case, tmp_path: Path
) -> None:
    wrapper = _git_wrapper(tmp_path / "bin")
    import os

    counted = _copy(case.repo, tmp_path / "counted")
    env = {"PATH": f"{wrapper}:{os.environ['PATH']}", "KILL_COUNTER": str(tmp_path / "count")}
    code, err = _run(counted, *APP_ADD, *BRANCH, env=env)
    assert code == 0, err
    calls = (tmp_path / "count.log").read_text().splitlines()
    publish = next(i for i, c in enumerate(calls, 1) if " checkout -q -b app/checkout " in f" {c} ")
    runs = [(call, mode) for call in range(1, len(calls) + 1) for mode in ("before", "during")]
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(
            pool.map(
                lambda job: _killed_at(case, tmp_path / f"k{job[0]}", wrapper, *job[1]),
                enumerate(runs),
            )
        )
    tally = {name: sum(state == name for state, _ in outcomes) for name in ("before", "after")}
    print(f"kills at {len(calls)} git calls, two ways: {tally}")
    bad = [(run, detail) for run, (state, detail) in zip(runs, outcomes, strict=True) if detail]
    for (call, mode), detail in bad:
        print(f"killed {mode} git call {call} ({calls[call - 1]}):\n{detail}")
    assert bad == []
    states = dict(zip(runs, (state for state, _ in outcomes), strict=True))
    # Killed before the publishing git command, the change is undone; once it runs, the
    # change completes, though meshgen never saw it finish.
    assert all(states[(call, "before")] == "before" for call in range(1, publish + 1))
    assert all(states[(call, "during")] == "before" for call in range(1, publish))
    assert states[(publish, "during")] == "after"
    assert all(states[(call, mode)] == "after" for call in range(publish + 1, len(calls) + 1)
               for mode in ("before", "during"))  # fmt: skip


def _timed_kill(case: Case, where: Path, signum: int, delay: float) -> tuple[str, str, int]:
    repo = _copy(case.repo, where)
    process = meshgen(repo, *APP_ADD, validation=False)
    _wait_for_lock(repo, process)
    time.sleep(delay)
    process.send_signal(signum)
    process.communicate(timeout=60)
    state, detail = _judge(repo, [("before", case.before), ("after", case.written)])
    return state, detail, process.returncode


def _wait_for_lock(repo: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the command takes the repository lock: start-up is not what is under test."""
    lock = repo / ".git" / "meshgen.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


@pytest.mark.slow
def test_kills_while_files_are_written_leave_none_or_all_of_them(
    case: Case, tmp_path: Path
) -> None:
    # Without a commit the files are put in place by a process of their own (no git
    # command to count): kills spread over the command's run and a little past it, as
    # for canary steps, its length measured under the same parallel load.
    def length(index: int) -> float:
        repo = _copy(case.repo, tmp_path / f"timing{index}")
        process = meshgen(repo, *APP_ADD, validation=False)
        _wait_for_lock(repo, process)
        started = time.monotonic()
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        return time.monotonic() - started

    with ThreadPoolExecutor(WORKERS) as pool:
        longest = max(pool.map(length, range(WORKERS)))
    delays = [1.2 * longest * i / 7 for i in range(8)]
    runs = [(signum, d) for signum in (signal.SIGKILL, signal.SIGTERM) for d in delays]
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(
            pool.map(
                lambda job: _timed_kill(case, tmp_path / f"t{job[0]}", *job[1]), enumerate(runs)
            )
        )
    bad = [detail for _, detail, _ in outcomes if detail]
    assert bad == [], "\n".join(bad)
    for (signum, _), (state, _, code) in zip(runs, outcomes, strict=True):
        assert (code == 0) <= (state == "after")
        if signum == signal.SIGTERM and code == 130:
            assert state == "before"  # SIGTERM rolls back until the files are in place
    print(f"write-only kills: {[state for state, _, _ in outcomes]}")


def test_leftovers_of_a_killed_run_are_removed_by_the_next_command(
    case: Case, tmp_path: Path
) -> None:
    repo = _copy(case.repo, tmp_path / "acme")
    leftover = repo / ".git" / "meshgen-publish" / "0123abcd"
    leftover.mkdir(parents=True)
    (leftover / "1").write_text("half of a change\n")
    (repo / ".git" / "MESHGEN_COMMIT_MSG").write_text("a message\n")
    code, err = _run(repo, *APP_ADD)
    assert code == 0, err
    assert "removed .git/meshgen-publish/0123abcd, left by an interrupted" in err
    assert "removed .git/MESHGEN_COMMIT_MSG" in err
    assert not (repo / ".git" / "meshgen-publish").exists()
    assert snapshot(repo) == case.written


def _only_parent_is_main(repo: Path, branch: str) -> bool:
    return git(repo, "rev-parse", f"{branch}^").strip() == git(repo, "rev-parse", "main").strip()


@pytest.mark.slow
def test_two_day2_commands_at_once_never_mix(case: Case, tmp_path: Path) -> None:
    first = [*ENV_ADD, "--branch", "env/qa"]
    second = [*APP_ADD, *BRANCH]

    def run(index: int) -> tuple[Path, list[tuple[int, str]]]:
        copy = _copy(case.repo, tmp_path / f"p{index}")
        return copy, pair(copy, first, second, validation=False)

    with ThreadPoolExecutor(WORKERS) as pool:
        pairs = list(pool.map(run, range(4)))
    for copy, results in pairs:
        succeeded = []
        for (code, err), branch in zip(results, ("env/qa", "app/checkout"), strict=True):
            if code == 0:
                assert _only_parent_is_main(copy, branch), branch
                succeeded.append(branch)
            else:
                # The second waited, then found the first's branch checked out.
                assert "another meshgen command" in err or "branch changed" in err, err
                assert git(copy, "branch", "--list", branch) == ""
        assert len(succeeded) >= 1, results
        assert git(copy, "status", "--porcelain", "--untracked-files=all") == ""
        assert git(copy, "branch", "--show-current").strip() in succeeded


@pytest.mark.slow
def test_a_day2_command_and_a_canary_step_at_once_lose_nothing(case: Case, tmp_path: Path) -> None:
    canary = ["weights", "set", "staging", "v1=80", "v2=20"]

    def run(index: int) -> tuple[Path, list[tuple[int, str]]]:
        copy = _copy(case.repo, tmp_path / f"c{index}")
        order = (ENV_ADD, canary) if index % 2 else (canary, ENV_ADD)
        return copy, pair(copy, *order, validation=False)

    with ThreadPoolExecutor(WORKERS) as pool:
        pairs = list(pool.map(run, range(4)))
    for copy, results in pairs:
        for code, err in results:
            assert code == 0 or "another meshgen command" in err, err
        codes = [code for code, _ in results]
        staging = (copy / "environments/staging/first-app.yaml").read_text()
        if all(code == 0 for code in codes):
            # Both changes are there: the second read what the first wrote.
            assert "v2: 20" in staging
            assert (copy / "environments/qa/first-app.yaml").is_file()
            assert "name: qa" in (copy / "meshgen.yaml").read_text()
        assert git(copy, "rev-parse", "HEAD") == git(case.repo, "rev-parse", "HEAD")
