"""A folder of files only the user can have written, read and written without races.

Compiled templates are code that runs when loaded: an entry must come from the user, as
Python's own bytecode does. Every access opens the folder without following a link and
checks the open folder (a real folder, the user's, writable by no one else), then opens
the entry relative to it, again without following a link, and checks the open file the
same way; so a folder or an entry swapped after a check is never read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

# Written by a run that was killed before renaming it into place.
TEMPORARY_PREFIX = ".tmp-"
_STALE_TEMPORARY_SECONDS = 3600
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _only_the_user_writes(info: os.stat_result) -> bool:
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class PrivateFolder:
    """`folder`, created (mode 0700) on first use; unusable when it is not private."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._opened = False

    @contextlib.contextmanager
    def _open(self) -> Iterator[int | None]:
        """The folder's descriptor, or None when it cannot be used."""
        try:
            if not self._opened:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.folder, _FOLDER_FLAGS)
        except OSError:
            yield None
            return
        try:
            if not _only_the_user_writes(os.fstat(descriptor)):
                yield None
                return
            if not self._opened:
                self._opened = True
                _remove_stale_temporaries(descriptor)
            yield descriptor
        finally:
            os.close(descriptor)

    def read(self, name: str) -> bytes | None:
        """The bytes of entry `name`: a regular file of the user's that only the user
        can write; None otherwise (absent, a link, someone else's)."""
        with self._open() as folder:
            if folder is None:
                return None
            try:
                entry = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
            except OSError:
                return None
            with os.fdopen(entry, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode) or not _only_the_user_writes(info):
                    return None
                return stream.read()

    def write(self, name: str, data: bytes) -> None:
        """Entry `name` holds `data`, replaced in one rename; best effort (a read-only or
        full disk, or a folder that is not private, leaves the entry as it was)."""
        with self._open() as folder:
            if folder is None:
                return
            scratch = f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                with os.fdopen(os.open(scratch, flags, 0o600, dir_fd=folder), "wb") as stream:
                    stream.write(data)
                os.replace(scratch, name, src_dir_fd=folder, dst_dir_fd=folder)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(scratch, dir_fd=folder)


def _remove_stale_temporaries(folder: int) -> None:
    """Remove what writes killed before their rename left, an hour on."""
    stale_before = time.time() - _STALE_TEMPORARY_SECONDS
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(TEMPORARY_PREFIX):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < stale_before:
                        os.unlink(entry.name, dir_fd=folder)
