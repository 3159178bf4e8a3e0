"""Publishing files into the working tree without a commit: all of them, or none.

Every new file is written in full first, under a temporary name in git's directory
(`meshgen-publish/`; beside its target outside git, or when git's directory is on
another file system), a new folder as a whole temporary folder, so that a full disk or
an error stops the change while nothing the user sees has changed. Then one detached
process, holding the repository lock it inherits, moves them into place with renames and
deletes the files the change removes; it undoes its own renames if one fails. A kill of meshgen
cannot stop it halfway (it runs in its own session, as the git command that publishes
a commit does), and the next meshgen command waits for it on the lock.

What a killed run can leave is temporary files (in git's directory, where git never
looks), never a half-changed repository; the next writer removes them under the lock
(`remove_leftovers`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meshgen import safefs
from meshgen.git.plumbing import inherited_fds
from meshgen.git.signals import mark_done, shielded

_SUFFIX = "meshgen-tmp"
STAGING_DIR = "meshgen-publish"
_LEFTOVER = re.compile(rf"^\..+\.[0-9a-f]{{8}}\.{_SUFFIX}$")
PUBLISH_TIMEOUT_SECONDS = 60

# The publishing process: reads the whole plan before touching anything (a plan cut
# short by a kill is no plan), renames, and on a failure renames everything back.
_PUBLISHER = r"""
import json, os, sys
plan = json.loads(sys.stdin.buffer.read())
undo = []
try:
    for target, aside in plan["remove"]:
        os.rename(target, aside)
        undo.append((aside, target))
    for staged, target, backup in plan["place"]:
        if backup:
            os.link(target, backup)
            undo.append((backup, target))
        else:
            undo.append((target, staged))
        os.rename(staged, target)
except OSError as exc:
    for source, destination in reversed(undo):
        try:
            os.rename(source, destination)
        except OSError:
            pass
    sys.stderr.write(json.dumps([exc.errno, exc.strerror, exc.filename]))
    sys.exit(1)
for _, aside in plan["remove"]:
    os.unlink(aside)
for _, _, backup in plan["place"]:
    if backup:
        os.unlink(backup)
for folder in plan["prune"]:
    while folder != plan["root"]:
        try:
            os.rmdir(folder)
        except OSError:
            break
        folder = os.path.dirname(folder)
"""


@dataclass
class _Staged:
    token: str
    folder: Path | None
    """Where temporary files go, or None: beside their targets."""
    place: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(staged, target, backup of the target or None)"""
    remove: list[tuple[str, str]] = field(default_factory=list)
    prune: list[str] = field(default_factory=list)
    folders: dict[Path, Path] = field(default_factory=dict)
    """New folders: target folder -> its staged folder."""
    count: int = 0

    def aside(self, target: Path) -> Path:
        if self.folder is not None:
            self.count += 1
            return self.folder / str(self.count)
        return target.with_name(f".{target.name}.{self.token}.{_SUFFIX}")


def _new_top(root: Path, target: Path) -> Path | None:
    """The highest folder above `target` (below `root`) that does not exist yet."""
    missing = None
    folder = target.parent
    while folder != root and not os.path.lexists(folder):
        missing = folder
        folder = folder.parent
    return missing


def _write(path: Path, data: bytes, mode: int) -> None:
    with open(path, "xb") as handle:  # noqa: PTH123 - exclusive create, then fsync
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    path.chmod(mode)


def _stage(root: Path, changes: Mapping[str, bytes | None], staged: _Staged) -> None:
    for relpath, data in sorted(changes.items()):
        target = root / relpath
        if data is None:
            if os.path.lexists(target):
                safefs.check_writable(target, root)
                staged.remove.append((str(target), str(staged.aside(target))))
                staged.prune.append(str(target.parent))
            continue
        top = _new_top(root, target)
        if top is None:
            safefs.check_writable(target, root)
            exists = target.is_file()
            mode = target.stat().st_mode & 0o7777 if exists else 0o644
            aside = staged.aside(target)
            _write(aside, data, mode)
            backup = str(aside.with_name(f"{aside.name}-old")) if exists else None
            staged.place.append((str(aside), str(target), backup))
            continue
        folder = staged.folders.get(top)
        if folder is None:
            folder = staged.folders[top] = staged.aside(top)
            folder.mkdir()
            staged.place.append((str(folder), str(top), None))
        inside = folder / target.relative_to(top)
        inside.parent.mkdir(parents=True, exist_ok=True)
        _write(inside, data, 0o644)


