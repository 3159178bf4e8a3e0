"""The one reader of environment files: `environments/<env>/<app>.yaml`, the chart's values.

Rendering, canary steps, guard rails, `meshgen diff`, validation and the day-2 commands
all read an environment file through `EnvironmentFile`, from the working tree (`read`)
or from text such as a file at a git commit (`parse`). Both are bounded like every read
of a file people maintain, and a file that cannot be read is a `ConfigError` naming the
file and, where YAML says, the line. What a weight is (a whole number, YAML's booleans
excluded) is said here too, so every reader counts the same weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeGuard

from meshgen import safefs, yaml_lines, yamlio
from meshgen.errors import ConfigError

VERSIONS_KEY = "versions"
TRAFFIC_KEY = "traffic"


def is_whole_number(value: object) -> TypeGuard[int]:
    """A whole number (YAML's true and false are not, though Python counts them as ints)."""
    return isinstance(value, int) and not yamlio.is_boolean(value)


def traffic_of(values: object) -> Mapping[str, object]:
    """The `traffic:` map of an environment file's values, as written ({} if none)."""
    traffic = values.get(TRAFFIC_KEY) if isinstance(values, Mapping) else None
    return traffic if isinstance(traffic, Mapping) else {}


def whole_weights(traffic: Mapping[str, object]) -> dict[str, int]:
    """The weights of a `traffic:` map that are whole numbers, by version; others left out."""
    return {str(name): int(weight) for name, weight in traffic.items() if is_whole_number(weight)}


@dataclass(frozen=True)
class Version:
    """One entry under `versions:`, as far as the canary commands need it."""

    name: str
    repository: str
    tag: str
    replicas: int | None


@dataclass(frozen=True)
class EnvironmentFile:
    """One environment file: its exact text and the round-trip tree parsed from it.

    `tree` is None for a file without content; it is whatever YAML holds otherwise, so
    that validation can report a file that is not a mapping as a finding. The tree is
    ruamel's: it keeps comments and knows the line of every key.
    """

    path: Path
    text: str
    tree: Any

    @classmethod
    def read(cls, path: Path) -> Self:
        """Read the file at `path`: confined to its repository, regular, bounded."""
        return cls.parse(yamlio.read_text(path), path)

    @classmethod
    def read_to_check(cls, path: Path) -> Self:
        """Read the file at `path` to check it, not to edit it: the same values and lines,
        no comments, several times faster (see `yaml_lines.loads_with_lines`)."""
        text = yamlio.read_text(path)
        return cls(path, text, yaml_lines.loads_with_lines(text, path))

    @classmethod
    def parse(cls, text: str, path: Path) -> Self:
        """Parse `text` (a file at a git commit, or an edit) as the file at `path`."""
        # Text from git is not read through safefs: bound it the same way.
        if len(text.encode("utf-8")) > safefs.MAX_FILE_BYTES:
            raise ConfigError(
                f"larger than the {safefs.MAX_FILE_BYTES} bytes meshgen reads in a file",
                path=path,
            )
        return cls(path, text, yamlio.loads_roundtrip(text, path))

    # -- the values --------------------------------------------------------------------

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.tree, Mapping)

    def values(self) -> dict[str, Any]:
        """The chart values as plain data (what Helm receives); {} for an empty file."""
        if self.tree is None:
            return {}
        if not isinstance(self.tree, Mapping):
            raise ConfigError("expected a mapping of chart values", path=self.path, line=1)
        return dict(yamlio.to_plain(self.tree))

    @property
    def traffic(self) -> Mapping[str, object]:
        """The `traffic:` map as written ({} if none), weights possibly invalid."""
        return traffic_of(self.tree)

    def whole_weights(self) -> dict[str, int]:
        """The weights that are whole numbers, by version; others are left out."""
        return whole_weights(self.traffic)

    @property
    def version_names(self) -> list[str]:
        versions = self.tree.get(VERSIONS_KEY) if self.is_mapping else None
        return [str(name) for name in versions] if isinstance(versions, Mapping) else []

    def version(self, name: str) -> Version:
        versions = self.tree.get(VERSIONS_KEY) if self.is_mapping else None
        entry = versions.get(name) if isinstance(versions, Mapping) else None
        entry = entry if isinstance(entry, Mapping) else {}
        image = entry.get("image")
        image = image if isinstance(image, Mapping) else {}
        replicas = entry.get("replicas")
        return Version(
            name=name,
            repository=str(image.get("repository", "")),
            tag=str(image.get("tag", "")),
            replicas=int(replicas) if is_whole_number(replicas) else None,
        )

    def image_tags(self) -> dict[str, str]:
        """The image tag of every version that is written as a mapping, by version."""
        versions = self.tree.get(VERSIONS_KEY) if self.is_mapping else None
        return {
            str(name): str((entry.get("image") or {}).get("tag", ""))
            for name, entry in (versions.items() if isinstance(versions, Mapping) else ())
            if isinstance(entry, Mapping)
        }

    # -- where things are written --------------------------------------------------------

    def key_line(self, key: str) -> int | None:
        """1-based line of a top-level key, if the file has it."""
        return yamlio.line_of(self.tree, key) if self.is_mapping else None

    def weight_line(self, version: str) -> int | None:
        """The line of a version's weight, else of `traffic:` itself."""
        return yamlio.line_of(self.traffic, version) or self.key_line(TRAFFIC_KEY)

    def version_line(self, version: str) -> int | None:
        """The line of a version under `versions:`, else of `versions:` itself."""
        versions = self.tree.get(VERSIONS_KEY) if self.is_mapping else None
        return yamlio.line_of(versions, version) or self.key_line(VERSIONS_KEY)
