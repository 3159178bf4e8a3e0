"""A release's Helm values against what its pinned chart accepts.

Helm merges the chart's values.yaml with the user's values files (later files win, maps
merge key by key, `null` deletes a key) and, when the chart ships a values.schema.json,
refuses the install if the merged values do not match it. Charts without a schema
silently ignore keys they do not know, so there a misspelt key (`meshConfg:`) is a
setting lost without a word: it is compared with the keys the chart's values.yaml
declares and its templates read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgen import yamlio

# Istio's charts keep their defaults under this key and lift them to the top level in
# their templates; users set the same keys at the top level.
ISTIO_DEFAULTS_KEY = "_internal_defaults_do_not_set"
# The istiod chart copies everything under `pilot:` to the top level.
ISTIOD_ALIAS_KEY = "pilot"


@dataclass(frozen=True)
class ValuesSource:
    """One values file (or inline values) of a release, in Helm's order."""

    label: str
    """Where it is, for findings: a repository-relative path."""
    tree: Any
    """The round-trip tree, which knows its lines."""
    line_offset: int = 0
    """Lines before the tree's first line (inline values inside a larger file)."""


@dataclass(frozen=True)
class ValuesProblem:
    source: ValuesSource
    line: int
    message: str


def coalesce(base: Any, overlay: Any) -> Any:
    """Helm's merge of `overlay` over `base`: maps key by key, `None` deletes, else replace."""
    if not isinstance(base, Mapping) or not isinstance(overlay, Mapping):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = value
    return merged


def merged_user_values(sources: Sequence[ValuesSource]) -> dict[str, Any]:
    merged: Any = {}
    for source in sources:
        plain = yamlio.to_plain(source.tree)
        if isinstance(plain, Mapping):
            merged = coalesce(merged, plain)
    return dict(merged) if isinstance(merged, Mapping) else {}


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or nothing."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def locate(sources: Sequence[ValuesSource], path: Sequence[Any]) -> tuple[ValuesSource, int]:
    """The last source that sets `path`, and the line of its deepest key there."""
    for source in reversed(sources):
        node: Any = source.tree
        found = True
        for key in path:
            in_map = isinstance(node, Mapping) and key in node
            in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
            if in_map or in_list:
                node = node[key]
            else:
                found = False
                break
        if found:
            return source, yamlio.line_of_path(source.tree, [str(p) for p in path]) + (
                source.line_offset
            )
    first = sources[0]
    return first, (yamlio.line_of(first.tree) or 1) + first.line_offset


def values_validator(schema: Mapping[str, Any]) -> Any:
    """A validator for a chart's values.schema.json (Helm reads any draft it names)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def schema_problems(
    validator: Any, defaults: Mapping[str, Any], sources: Sequence[ValuesSource]
) -> Iterator[ValuesProblem]:
    """What the chart's values.schema.json refuses in the merged values, as Helm checks it."""
    merged = coalesce(dict(defaults), merged_user_values(sources))
    for error in sorted(validator.iter_errors(merged), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            allowed = _allowed_properties(error.schema)
            for key in error.instance:
                if key in allowed:
                    continue
                source, line = locate(sources, [*path, key])
                where = ".".join(map(str, [*path, key]))
                yield ValuesProblem(
                    source,
                    line,
                    f"unknown key {where!r}{did_you_mean(str(key), sorted(allowed))}",
                )
            continue
        source, line = locate(sources, path)
        where = ".".join(map(str, path)) or "(top level)"
        yield ValuesProblem(source, line, f"{where}: {error.message}")


def _allowed_properties(schema: Any) -> set[str]:
    if not isinstance(schema, Mapping):
        return set()
    properties = schema.get("properties")
    return set(properties) if isinstance(properties, Mapping) else set()


def known_top_level_keys(defaults: Mapping[str, Any], template_keys: Sequence[str]) -> set[str]:
    """The top-level keys a chart without a schema understands."""
    inner = defaults.get(ISTIO_DEFAULTS_KEY)
    declared = set(inner) if isinstance(inner, Mapping) else set(defaults)
    return (declared | set(template_keys)) - {ISTIO_DEFAULTS_KEY}


def unknown_key_problems(
    known: set[str], sources: Sequence[ValuesSource]
) -> Iterator[ValuesProblem]:
    """Top-level keys (and, for istiod, keys under `pilot:`) the chart does not read."""
    candidates = sorted(known)
    for source in sources:
        tree = source.tree
        if not isinstance(tree, Mapping):
            continue
        holders: list[tuple[Mapping[str, Any], str]] = [(tree, "")]
        alias = tree.get(ISTIOD_ALIAS_KEY)
        if ISTIOD_ALIAS_KEY in known and isinstance(alias, Mapping):
            holders.append((alias, f"{ISTIOD_ALIAS_KEY}."))
        for holder, prefix in holders:
            for key in holder:
                if str(key) in known:
                    continue
                line = (yamlio.line_of(holder, key) or 1) + source.line_offset
                yield ValuesProblem(
                    source,
                    line,
                    f"unknown key {prefix + str(key)!r}{did_you_mean(str(key), candidates)}",
                )
