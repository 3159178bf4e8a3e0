"""Running meshgen in real processes to kill, interrupt or race it, and the repository
state those runs are judged by: byte for byte as before, or exactly as intended."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from helpers import git

# meshgen's own files in git's directory, which may be left: the lock file stays by design
# (flock on it), and a kill while the commit is built aside leaves its scratch index
# (and that index's lock); git never reads them, and the next step removes them and
# says so (tests/test_git_states.py).
NOT_GITS = ("meshgen.lock", "meshgen-commit.index.lock")


# meshgen with a day-2 validation that always passes: the kill and race tests judge how
# a change is published, and a real validation (seconds of Helm renders on a busy
# machine) would make each run of a sweep over every publication point that long.
PASSING_VALIDATION = """
import sys
import meshgen.cli.changes as changes
from meshgen.validate.findings import Report
changes.validator = lambda _helm: lambda root: Report(root, (), (), 0, ())
from meshgen.cli import main
main()
"""


def meshgen(
    repo: Path, *args: str, validation: bool = True, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """meshgen -C repo ARGS, in a process of its own; `validation=False`: a day-2 change is
    not validated (see PASSING_VALIDATION)."""
    launcher = ["-m", "meshgen"] if validation else ["-c", PASSING_VALIDATION]
    return subprocess.Popen(
        [sys.executable, *launcher, "-C", str(repo), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else {**os.environ, **env},
    )


def snapshot(repo: Path) -> dict[str, str]:
    """Refs (a commit as its parent and tree), HEAD, index, status, every file's bytes (as
    a digest per file, so that a difference names the file) and git's lock files."""
    refs = []
    for line in git(repo, "for-each-ref", "--format=%(refname) %(objectname)").splitlines():
        name, sha = line.split()
        shape = git(repo, "log", "-1", "--format=%P %T", sha).strip()
        refs.append(f"{name} {shape}")
    files = []
    for path in sorted(repo.rglob("*")):
        if ".git" in path.relative_to(repo).parts or not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        files.append(f"{path.relative_to(repo).as_posix()} {digest}")
    return {
        "refs": "\n".join(refs),
        "head": git(repo, "symbolic-ref", "-q", "HEAD", check=False)
        or git(repo, "rev-parse", "HEAD"),
        "index": git(repo, "ls-files", "-s"),
        "status": git(repo, "--no-optional-locks", "status", "--porcelain=v1", "-uall"),
        "files": "\n".join(files),
        # git's own lock files: one left behind is a git command stopped halfway.
        "locks": " ".join(
            sorted(p.name for p in (repo / ".git").rglob("*.lock") if p.name not in NOT_GITS)
        ),
    }


def differences(state: dict[str, str], expected: dict[str, str], name: str) -> str:
    """What of `state` differs from `expected`, line by line, for a failure's message."""
    parts = []
    for key, value in state.items():
        if value == expected[key]:
            continue
        got, want = set(value.splitlines()), set(expected[key].splitlines())
        lines = [f"-{line}" for line in sorted(want - got)]
        lines += [f"+{line}" for line in sorted(got - want)]
        parts.append(f"  {key} (vs {name}):\n" + "\n".join(f"    {line}" for line in lines))
    return "\n".join(parts)


def settled(repo: Path) -> dict[str, str]:
    """The state as the next meshgen command sees it: once the repository lock is free.

    The git command that publishes a step outlives a killed meshgen and holds the lock
    until it is done; a look before that would see git halfway through its switch.
    """
    fd = os.open(repo / ".git" / "meshgen.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the repository lock was never freed"
                time.sleep(0.005)
        return snapshot(repo)
    finally:
        os.close(fd)


def holds_lock(pid: int, lock: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(fd.readlink() == lock for fd in fds.iterdir())
    except OSError:
        return False


def pair(
    repo: Path, first: Sequence[str], second: Sequence[str], *, validation: bool = True
) -> list[tuple[int, str]]:
    """Both commands, released together: each has started and waits on the lock."""
    lock = repo / ".git" / "meshgen.lock"
    with lock_held(lock) as release:
        processes = [
            meshgen(repo, *first, validation=validation),
            meshgen(repo, *second, validation=validation),
        ]
        deadline = time.monotonic() + 60
        while not all(holds_lock(p.pid, lock) or p.poll() is not None for p in processes):
            assert time.monotonic() < deadline, "the commands never reached the lock"
            time.sleep(0.01)
        release()
        results = []
        for process in processes:
            _, err = process.communicate(timeout=120)
            results.append((process.returncode, err.decode()))
    return results


@contextmanager
def lock_held(lock: Path) -> Iterator[Callable[[], None]]:
    """Another process holding `lock` until the callable is called."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys\n"
            "f = open(sys.argv[1], 'a')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n",
            str(lock),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdin is not None and holder.stdout is not None
    assert holder.stdout.readline() == b"locked\n"

    def release() -> None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)

    try:
        yield release
    finally:
        holder.kill()
        holder.wait()
