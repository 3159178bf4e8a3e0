"""Surgical edits of an environment file: only the changed scalars and lines move.

`meshgen.environment_file` reads the file, and ruamel says where every key and value
sits; the edit itself is made in the original text at those positions. Dumping the whole
tree would re-indent a file that uses another indentation width or flow style, and a
canary step must stay a two-line diff. Every edit is re-parsed and compared with the
intended data before it is returned, so a surprising layout is refused instead of
silently rewritten.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar, cast

from meshgen import safefs, yamlio
from meshgen.environment_file import (
    TRAFFIC_KEY,
    VERSIONS_KEY,
    EnvironmentFile,
    is_whole_number,
)
from meshgen.errors import ConfigError
from meshgen.yamlio import to_plain

# A scalar token as it can appear as a weight: quoted, or plain up to a separator.
_SCALAR_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^\s,#}\]]+")
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*\Z")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_VERSION_NAME = re.compile(r"^[a-z][-a-z0-9]*\Z")
# Words YAML 1.1 (and so Helm) reads as booleans or null rather than text.
_YAML_NON_STRINGS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


_Edit = TypeVar("_Edit", bound=Callable[..., str])


def _layout_guard(edit: _Edit) -> _Edit:
    """Turn a layout the text edits do not expect (merge keys, odd nesting) into a refusal.

    The edits read positions that ruamel recorded; where a value has none (it comes from
    a merge key or an alias), there is nothing meshgen can change safely, and the file is
    left as it is.
    """

    @functools.wraps(edit)
    def guarded(self: EnvFile, *args: Any, **kwargs: Any) -> str:
        try:
            return edit(self, *args, **kwargs)
        except (TypeError, KeyError, IndexError, AttributeError):
            raise ConfigError(
                "meshgen could not edit this file's layout safely (merge keys or aliases "
                "under `versions:` or `traffic:`?); make the change by hand",
                path=self.path,
            ) from None

    return cast(_Edit, guarded)


@dataclass(frozen=True)
class EnvFile(EnvironmentFile):
    """An environment file a canary step edits: one with `versions:` and `traffic:` maps."""

    @classmethod
    def read(cls, path: Path) -> Self:
        # Canary steps edit this file: a link is refused before any step begins.
        safefs.check_writable(path)
        return super().read(path)

    @classmethod
    def parse(cls, text: str, path: Path) -> Self:
        env = super().parse(text, path)
        tree = env.tree
        if not isinstance(tree, Mapping):
            raise ConfigError("expected a mapping of chart values", path=path, line=1)
        for key in (VERSIONS_KEY, TRAFFIC_KEY):
            if not isinstance(tree.get(key), Mapping):
                raise ConfigError(
                    f"`{key}:` must be a mapping (see environments/schema.yaml)",
                    path=path,
                    line=yamlio.line_of(tree, key) or 1,
                )
        return env

    @property
    def raw_traffic(self) -> dict[str, object]:
        """The weights as written, possibly invalid (strings, floats...)."""
        return {str(k): v for k, v in to_plain(self.tree[TRAFFIC_KEY]).items()}

    def weights(self) -> dict[str, int]:
        """The weight of every version; a version without an entry has weight 0."""
        raw = self.raw_traffic
        weights: dict[str, int] = {}
        for name in self.version_names:
            value = raw.get(name, 0)
            if not is_whole_number(value):
                raise ConfigError(
                    f"weight of {name} is {value!r}, not a whole number; fix it first",
                    path=self.path,
                    line=self.weight_line(name),
                )
            weights[name] = value
        for name, value in raw.items():
            if name not in weights and isinstance(value, int):
                weights[name] = value
        return weights

    # -- edits: each returns the new text and leaves this object unchanged ---------------

    @_layout_guard
    def with_weights(self, weights: Mapping[str, int]) -> str:
        """Set these weights; versions without a `traffic:` entry get one appended."""
        traffic = self.tree[TRAFFIC_KEY]
        lines = self.text.splitlines(keepends=True)
        missing: list[str] = []
        positions: list[tuple[int, int, int]] = []
        for version, weight in weights.items():
            if version not in traffic:
                missing.append(version)
            elif not (traffic[version] == weight and type(traffic[version]) is int):
                position = traffic.lc.value(version)
                if position is None:
                    # The weight comes from elsewhere (a `<<:` merge key): no scalar of
                    # this mapping to change.
                    raise ConfigError(
                        f"the weight of {version} is not written under `traffic:` itself "
                        "(a merge key?); meshgen could not edit this file's layout safely; "
                        "make the change by hand",
                        path=self.path,
                        line=yamlio.line_of(self.tree, TRAFFIC_KEY),
                    )
                line, column = position
                positions.append((line, column, weight))
        # Right to left, so that an edit never moves the columns of those still to make
        # (a flow-style mapping holds several weights on one line).
        for line, column, weight in sorted(positions, reverse=True):
            lines[line] = _replace_token(lines[line], column, str(weight), self.path, line + 1)
        text = "".join(lines)
        if missing:
            entries = [f"{version}: {weights[version]}" for version in missing]
            text = _append_entries(EnvFile.parse(text, self.path), TRAFFIC_KEY, entries)
        expected = to_plain(self.tree)
        expected[TRAFFIC_KEY].update(weights)
        return self._checked(text, expected)

    @_layout_guard
    def with_version(self, name: str, repository: str, tag: str, replicas: int | None) -> str:
        """Add a version under `versions:` and give it weight 0 under `traffic:`."""
        if not _DNS_LABEL.match(name):
            raise ConfigError(f"version name {name!r} must be a DNS label such as v3")
        if not _VERSION_NAME.match(name) or name in _YAML_NON_STRINGS:
            # Helm reads `3:` as a number and `on:` as a boolean: the key would not name
            # the version the chart and its subsets expect.
            raise ConfigError(
                f"version name {name!r} would not read as text in YAML; start it with a "
                "letter and avoid yes/no/on/off/y/n, e.g. v3"
            )
        if name in self.tree[VERSIONS_KEY]:
            raise ConfigError(
                f"version {name} already exists", path=self.path, line=self.version_line(name)
            )
        step = _child_indent_step(self.tree[VERSIONS_KEY])
        block = [
            f"{name}:",
            f"{step}image:",
            f"{step}{step}repository: {_scalar(repository)}",
            # Always quoted: a tag such as 1.10 would otherwise become a number.
            f"{step}{step}tag: {json.dumps(tag)}",
        ]
        if replicas is not None:
            block.append(f"{step}replicas: {replicas}")
        text = _append_entries(self, VERSIONS_KEY, block)
        text = _append_entries(EnvFile.parse(text, self.path), TRAFFIC_KEY, [f"{name}: 0"])
        expected = to_plain(self.tree)
        entry: dict[str, Any] = {"image": {"repository": repository, "tag": tag}}
        if replicas is not None:
            entry["replicas"] = replicas
        expected[VERSIONS_KEY][name] = entry
        expected[TRAFFIC_KEY][name] = 0
        return self._checked(text, expected)

    @_layout_guard
    def without_version(self, name: str) -> str:
        """Remove a version's block under `versions:` and its line under `traffic:`."""
        text = self.text
        current = self
        if name in current.tree[TRAFFIC_KEY]:
            text = _remove_entry(current, TRAFFIC_KEY, name)
            current = EnvFile.parse(text, self.path)
        text = _remove_entry(current, VERSIONS_KEY, name)
        expected = to_plain(self.tree)
        expected[VERSIONS_KEY].pop(name, None)
        expected[TRAFFIC_KEY].pop(name, None)
        return self._checked(text, expected)

    def _checked(self, text: str, expected: Mapping[str, Any]) -> str:
        edited = EnvFile.parse(text, self.path)
        if to_plain(edited.tree) != expected:
            raise ConfigError(
                "meshgen could not edit this file's layout safely; make the change by hand",
                path=self.path,
            )
        return text


