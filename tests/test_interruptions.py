"""Interrupted or failing commands leave the user's files as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from helpers import git
from meshgen.scaffold import create


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "step", ["_copy_chart", "_write_environment_files", "_render_per_environment"]
)
def test_ctrl_c_mid_generation_leaves_no_destination(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.setattr(create, step, _interrupt)
    result = invoke(["new", str(tmp_path / "out"), "--no-input"], expect=130)
    assert "interrupted" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_keeps_an_empty_destination_folder_empty(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    monkeypatch.setattr(create, "_write_environment_files", _interrupt)
    invoke(["new", str(dest), "--no-input"], expect=130)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert list(dest.iterdir()) == []


def test_a_failing_template_step_leaves_nothing(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(create, "_copy_chart", broken)
    result = invoke(["new", str(tmp_path / "out"), "--no-input"], expect=2)
    assert result.stderr == "meshgen: error: No space left on device (injected)\n"
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_a_commit_hook_runs_rolls_the_step_back(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a pre-commit hook the file is written and staged before the hook runs; a
    # SIGTERM then (CI cancelling the job) must put both back, as Ctrl-C does.
    import os

    repo = tmp_path / "acme"
    invoke(["new", str(repo), "--no-input"])
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text('#!/bin/sh\nkill -TERM "$MESHGEN_UNDER_TEST"\nsleep 30\n')
    hook.chmod(0o755)
    monkeypatch.setenv("MESHGEN_UNDER_TEST", str(os.getpid()))
    staging = repo / "environments" / "staging" / "first-app.yaml"
    before = staging.read_bytes()

    args = ["weights", "set", "staging", "v1=90", "v2=10", "--branch", "canary/t"]
    result = invoke(["-C", str(repo), *args], expect=130)
    assert "interrupted" in result.stderr
    assert staging.read_bytes() == before
    status = git(repo, "status", "--porcelain=v1", "-uall", "--branch")
    assert status.splitlines() == ["## main"]


def test_an_interrupted_git_call_leaves_no_watchdog_to_wait_for(tmp_path: Path) -> None:
    # GitPython's timeout timer outlived an interrupted command, and the interpreter then
    # waited for it (60 s) before exiting after Ctrl-C.
    import signal
    import subprocess
    import threading

    from meshgen.git.plumbing import repo_class

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    repo = repo_class()(tmp_path)

    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            repo.git.execute(["git", "-c", "alias.wait=!sleep 3", "wait"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    for timer in timers:
        timer.join(timeout=1)
    assert [t for t in timers if t.is_alive()] == []


def test_a_signal_within_a_shielded_block_is_raised_at_its_end_and_not_after_done() -> None:
    # The main thread blocks SIGTERM within the block; the kernel then hands it to another
    # thread, and Python runs the handler in the main thread all the same. It must still
    # wait for the block's end: there, a publishing git command or rename has finished.
    import os
    import signal
    import threading
    import time

    from meshgen.git.signals import mark_done, shielded, step_signals

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a thread that does not block signals
    other.start()
    finished = []
    try:
        with step_signals():
            with pytest.raises(KeyboardInterrupt), shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.3)
                finished.append("interrupted block")
            with shielded():
                mark_done()
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.3)
                finished.append("done block")
    finally:
        stop.set()
        other.join()
    assert finished == ["interrupted block", "done block"]