def _discard(staged: _Staged) -> None:
    import shutil

    if staged.folder is not None:
        shutil.rmtree(staged.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            staged.folder.parent.rmdir()  # only when no other run's folder is left
        return
    for path, _, _ in staged.place:
        if Path(path).is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            Path(path).unlink(missing_ok=True)


def _stages_in_git(root: Path, git_dir: Path | None) -> bool:
    """Whether temporary files go to git's directory: a rename from there into `root`
    stays on one file system."""
    return git_dir is not None and git_dir.stat().st_dev == root.stat().st_dev


def _staging_folder(root: Path, git_dir: Path | None, token: str) -> Path | None:
    """A fresh folder for the temporary files in git's directory, or None (beside their
    targets)."""
    if git_dir is None or not _stages_in_git(root, git_dir):
        return None
    folder = git_dir / STAGING_DIR / token
    folder.mkdir(parents=True)
    return folder


def publish_files(
    root: Path,
    changes: Mapping[str, bytes | None],
    *,
    git_dir: Path | None = None,
    final: bool = True,
) -> None:
    """Write (bytes) or delete (None) the files at `changes`' paths below `root`, all of
    them or none; call with the repository lock held.

    With `final`, the files in place are the command's change: from then on SIGINT and
    SIGTERM are not obeyed (signals.mark_done). A commit's files written for its
    pre-commit hook are not final: an interruption still rolls them back.
    """
    root = root.resolve()
    token = secrets.token_hex(4)
    staged = _Staged(token, None)
    try:
        staged = _Staged(token, _staging_folder(root, git_dir, token))
        _stage(root, changes, staged)
    except BaseException:
        _discard(staged)
        raise
    plan = {"root": str(root), "place": staged.place, "remove": staged.remove}
    plan["prune"] = sorted(set(staged.prune), reverse=True)
    with shielded():
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PUBLISHER],
            input=json.dumps(plan).encode("utf-8"),
            capture_output=True,
            timeout=PUBLISH_TIMEOUT_SECONDS,
            start_new_session=True,
            pass_fds=inherited_fds(),
            check=False,
        )
        if final and done.returncode == 0:
            mark_done()
    _discard(staged)
    if done.returncode != 0:
        try:
            number, reason, filename = json.loads(done.stderr)
        except ValueError:
            raise OSError(f"publishing the files failed: {done.stderr.decode()[-200:]}") from None
        raise OSError(number, reason, filename)


def remove_leftovers(root: Path, git_dir: Path | None) -> list[Path]:
    """Delete the temporary files and folders a killed `publish_files` left in `git_dir`
    or below `root` (only a holder of the repository lock writes them); returns those
    found."""
    import shutil

    found: list[Path] = []
    if git_dir is not None and (git_dir / STAGING_DIR).is_dir():
        found += sorted((git_dir / STAGING_DIR).iterdir())
    # Beside their targets only where git's directory could not take them: a walk of the
    # whole repository is not what every canary step should pay for.
    walked = () if _stages_in_git(root, git_dir) else os.walk(root)
    for folder, folders, files in walked:
        if ".git" in folders:
            folders.remove(".git")
        for name in [*folders, *files]:
            if _LEFTOVER.match(name):
                found.append(Path(folder, name))
        folders[:] = [name for name in folders if not _LEFTOVER.match(name)]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def free_bytes(path: Path) -> int:
    """Bytes the current user may still write on the file system of `path`."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def bytes_needed(path: Path, sizes: list[int]) -> int:
    """What writing files of `sizes` takes on the file system of `path`: each rounded up
    to whole blocks."""
    block = os.statvfs(path).f_frsize or 4096
    return sum(-(-size // block) * block for size in sizes)
