"""Lines of keys in YAML documents that were parsed without positions.

Rendered manifests and static files are parsed with PyYAML's C loader, which keeps no
lines; a finding that needs the line of one key composes only the document that holds
it again, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from meshgen import yamlio


class DocumentLines:
    """Lines of keys in the documents of one YAML text, for data parsed without lines.

    Plain parsing (split_documents) keeps no positions; when a finding needs the line of
    one key, only the document holding it is composed again (in C where available), once.
    """

    def __init__(self, text: str) -> None:
        # Lines end at "\n" only, as split_documents counts them (not at "\x85" or
        # "\u2028", which str.splitlines also breaks on).
        self._lines = text.split("\n")
        self._separators = [
            index for index, line in enumerate(self._lines) if yamlio.DOCUMENT_SEPARATOR.match(line)
        ]
        self._nodes: dict[int, yaml.Node | None] = {}

    def line(self, first_line: int, key_path: Sequence[str | int]) -> int:
        """1-based line of the deepest key of `key_path` found in the document whose
        content starts on `first_line` (that line when none is found)."""
        node = self._node(first_line)
        line = first_line
        for part in key_path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            line = first_line + key_node.start_mark.line
        return line

    def _node(self, first_line: int) -> yaml.Node | None:
        if first_line not in self._nodes:
            start = first_line - 1
            end = next((i for i in self._separators if i >= start), len(self._lines))
            try:
                node = yaml.compose(
                    "\n".join(self._lines[start:end]), Loader=yamlio.FAST_SAFE_LOADER
                )
            except (yaml.YAMLError, RecursionError):
                node = None
            self._nodes[first_line] = node
        return self._nodes[first_line]


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node to point at, the node to descend into) for one step of a key path."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item
    return None


class _NeedsRoundTrip(Exception):
    """The text uses what only the round-trip reader answers as meshgen always has."""


def loads_with_lines(text: str, path: Path) -> Any:
    """Parse one YAML document to read, not edit: ruamel's tree types with every key's
    line, built from PyYAML's C composer (several times faster, no comments kept).

    What the two readers could answer differently goes to `yamlio.loads_roundtrip`, so
    errors, values and lines stay the round-trip reader's: invalid YAML; tabs, Unicode
    line breaks and byte-order marks; tags and directives (any `!` or `%`); comments
    after a block scalar's header; duplicate, complex and merge keys; empty values;
    aliases to a node that contains them; an unquoted word that ruamel's YAML 1.1
    resolves otherwise than PyYAML. tests/test_yaml_lines.py compares the two on every
    YAML file of the project.
    """
    if not yamlio.has_content(text):
        return None
    yamlio.check_line_count(text, path)
    if _ROUND_TRIP_ONLY.search(text):
        return yamlio.loads_roundtrip(text, path)
    try:
        node = yaml.compose(text, Loader=yamlio.FAST_SAFE_LOADER)
        data = _Builder().build(node) if node is not None else None
    # ValueError and its kin: a scalar PyYAML resolves but cannot construct (`0x_`).
    except (yaml.YAMLError, RecursionError, _NeedsRoundTrip, ValueError, OverflowError):
        return yamlio.loads_roundtrip(text, path)
    # Without an anchor (`&`) there can be no alias to expand.
    if "&" in text:
        yamlio.check_expansion(data, path)
    return data


def load_with_lines(path: Path) -> Any:
    """`loads_with_lines` of the file at `path`, read as every file people maintain."""
    return loads_with_lines(yamlio.read_text(path), path)


_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")
)


# Characters and forms on which the two readers are known to part (see loads_with_lines).
_ROUND_TRIP_ONLY = re.compile("[\t\x85\u2028\u2029\ufeff!%]|[|>][-+0-9]*#")


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == ""


class _Builder:
    def __init__(self) -> None:
        self._scalars = yaml.constructor.SafeConstructor()
        # An alias is the node it names: built once, shared, as ruamel shares it.
        self._built: dict[int, Any] = {}
        self._building: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        if id(node) in self._building:
            raise _NeedsRoundTrip  # an alias inside the node it names
        known = self._built.get(id(node))
        if known is not None:
            return known
        self._building.add(id(node))
        try:
            return self._build(node)
        finally:
            self._building.discard(id(node))

    def _build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            mapping = yamlio.CommentedMap()
            self._built[id(node)] = mapping
            mapping.lc.line, mapping.lc.col = node.start_mark.line, node.start_mark.column
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    raise _NeedsRoundTrip
                key = self._scalar(key_node)
                # ruamel places an empty value (`key:`) where the next token starts.
                if key in mapping or _is_empty(value_node):
                    raise _NeedsRoundTrip
                mapping[key] = self.build(value_node)
                start, value_start = key_node.start_mark, value_node.start_mark
                mapping.lc.add_kv_line_col(
                    key, [start.line, start.column, value_start.line, value_start.column]
                )
            return mapping
        if isinstance(node, yaml.SequenceNode):
            sequence = yamlio.CommentedSeq()
            self._built[id(node)] = sequence
            sequence.lc.line, sequence.lc.col = node.start_mark.line, node.start_mark.column
            for index, item in enumerate(node.value):
                sequence.append(self.build(item))
                sequence.lc.add_kv_line_col(index, [item.start_mark.line, item.start_mark.column])
            return sequence
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            raise _NeedsRoundTrip
        if not node.style and yamlio.yaml11_plain_tag(node.value) != node.tag:
            raise _NeedsRoundTrip
        return self._scalars.construct_object(node)
