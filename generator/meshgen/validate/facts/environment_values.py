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


class EnvironmentValues:
    """The documents, read once for every environment: each environment's view costs
    the documents it sees, not the whole repository's paths worked out again."""

    def __init__(self, documents: Sequence[tuple[Path, Any]], environments: Collection[str]):
        self._documents = [
            (path, data, path.parent.name, path.parent.parent / path.name)
            for path, data in documents
        ]
        self._paths = {path for path, _ in documents}
        self._own: dict[str, dict[Path, Any]] = {}
        for _, data, folder, common in self._documents:
            self._own.setdefault(folder, {})[common] = data
        self._environments = environments

    def for_environment(self, environment: str) -> list[tuple[Path, Any]]:
        """The documents (repo-relative path, data) as `environment` sees them."""
        own = self._own.get(environment, {})
        result = []
        for path, data, folder, common in self._documents:
            if folder in self._environments:
                if folder == environment and common not in self._paths:
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
