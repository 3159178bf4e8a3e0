"""Lines of keys in YAML documents that were parsed without positions.

Rendered manifests and static files are parsed with PyYAML's C loader, which keeps no
lines; a finding that needs the line of one key composes only the document that holds
it again, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from meshgen import yamlio


class DocumentLines:
    """Lines of keys in the documents of one YAML text, for data parsed without lines.

    Plain parsing (split_documents) keeps no positions; when a finding needs the line of
    one key, only the document holding it is composed again (in C where available), once.
    """

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)
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
                node = yaml.compose("".join(self._lines[start:end]), Loader=yamlio.FAST_SAFE_LOADER)
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
