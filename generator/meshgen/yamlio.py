"""Every YAML read and write in meshgen goes through here.

Files people edit (meshgen.yaml, environment files) are read with ruamel.yaml in
round-trip mode, so an edit keeps comments, quoting, key order and indentation, and
every node knows its line. Rendered manifests, which nobody edits and which can be
large, are parsed with PyYAML's C loader for speed.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLWarning
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarbool import ScalarBoolean

from meshgen import safefs
from meshgen.errors import ConfigError

__all__ = [
    "CommentedMap",
    "CommentedSeq",
    "Document",
    "atomic_write_text",
    "dump_roundtrip",
    "line_of",
    "load_roundtrip",
    "loads_roundtrip",
    "split_documents",
    "to_plain",
]

MAX_FILE_BYTES = safefs.MAX_FILE_BYTES
# Aliases let a few lines of YAML stand for billions of nodes ("billion laughs"); every
# consumer (schemas, Helm, JSON) walks the expanded tree, so the expansion is bounded.
MAX_EXPANDED_NODES = 250_000
# A hand-maintained file this long is an artefact, not configuration (see loads_roundtrip).
MAX_ROUNDTRIP_LINES = 50_000
# The start of a line that holds more than blanks or a comment.
_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)

# ruamel warns (on stderr, over a dozen lines) about a float without a dot in YAML 1.1
# or a reused anchor; the value it reads is the one Helm reads, and the error output
# of a command stays one line.
warnings.filterwarnings("ignore", category=YAMLWarning)

_YAML11_RESOLVER = VersionedResolver(version=(1, 1))

FAST_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(FAST_SAFE_LOADER):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader (C-accelerated where available), refusing duplicate keys.

    PyYAML keeps the last of two equal keys without a word; the API server and kubectl
    refuse such a manifest, so meshgen does too, with the line.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            # Merge keys (`<<`) are meant to be overridden; only scalar keys can clash.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key_node.value!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


# `\r?` so that files with Windows line endings (a checkout with core.autocrlf) split too.
DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)


def _roundtrip() -> YAML:
    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    # Keep long scalars on one line: folding them would turn a one-value edit into a
    # multi-line diff.
    handler.width = 4096
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def read_text(path: Path) -> str:
    """Read a UTF-8 text file that a person maintains: confined, regular, bounded."""
    return safefs.read_text(path)


def loads_roundtrip(text: str, path: Path) -> Any:
    """Parse one YAML document, keeping comments and positions; `path` names it in errors."""
    # ruamel's round-trip scanner costs tens of microseconds a line even for a comment:
    # a file of nothing but comments is empty at once, and the line count is bounded so
    # a 4 MiB file of `#` lines cannot take minutes.
    if not has_content(text):
        return None
    check_line_count(text, path)
    try:
        loader = _roundtrip()
        # Read values as Helm does (YAML 1.1: `on`, `no`, `yes` are booleans), so that
        # what meshgen validates and renders is what Argo CD and Flux will apply.
        loader.version = (1, 1)
        data = loader.load(text)
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", path=path) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", path=path, line=line) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None
    except (ValueError, OverflowError) as exc:
        # A scalar that resolves as a number but is none (`0x_`).
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None
    # Without an anchor (`&`) there can be no alias to expand.
    if "&" in text:
        check_expansion(data, path)
    return data


def yaml11_plain_tag(value: str) -> str:
    """The tag ruamel's YAML 1.1 gives `value` written unquoted (as the round-trip reader
    of files people maintain reads it)."""
    return str(_YAML11_RESOLVER.resolve(ScalarNode, value, (True, False)))


def has_content(text: str) -> bool:
    """Whether `text` holds more than blank lines and comments."""
    return _CONTENT_LINE.search(text) is not None


def check_line_count(text: str, path: Path) -> None:
    """Refuse a file people maintain that is longer than any such file should be."""
    lines = text.count("\n")
    if lines > MAX_ROUNDTRIP_LINES:
        raise ConfigError(
            f"{lines} lines, more than the {MAX_ROUNDTRIP_LINES} meshgen reads in a file "
            "people maintain; remove the padding or split the file",
            path=path,
        )


def check_expansion(data: Any, path: Path, line: int | None = None) -> None:
    """Refuse a tree whose aliases expand past MAX_EXPANDED_NODES or refer to themselves.

    The walk counts nodes as consumers will see them (a shared node once per reference),
    and stops as soon as the budget is spent, so it costs at most the budget.
    """
    budget = MAX_EXPANDED_NODES
    # Each entry: a node and the ids of the containers above it (to spot cycles).
    stack: list[tuple[Any, frozenset[int]]] = [(data, frozenset())]
    while stack:
        node, ancestors = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigError(
                f"refused: aliases expand to more than {MAX_EXPANDED_NODES} nodes "
                "(an alias bomb?); write the values out or use fewer aliases",
                path=path,
                line=line,
            )
        if isinstance(node, dict | list):
            if id(node) in ancestors:
                raise ConfigError(
                    "refused: an alias refers to a node that contains it (recursive YAML)",
                    path=path,
                    line=line,
                )
            inner = ancestors | {id(node)}
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, inner) for child in children)


def load_roundtrip(path: Path) -> Any:
    """Read and parse a YAML file that a person maintains."""
    return loads_roundtrip(read_text(path), path)


def dumps_roundtrip(data: Any) -> str:
    stream = io.StringIO()
    _roundtrip().dump(data, stream)
    return stream.getvalue()


def dump_roundtrip(data: Any, path: Path) -> None:
    """Write `data` back to `path` atomically, keeping the file's permissions."""
    atomic_write_text(path, dumps_roundtrip(data))


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old or the new file, never half.

    The temporary file lives in the same folder, so the final rename stays on one file
    system and is atomic; the original's permission bits are carried over.
    """
    path = safefs.check_writable(path)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            tmp.chmod(mode)
        else:
            tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def is_boolean(value: object) -> bool:
    """A YAML boolean: Python's, or ruamel's ScalarBoolean (an anchored one, an int)."""
    return isinstance(value, bool | ScalarBoolean)


STR_TAG = "tag:yaml.org,2002:str"


def _tag_of(node: Any) -> str | None:
    """The explicit tag of a round-trip scalar ruamel keeps as a TaggedScalar, else None."""
    if not isinstance(node, TaggedScalar):
        return None
    tag = node.tag
    return str(getattr(tag, "value", tag))


def to_plain(node: Any) -> Any:
    """A round-trip YAML tree as plain dicts, lists and scalars (what Helm expects)."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item) for item in node]
    return _plain_scalar(node)


