"""Canary steps under kills, Ctrl-C and concurrent runs, in real meshgen processes.

Each run works on its own copy of one generated repository. After a kill the repository
must be byte for byte as before the step, or hold exactly the step's one commit on the
new branch, checked out, with a clean tree (the commit's tree compared with that of an
uninterrupted run; its SHA differs only by the time stamp).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Invoke
from kills import differences, git, lock_held, meshgen, pair, settled, snapshot

STAGING = "environments/staging/first-app.yaml"
STEP = ["weights", "set", "staging", "v1=70", "v2=30"]
WORKERS = 4
# Kills per signal; MESHGEN_KILLS=100 probes the phases more finely (about a minute more).
KILLS = int(os.environ.get("MESHGEN_KILLS", "18"))


@dataclass(frozen=True)
class Outcome:
    state: str  # "before", "after" or "INCONSISTENT"
    code: int
    seconds_to_exit: float
    stderr: str
    detail: str = ""
    """For an inconsistent state: how it differs from both allowed states."""


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A generated repository, its state, and its state after the step ran undisturbed."""
    from click.testing import CliRunner

    from meshgen.cli import cli

    root = tmp_path_factory.mktemp("template")
    runner = CliRunner()
    for key, value in {
        "GIT_CONFIG_GLOBAL": str(root / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }.items():
        os.environ.setdefault(key, value)
    repo = root / "acme"
    result = runner.invoke(cli, ["new", str(repo), "--no-input"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    before = snapshot(repo)
    reference = root / "reference"
    shutil.copytree(repo, reference, symlinks=True)
    done = meshgen(reference, *STEP, "--branch", "canary/k")
    _, err = done.communicate(timeout=60)
    assert done.returncode == 0, err.decode()
    return repo, before, snapshot(reference)


def _copy(template: Path, where: Path) -> Path:
    shutil.copytree(template, where, symlinks=True)
    return where


def _interrupted_run(
    template: Path, where: Path, signum: int, delay: float, expected: Sequence[dict[str, str]]
) -> Outcome:
    repo = _copy(template, where)
    process = meshgen(repo, *STEP, "--branch", "canary/k")
    _wait_for_lock(repo, process)
    time.sleep(delay)
    sent = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    seconds = time.monotonic() - sent
    state = settled(repo)
    before, after = expected
    name = "before" if state == before else "after" if state == after else "INCONSISTENT"
    detail = ""
    if name == "INCONSISTENT":
        detail = differences(state, before, "before") + "\n" + differences(state, after, "after")
    return Outcome(name, process.returncode, seconds, err.decode(), detail)


def _wait_for_lock(repo: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the step takes the repository lock: start-up is not what is under test."""
    lock = repo / ".git" / "meshgen.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


def _spread(count: int, low: float, high: float) -> list[float]:
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _step_seconds(template: Path, where: Path) -> float:
    """How long a step runs once it holds the lock."""
    repo = _copy(template, where)
    process = meshgen(repo, *STEP, "--branch", "canary/k")
    _wait_for_lock(repo, process)
    started = time.monotonic()
    process.communicate(timeout=60)
    return time.monotonic() - started


@pytest.mark.slow
def test_kills_leave_the_step_undone_or_complete(
    template: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    repo, before, after = template
    # Delays from the moment the step holds the lock, spread over its measured length
    # and a little past it, so that kills land in every phase: checks, the commit
    # built aside, its publication, the exit.
    # Measured under the same parallel load as the kills, which slows every step.
    with ThreadPoolExecutor(WORKERS) as pool:
        timings = [tmp_path / f"timing{i}" for i in range(WORKERS)]
        length = max(pool.map(lambda where: _step_seconds(repo, where), timings))
    runs = [
        (signum, delay)
        for signum in (signal.SIGKILL, signal.SIGTERM)
        for delay in _spread(KILLS, 0.0, 1.1 * length)
    ]
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(
            pool.map(
                lambda job: _interrupted_run(
                    repo, tmp_path / f"k{job[0]}", *job[1], (before, after)
                ),
                enumerate(runs),
            )
        )
    tally = {name: sum(o.state == name for o in outcomes) for name in ("before", "after")}
    bad = [(run, o) for run, o in zip(runs, outcomes, strict=True) if o.state == "INCONSISTENT"]
    print(f"kills: {len(outcomes)}, {tally}, inconsistent: {len(bad)}, length {length:.2f}s")
    for (signum, delay), outcome in bad:
        print(f"{signum.name} at {delay:.3f}s, exit {outcome.code}:\n{outcome.detail}")
    assert bad == []
    for (signum, _), outcome in zip(runs, outcomes, strict=True):
        assert (outcome.code == 0) <= (outcome.state == "after"), outcome.stderr
        # SIGTERM before meshgen set its handler up ends it the default way (-15).
        if signum == signal.SIGTERM and outcome.code not in (0, -signum):
            assert outcome.code == 130 and outcome.state == "before", outcome.stderr


@pytest.mark.slow
def test_ctrl_c_rolls_back_or_completes_and_exits_at_once(
    template: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    repo, before, after = template
    length = _step_seconds(repo, tmp_path / "timing")
    delays = _spread(8, 0.0, 0.8 * length)
    # One at a time: the exit time measured is meshgen's, not the machine's load.
    with ThreadPoolExecutor(1) as pool:
        outcomes = list(
            pool.map(
                lambda job: _interrupted_run(
                    repo, tmp_path / f"c{job[0]}", signal.SIGINT, job[1], (before, after)
                ),
                enumerate(delays),
            )
        )
    slowest = max(o.seconds_to_exit for o in outcomes)
    states = [o.state for o in outcomes]
    print(f"ctrl-c: {len(outcomes)}, states {states}, slowest exit {slowest:.2f}s")
    assert [o.state for o in outcomes if o.state == "INCONSISTENT"] == []
    assert slowest < 5, "an interrupted step took seconds to exit"
    for outcome in outcomes:
        if outcome.code == -signal.SIGINT:
            # Delivered while the interpreter was already exiting after the step.
            assert outcome.stderr == "" and outcome.state == "after"
            continue
        assert outcome.code in (0, 130), outcome.stderr
        assert (outcome.code == 0) == (outcome.state == "after"), outcome.stderr


def _v2_weight(text: str) -> int:
    traffic = text.split("\ntraffic:\n")[1]
    return int(next(line for line in traffic.splitlines() if "v2:" in line).split(":")[1])


@pytest.mark.slow
def test_concurrent_shifts_lose_no_update(
    template: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    repo = template[0]
    shift = ["shift", "staging", "--to", "v2", "--step", "10"]

    def run(index: int) -> tuple[int, list[tuple[int, str]]]:
        copy = _copy(repo, tmp_path / f"s{index}")
        results = pair(copy, shift, shift)
        return _v2_weight((copy / STAGING).read_text()), results

    with ThreadPoolExecutor(WORKERS) as pool:
        pairs = list(pool.map(run, range(10)))
    lost = 0
    for weight, results in pairs:
        succeeded = sum(code == 0 for code, _ in results)
        for code, err in results:
            assert code == 0 or "another meshgen command" in err, err
        lost += weight != 10 * succeeded
    print(f"concurrent shift pairs: {len(pairs)}, lost updates: {lost}")
    assert lost == 0


@pytest.mark.slow
def test_concurrent_branches_never_mix(
    template: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    repo = template[0]
    first = ["weights", "set", "staging", "v1=90", "v2=10", "--branch", "canary/a"]
    second = ["weights", "set", "staging", "v1=80", "v2=20", "--branch", "canary/b"]

    def run(index: int) -> tuple[Path, list[tuple[int, str]]]:
        copy = _copy(repo, tmp_path / f"b{index}")
        return copy, pair(copy, first, second)

    with ThreadPoolExecutor(WORKERS) as pool:
        pairs = list(pool.map(run, range(10)))
    mixed = 0
    for copy, results in pairs:
        main = git(copy, "rev-parse", "main").strip()
        for (code, err), branch, weight in zip(
            results, ("canary/a", "canary/b"), (10, 20), strict=True
        ):
            if code != 0:
                assert "another meshgen command" in err or "branch changed" in err, err
                assert git(copy, "branch", "--list", branch) == ""
                continue
            parent = git(copy, "rev-parse", f"{branch}^").strip()
            message = git(copy, "log", "-1", "--format=%B", branch)
            content = git(copy, "show", f"{branch}:{STAGING}")
            mixed += parent != main
            mixed += f"v2: {weight}%" not in message or _v2_weight(content) != weight
    print(f"concurrent branch pairs: {len(pairs)}, mixed branches: {mixed}")
    assert mixed == 0


def test_a_second_writer_waits_then_refuses_clearly(
    acme_with_lock_held: Path, invoke: Invoke
) -> None:
    from meshgen.git import lock

    started = time.monotonic()
    result = invoke(
        ["-C", str(acme_with_lock_held), "weights", "set", "staging", "v1=90", "v2=10"],
        expect=2,
    )
    assert time.monotonic() - started >= 0.5
    assert "another meshgen command is changing" in result.stderr
    assert "v1: 100" in (acme_with_lock_held / STAGING).read_text()
    assert lock.LOCK_NAME in result.stderr


@pytest.fixture
def acme_with_lock_held(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A generated repository whose lock another process holds."""
    from meshgen.git import lock

    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.5)
    with lock_held(repo / ".git" / lock.LOCK_NAME):
        yield repo


def test_git_started_under_the_lock_holds_it_until_it_exits(tmp_path: Path) -> None:
    """The guarantee the kills above rely on: meshgen's git commands inherit the lock (a
    kill of meshgen leaves them to finish before the next writer), its hooks do not."""
    from meshgen.git.lock import LOCK_NAME, repository_lock
    from meshgen.git.plumbing import run_git

    git(tmp_path, "init", "-q")
    # A git alias run through the shell lists the files git passed on to it.
    probe = ["-c", "alias.fds=!ls -l /proc/$$/fd", "fds"]
    with repository_lock(tmp_path):
        own = run_git(tmp_path, probe, detach=True)
        hook = run_git(tmp_path, probe, shield=False)
    assert LOCK_NAME in own
    assert LOCK_NAME not in hook
    assert LOCK_NAME not in run_git(tmp_path, probe)
