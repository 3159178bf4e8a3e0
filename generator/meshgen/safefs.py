"""Confined, bounded file access: the only way meshgen reads or replaces a file.

A repository comes from pull requests that others write, so a file in it may be a
symbolic link to `/etc/passwd`, a FIFO that never ends, or a device such as
`/dev/zero`. Every read here therefore (1) resolves the path and refuses it when it
leaves the repository that holds it, (2) opens it without blocking and refuses anything
but a regular file, and (3) checks the size before reading and never reads past the
limit. Errors name the path, never what the file holds.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from meshgen.errors import ConfigError

# A file larger than this is not something a person maintains by hand; refusing it
# keeps a stray artefact from stalling validation.
MAX_FILE_BYTES = 4 * 1024 * 1024
# Folders that mark the top of a repository: meshgen's manifest or git's folder.
_MARKERS = ("meshgen.yaml", ".git")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def enclosing_root(path: Path) -> Path | None:
    """The repository that holds `path` as written: the nearest folder above it with a
    `meshgen.yaml` or `.git`, not counting folders reached through a symbolic link.

    The walk is lexical (`..` is folded, links are not followed), so a linked folder that
    points at another repository can never stand in for the one the path is in.
    """
    # Fold `..` without following links (`Path.resolve` would follow them). Plain
    # strings, not Paths: every file meshgen reads walks up here.
    folder = os.path.dirname(os.path.abspath(path))  # noqa: PTH100, PTH120
    found: str | None = None
    while True:
        if os.path.islink(folder):  # noqa: PTH114
            # Whatever was found at or below a link lies outside this repository.
            found = None
        elif found is None and any(
            os.path.lexists(os.path.join(folder, marker))  # noqa: PTH118
            for marker in _MARKERS
        ):
            found = folder
        parent = os.path.dirname(folder)  # noqa: PTH120
        if parent == folder:
            return Path(found) if found is not None else None
        folder = parent


def confine(path: Path, root: Path | None = None) -> Path:
    """`path` resolved, refused if it leads out of `root` (default: its enclosing repository).

    A path with no enclosing repository (a file given on the command line from
    elsewhere) is resolved but not confined.
    """
    root = root if root is not None else enclosing_root(path)
    resolved = Path(os.path.realpath(path))
    if root is None:
        return resolved
    top = Path(os.path.realpath(root))
    if resolved != top and top not in resolved.parents:
        link = "is a symbolic link" if path.is_symlink() else "goes through a symbolic link"
        raise ConfigError(
            f"refused: {link} that leads out of the repository; "
            "keep the file itself in the repository",
            path=path,
        )
    return resolved


def _kind(mode: int) -> str | None:
    for test, name in _KINDS:
        if test(mode):
            return name
    return None


def _check_regular(info: os.stat_result, limit: int, path: Path) -> None:
    kind = _kind(info.st_mode)
    if kind is not None:
        raise ConfigError(f"refused: is {kind}, expected a regular file", path=path)
    if info.st_size > limit:
        raise ConfigError(
            f"file is {info.st_size} bytes, larger than the {limit} bytes meshgen reads",
            path=path,
        )


def read_bytes(path: Path, *, limit: int = MAX_FILE_BYTES, root: Path | None = None) -> bytes:
    """The bytes of the regular file `path`, confined to its repository and at most `limit`."""
    resolved = confine(path, root)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the path was
        # just resolved, so a link appearing now is a race and is refused.
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a file", path=path) from None
    except PermissionError:
        raise ConfigError("permission denied", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot open: {exc.strerror}", path=path) from None
    with os.fdopen(fd, "rb") as handle:
        _check_regular(os.fstat(handle.fileno()), limit, path)
        # Read one byte past the limit: a file that grows meanwhile is still refused.
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(f"file is larger than the {limit} bytes meshgen reads", path=path)
    return data


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES, root: Path | None = None) -> str:
    """A UTF-8 text file, read as `read_bytes` does; binary content is refused."""
    return _decode(read_bytes(path, limit=limit, root=root), path)


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data:
        raise ConfigError("binary file, expected UTF-8 text", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError("not valid UTF-8; save the file as UTF-8", path=path, line=line) from None


def read_stream(stream: IO[str], name: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """At most `limit` bytes of `stream` (standard input), as UTF-8 text as read_text
    reads a file; more is refused."""
    raw = getattr(stream, "buffer", None)
    data = (
        raw.read(limit + 1)
        if raw is not None
        else stream.read(limit + 1).encode("utf-8", "surrogatepass")
    )
    if len(data) > limit:
        raise ConfigError(f"more than the {limit} bytes meshgen reads", path=Path(name))
    return _decode(data, Path(name))


def check_writable(path: Path, root: Path | None = None) -> Path:
    """The path a replacement of `path` is written to, refused if it is not a plain file.

    A symbolic link is never written through (it could lead anywhere, and replacing it
    would change what git tracks), and a FIFO or device is never replaced.
    """
    if path.is_symlink():
        raise ConfigError(
            "refused: is a symbolic link; meshgen edits only regular files "
            "(replace the link with the file itself)",
            path=path,
        )
    resolved = confine(path, root)
    try:
        mode = os.lstat(resolved).st_mode
    except FileNotFoundError:
        return resolved
    kind = _kind(mode)
    if kind is not None:
        raise ConfigError(f"refused: is {kind}, expected a regular file", path=path)
    return resolved


def check_tree(folder: Path, *, limit: int = MAX_FILE_BYTES, root: Path | None = None) -> None:
    """Refuse a folder that a tool will read whole (a Helm chart) if anything in it is a
    symbolic link, not a regular file, or larger than `limit`.

    The tool reads the files itself, past meshgen's reads: this is the only chance to
    keep `/dev/zero` as a chart's `values.yaml` from exhausting memory. Links are
    refused even inside the repository: Helm follows them and logs each one on stderr.
    """
    for directory, subfolders, names in os.walk(folder):
        for name in [*subfolders, *names]:
            path = Path(directory) / name
            confine(path, root)
            if path.is_symlink():
                raise ConfigError(
                    "refused: is a symbolic link; replace it with the file itself",
                    path=path,
                )
            try:
                info = path.stat()
            except OSError as exc:
                raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
            if not stat.S_ISDIR(info.st_mode):
                _check_regular(info, limit, path)
