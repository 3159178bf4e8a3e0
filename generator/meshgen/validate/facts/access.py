"""Reading hand-written objects defensively: one set of helpers for maps, lists, text.

A file a person edits may hold anything where a map is expected; these return an empty
value instead of failing, so a rule reports what it can.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshgen.render import Manifest


def as_map(value: Any) -> Mapping[str, Any]:
    # Parsed YAML and JSON are plain dicts: the exact type check spares the ABC check,
    # which rules make tens of thousands of times a run.
    if type(value) is dict or isinstance(value, Mapping):
        return value
    return {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if type(value) is not dict:
            value = as_map(value)
        value = value.get(key)
    return value


def is_kind(manifest: Manifest, group: str, kind: str) -> bool:
    return manifest.kind == kind and manifest.api_version.startswith(f"{group}/")


def spec(manifest: Manifest) -> Mapping[str, Any]:
    return as_map(manifest.data.get("spec"))


def labels_of(data: Any) -> dict[str, str]:
    """An object's `metadata.labels`, as strings."""
    return str_map(dig(data, "metadata", "labels"))


def str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_map(value).items()}
