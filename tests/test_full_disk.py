"""A canary step on a full disk is refused with the disk named as the cause, and changes
nothing. Needs a small tmpfs, which only a user allowed to mount (root) can make."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Invoke
from helpers import repo_state


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a full-disk test needs a tmpfs, and only root may mount one here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"could not mount a tmpfs for the full-disk test: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    """Write until the file system says ENOSPC."""
    with (disk / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    # Small writes too, so that no partial block is left to use.
    for index in range(1000):
        try:
            (disk / f"crumb{index}").write_bytes(b"\0" * 512)
        except OSError:
            break


@pytest.mark.parametrize("commit", [True, False], ids=["branch", "write-only"])
def test_a_full_disk_is_a_clean_refusal(
    small_disk: Path, tmp_path: Path, invoke: Invoke, commit: bool
) -> None:
    source = tmp_path / "acme"
    invoke(["new", str(source), "--no-input"])
    repo = small_disk / "acme"
    shutil.copytree(source, repo, symlinks=True)
    _fill(small_disk)
    before = repo_state(repo)
    refusals = 0
    for attempt in range(5):
        args = ["-C", str(repo), "weights", "set", "staging", "v1=90", "v2=10"]
        if commit:
            args += ["--branch", f"canary/{attempt}"]
        result = invoke(args, expect=2)
        # git words it "Out of diskspace", the kernel "No space left on device".
        assert re.search("No space left on device|Out of diskspace", result.stderr), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert repo_state(repo) == before
        refusals += 1
    assert refusals == 5
    leftovers = [p.name for p in (repo / "environments" / "staging").iterdir()]
    assert leftovers == ["first-app.yaml"]
