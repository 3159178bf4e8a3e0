"""Templates compiled once and kept across runs, like Python's own bytecode.

Compiling Jinja templates is most of what rendering the repository template costs, and
`meshgen new`, `env add|remove` and `update` (which render it twice) render the same
template files every time. Jinja asks a bytecode cache for a template's compiled code
before compiling it; the cache here answers only for the exact source, Jinja and Python
it was compiled for.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
from pathlib import Path
from types import CodeType

import jinja2
from jinja2.bccache import Bucket, BytecodeCache


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates in `folder`, one file per template.

    An entry is found by the template's name, file and the environment's compile-time
    settings, and used only when its header names the same source (its SHA-256), Jinja
    release and Python; anything else, an unreadable or damaged entry included, is
    compiled again and written anew. Writing is best effort: a read-only or full disk
    costs the time saved, never the command. Compiled code runs when loaded, so entries
    are used only from a folder that no one but the user can write.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self._trusted: bool | None = None

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = hashlib.sha256(
            "\0".join((name, filename or "", _settings(environment, name))).encode()
        ).hexdigest()
        bucket = Bucket(environment, key, _header(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        header = bucket.checksum.encode()
        try:
            data = self._path(bucket).read_bytes() if self._usable() else b""
        except OSError:
            data = b""
        code = _code(data[len(header) :]) if data.startswith(header) else None
        if code is None:
            self.misses += 1
            return
        bucket.code = code
        self.hits += 1

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        data = bucket.checksum.encode() + marshal.dumps(bucket.code)
        try:
            if not self._usable():
                return
            descriptor, scratch = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(descriptor, "wb") as stream:
                    stream.write(data)
                Path(scratch).replace(self._path(bucket))
            except BaseException:
                Path(scratch).unlink(missing_ok=True)
                raise
        except OSError:
            return

    def clear(self) -> None:
        for entry in self.folder.glob("*.code"):
            entry.unlink(missing_ok=True)

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.code"

    def _usable(self) -> bool:
        """The folder exists (created private if not), is a real folder of the user's,
        and only the user can write to it; asked once."""
        if self._trusted is None:
            try:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                info = self.folder.lstat()
            except OSError:
                self._trusted = False
            else:
                self._trusted = (
                    stat.S_ISDIR(info.st_mode)
                    and info.st_uid == os.getuid()
                    and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
                )
        return self._trusted


def _header(source: str) -> str:
    """What an entry must start with to be used for `source`."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return f"meshgen-template {jinja2.__version__} {sys.implementation.cache_tag} {digest}\n"


def _settings(environment: jinja2.Environment, name: str) -> str:
    """The environment's settings that change the code compiled for template `name`:
    syntax, whitespace handling, escaping, extensions (which may add tags), optimisation."""
    autoescape = environment.autoescape
    escapes = autoescape(name) if callable(autoescape) else autoescape
    return repr(
        (
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            bool(escapes),
            sorted(environment.extensions),
        )
    )


def _code(data: bytes) -> CodeType | None:
    try:
        # The folder is the user's alone (see _usable), as Python's own bytecode is.
        code = marshal.loads(data)  # noqa: S302
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None
