"""A canary step or a day-2 command on a full disk is refused with the disk named as the
cause, and changes nothing. Needs a small tmpfs, which only a user allowed to mount
(root) can make."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REAL_DOMAIN, REAL_EMAIL, Invoke
from helpers import repo_state
from kills import meshgen, snapshot
from meshgen.git.worktree import STAGING_DIR


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


# -- day-2 commands: many files, published together or not at all

APP_ADD = ["app", "add", "checkout"]


def _day2_repo(tmp_path: Path) -> Path:
    from meshgen.scaffold import answers_from_mapping, generate

    answers = answers_from_mapping(
        {"name": "acme-mesh", "domain": REAL_DOMAIN, "acme_email": REAL_EMAIL}
    )
    return generate(answers, tmp_path / "acme").path


@pytest.mark.slow
@pytest.mark.parametrize("mode", [["--branch", "app/checkout"], []], ids=["branch", "write-only"])
def test_a_day2_change_on_a_full_disk_is_a_clean_refusal(
    small_disk: Path, tmp_path: Path, invoke: Invoke, mode: list[str]
) -> None:
    repo = small_disk / "acme"
    shutil.copytree(_day2_repo(tmp_path), repo, symlinks=True)
    _fill(small_disk)
    before = snapshot(repo)
    result = invoke(["-C", str(repo), *APP_ADD, *mode], expect=2)
    assert re.search("No space left on device|Out of diskspace", result.stderr), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert snapshot(repo) == before
    assert not (repo / ".git" / STAGING_DIR).exists()


def _free_pages(disk: Path, pages: int) -> None:
    filler = disk / "filler"
    os.truncate(filler, max(filler.stat().st_size - pages * 4096, 0))


@pytest.mark.slow
@pytest.mark.parametrize("mode", [["--branch", "app/checkout"], []], ids=["branch", "write-only"])
def test_a_nearly_full_disk_gets_the_whole_change_or_none(
    small_disk: Path, tmp_path: Path, mode: list[str]
) -> None:
    # From a full disk, a few more free blocks at each run: the objects fit before the
    # files do, the staged files before the index; whatever the room, the change is all
    # there or not at all (git's checkout, which would stop halfway, never starts
    # without room for every file).
    source = _day2_repo(tmp_path)
    reference = shutil.copytree(source, tmp_path / "reference", symlinks=True)
    done = meshgen(reference, *APP_ADD, *mode, validation=False)
    assert done.wait(timeout=120) == 0
    after = snapshot(reference)
    outcomes = []
    for pages in range(0, 120, 6):
        for leftover in small_disk.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        repo = shutil.copytree(source, small_disk / "acme", symlinks=True)
        before = snapshot(repo)
        _fill(small_disk)
        _free_pages(small_disk, pages)
        process = meshgen(repo, *APP_ADD, *mode, validation=False)
        _, err = process.communicate(timeout=120)
        state = snapshot(repo)
        if process.returncode == 0:
            assert state == after, err.decode()
            outcomes.append("after")
            break
        assert process.returncode == 2, err.decode()
        assert re.search("No space left on device|Out of diskspace", err.decode()), err.decode()
        assert state == before, err.decode()
        outcomes.append("before")
    print(f"{pages} pages freed: {outcomes}")
    assert outcomes[0] == "before" and outcomes[-1] == "after", outcomes