def _plain_scalar(node: Any) -> Any:
    if node is None or isinstance(node, bool):
        return node
    if is_boolean(node):  # an anchored boolean is ruamel's ScalarBoolean, an int
        return bool(node)
    if _tag_of(node) == STR_TAG:  # `!!str 123`: ruamel keeps the tag, the value is text
        return str(node.value)
    # ruamel's scalar subclasses (quoted strings, formatted numbers) become builtins.
    for builtin in (int, float, str):
        if isinstance(node, builtin):
            return builtin(node)
    return node


def line_of(node: Any, key: Any = None) -> int | None:
    """1-based line of `node` (or of `key` inside a mapping `node`), if ruamel recorded it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    if key is None:
        return int(lc.line) + 1
    try:
        if isinstance(node, CommentedMap):
            return int(lc.key(key)[0]) + 1
        if isinstance(node, CommentedSeq):
            return int(lc.item(key)[0]) + 1
    except (KeyError, IndexError, TypeError):
        return None
    return None


def line_of_path(tree: Any, key_path: Sequence[Any]) -> int:
    """1-based line of the deepest node along `key_path` that ruamel recorded in `tree`.

    Keys that are digits index sequences, so dotted paths as validators report them
    (`versions.v1.replicas`, `items.0.name`) can be passed split on dots.
    """
    node = tree
    line = line_of(tree) or 1
    for part in key_path:
        key: Any = int(part) if isinstance(node, list) and str(part).isdigit() else part
        found = line_of(node, key)
        if found is None:
            break
        line = found
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return line


@dataclass(frozen=True)
class Document:
    """One YAML document of a multi-document stream, with where it started."""

    source: str
    line: int
    data: Any


def split_documents(text: str, source: str, first_line: int = 1) -> Iterator[Document]:
    """Parse a multi-document manifest stream quickly; empty documents are skipped.

    Raises `ConfigError` naming `source` and the line when a document is not YAML.
    """
    line = first_line
    position = 0
    chunks: list[tuple[int, str]] = []
    for match in DOCUMENT_SEPARATOR.finditer(text):
        chunk = text[position : match.start()]
        chunks.append((line, chunk))
        line += chunk.count("\n") + 1
        position = match.end() + 1
    chunks.append((line, text[position:]))
    for start, chunk in chunks:
        if not chunk.strip():
            continue
        try:
            data = yaml.load(chunk, Loader=_SafeLoader)  # noqa: S506 - a safe loader
        except RecursionError:
            raise ConfigError(
                "invalid YAML: nested too deeply", path=Path(source), line=start
            ) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            at = start + mark.line if mark is not None else start
            raise ConfigError(f"invalid YAML: {exc.problem}", path=Path(source), line=at) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", path=Path(source), line=start) from None
        if data is None:
            continue
        # Without an anchor (`&`) there can be no alias to expand.
        if "&" in chunk:
            check_expansion(data, Path(source), start)
        yield Document(
            source=source, line=start + _leading_blank_or_comment_lines(chunk), data=data
        )


def _leading_blank_or_comment_lines(chunk: str) -> int:
    count = 0
    for raw in chunk.splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            break
        count += 1
    return count


def dump_manifest(data: Any) -> str:
    """Serialise a plain object as block-style YAML, keys in the given order."""
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096))
