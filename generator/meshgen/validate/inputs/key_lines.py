"""Lines of keys in a static file, for findings about one key of a document."""

from __future__ import annotations

from pathlib import Path

import yaml

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.validate.findings import STDIN_NAME

# libyaml where available: composing a document of a large file in pure Python costs
# milliseconds, once per Application that creates its namespace.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KeyLines:
    """Lines of keys in a static file, found only when a credential was found in it.

    Static files are parsed without line numbers (fast, and nearly always clean), so the
    document holding a suspect is composed again, from its first line, to point at the key.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._text: str | None = None

    def line(self, first_line: int, key_path: tuple[str | int, ...]) -> int:
        text = self._read()
        if text is None:
            return first_line
        rest = "".join(text.splitlines(keepends=True)[first_line - 1 :])
        try:
            node = next(yaml.compose_all(rest, Loader=_LOADER), None)
        except (yaml.YAMLError, RecursionError):
            return first_line
        line = first_line
        for part in key_path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            line = first_line + key_node.start_mark.line
        return line

    def _read(self) -> str | None:
        if self._text is None and self.path != Path(STDIN_NAME):
            try:
                self._text = yamlio.read_text(self.path)
            except ConfigError:
                return None
        return self._text


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
