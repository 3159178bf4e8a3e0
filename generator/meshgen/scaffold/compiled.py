"""Templates compiled once and kept across runs, like Python's own bytecode.

Compiling Jinja templates is most of what rendering the repository template costs, and
`meshgen new`, `env add|remove` and `update` (which render it twice) render the same
template files every time. Jinja asks a bytecode cache for a template's compiled code
before compiling it; the cache here answers only for the exact source, Jinja, Python and
environment it was compiled for.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2.bccache import Bucket, BytecodeCache

from meshgen.scaffold.private_folder import PrivateFolder

# Settings an environment must have for its templates to be kept: Jinja's optimizer
# calls filters on constant arguments while compiling, so compiled code could hold a
# filter's result from a release that computed it differently. Without folding, what
# compiled code depends on is what the key names (see _settings).
ENVIRONMENT_SETTINGS: Mapping[str, Any] = {"optimized": False}


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates in `folder` (see PrivateFolder), one file per template.

    An entry is found by the template's name and file and the environment's compile-time
    settings, and used only when its header names the same source (its SHA-256), Jinja
    release and Python; anything else, an unreadable or damaged entry included, is
    compiled again and written anew. Writing is best effort: a read-only or full disk
    costs the time saved, never the command.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = PrivateFolder(folder)
        self.hits = 0
        self.misses = 0

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
        data = self.folder.read(_entry_name(bucket)) if not bucket.environment.optimized else None
        code = _code(data[len(header) :]) if data and data.startswith(header) else None
        if code is None:
            self.misses += 1
            return
        bucket.code = code
        self.hits += 1

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None and not bucket.environment.optimized:
            data = bucket.checksum.encode() + marshal.dumps(bucket.code)
            self.folder.write(_entry_name(bucket), data)


def _entry_name(bucket: Bucket) -> str:
    return f"{bucket.key}.code"


def _header(source: str) -> str:
    """What an entry must start with to be used for `source`."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return f"meshgen-template {jinja2.__version__} {sys.implementation.cache_tag} {digest}\n"


def _callable_identity(function: object) -> tuple[str, str, str]:
    """Which function a filter or test is, and what it is passed (compiled in)."""
    passes = getattr(function, "jinja_pass_arg", None)
    return (
        getattr(function, "__module__", "") or "",
        getattr(function, "__qualname__", type(function).__qualname__),
        str(passes),
    )


def _settings(environment: jinja2.Environment, name: str) -> str:
    """The environment's settings that change the code compiled for template `name`:
    syntax, whitespace handling, escaping, extensions (which may add tags), the filters
    and tests (whether each exists and what it is passed), finalize, async."""
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
            bool(escapes),
            environment.is_async,
            _callable_identity(environment.finalize) if environment.finalize else None,
            sorted(environment.extensions),
            sorted((k, _callable_identity(f)) for k, f in environment.filters.items()),
            sorted((k, _callable_identity(f)) for k, f in environment.tests.items()),
        )
    )


def _code(data: bytes) -> CodeType | None:
    try:
        # Entries come from a folder only the user writes (see PrivateFolder), as
        # Python's own bytecode does.
        code = marshal.loads(data)  # noqa: S302
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None