def _replace_token(line: str, column: int, new: str, path: Path, number: int) -> str:
    match = _SCALAR_TOKEN.match(line, column)
    if match is None:
        raise ConfigError(
            "cannot find the weight's value on this line; write it as a plain number",
            path=path,
            line=number,
        )
    return line[: match.start()] + new + line[match.end() :]


def _scalar(value: str) -> str:
    return value if _PLAIN_SAFE.match(value) else json.dumps(value)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_mapping(env: EnvFile, key: str) -> Any:
    node = env.tree[key]
    if node.fa.flow_style() or not node:
        raise ConfigError(
            f"`{key}:` is written in flow style ({{...}}); write it as an indented block "
            "so that meshgen can add or remove entries",
            path=env.path,
            line=yamlio.line_of(env.tree, key),
        )
    return node


def _child_indent_step(versions: Any) -> str:
    """The indentation one level below a version key, as the file writes it."""
    for name in versions:
        entry: Any = versions[name]
        if isinstance(entry, yamlio.CommentedMap) and entry and not entry.fa.flow_style():
            first = next(iter(entry))
            width = int(entry.lc.key(first)[1]) - int(versions.lc.key(name)[1])
            if width > 0:
                return " " * width
    return "  "


def _last_content_line(lines: list[str], start: int, parent_column: int) -> int:
    """Index of the last content line of the block that starts after line `start`."""
    last = start
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not _is_content(line):
            continue
        if _indent(line) <= parent_column:
            break
        last = index
    return last


def _append_entries(env: EnvFile, key: str, entries: list[str]) -> str:
    """Append lines (relative indentation kept) after the last entry of mapping `key`."""
    node = _block_mapping(env, key)
    lines = env.text.splitlines(keepends=True)
    newline = _newline(env.text)
    key_line, key_column = env.tree.lc.key(key)
    first_child = next(iter(node))
    indent = " " * node.lc.key(first_child)[1]
    last = _last_content_line(lines, key_line, key_column)
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    insert = [f"{indent}{entry}{newline}" for entry in entries]
    return "".join(lines[: last + 1] + insert + lines[last + 1 :])


def _remove_entry(env: EnvFile, key: str, name: str) -> str:
    """Remove entry `name` of mapping `key`: its key line through its last content line."""
    node = _block_mapping(env, key)
    lines = env.text.splitlines(keepends=True)
    line, column = node.lc.key(name)
    if len(node) == 1:
        raise ConfigError(
            f"{name} is the only entry under `{key}:`; add another version first",
            path=env.path,
            line=line + 1,
        )
    last = _last_content_line(lines, line, column)
    return "".join(lines[:line] + lines[last + 1 :])
