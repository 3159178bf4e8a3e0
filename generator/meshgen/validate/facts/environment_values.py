"""Platform values as one environment's releases read them: common file, then its own.

A values file in a folder named after an environment (`platform/istio/production/
gateway.values.yaml`) is read by that environment's release after the file of the same
name one folder up, and by no other environment's. Merged as Helm merges values files:
maps key by key, anything else replaced.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any


def for_environment(
    documents: Sequence[tuple[Path, Any]], environment: str, environments: Collection[str]
) -> list[tuple[Path, Any]]:
    """`documents` (repo-relative path, data) as `environment` sees them."""
    own = {
        path.parent.parent / path.name: data
        for path, data in documents
        if path.parent.name == environment
    }
    result = []
    for path, data in documents:
        if path.parent.name in environments:
            if path.parent.name == environment and path.parent.parent / path.name not in {
                p for p, _ in documents
            }:
                result.append((path, data))
            continue
        overlay = own.get(path)
        merged = _merge(data, overlay) if isinstance(overlay, Mapping) and overlay else data
        result.append((path, merged))
    return result


def _merge(base: Any, override: Mapping[str, Any]) -> Any:
    if not isinstance(base, Mapping):
        return override
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        merged[key] = (
            _merge(old, value) if isinstance(value, Mapping) and isinstance(old, Mapping) else value
        )
    return merged
