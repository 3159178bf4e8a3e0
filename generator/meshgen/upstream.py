"""What meshgen ships about the upstream projects a repository pins.

`_schemas/` (built by scripts/build-schemas.py, see its PROVENANCE.md) holds the strict
JSON schemas of the Istio, Gateway API, cert-manager, Argo CD and Flux CRDs, eksctl's
ClusterConfig schema, and the default values (and values schema, where upstream has one)
of the platform charts. Everything is read lazily, one kind or chart at a time, and kept
for the life of the process: a run that sees three kinds decompresses three files.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SHIPPED_DIR = Path(__file__).resolve().parent / "_schemas"

# Which meshgen.yaml `versions:` pin each platform chart follows.
CHART_PINS: Mapping[str, str] = {
    "base": "istio",
    "cni": "istio",
    "istiod": "istio",
    "gateway": "istio",
    "cert-manager": "certManager",
}


@dataclass(frozen=True)
class ShippedSchema:
    """One kind's schema for one apiVersion, and a name for it in findings."""

    schema: Mapping[str, Any]
    origin: str


@dataclass(frozen=True)
class ChartInfo:
    """A platform chart meshgen knows: where it is published and its shipped defaults."""

    name: str
    version: str
    repository: str
    values_file: str | None
    values_schema_file: str | None
    template_keys: tuple[str, ...] = ()
    """Top-level values the chart's templates read, beyond those values.yaml declares."""

    @property
    def pin(self) -> str:
        """The meshgen.yaml `versions:` key this chart's version must equal."""
        return CHART_PINS.get(self.name, "")

    def defaults(self) -> Mapping[str, Any] | None:
        """The chart's values.yaml, parsed (None when none is shipped)."""
        if self.values_file is None:
            return None
        return _values_yaml(self.values_file)

    def values_schema(self) -> Mapping[str, Any] | None:
        """The chart's values.schema.json (None when upstream ships none)."""
        if self.values_schema_file is None:
            return None
        loaded = _json(self.values_schema_file)
        return loaded if isinstance(loaded, Mapping) else None


@cache
def _index() -> Mapping[str, Any]:
    loaded = json.loads((SHIPPED_DIR / "index.json").read_text("utf-8"))
    return loaded if isinstance(loaded, Mapping) else {}


@cache
def _json(relative: str) -> Any:
    return json.loads(gzip.decompress((SHIPPED_DIR / relative).read_bytes()))


@cache
def _values_yaml(relative: str) -> Mapping[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = gzip.decompress((SHIPPED_DIR / relative).read_bytes()).decode("utf-8")
    loaded = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, shipped data
    return loaded if isinstance(loaded, Mapping) else {}


def schema_origin(api_version: str, kind: str) -> str | None:
    """How findings name the shipped schema of `kind` in `api_version`, if one is shipped
    (told from the index, without reading the schema)."""
    group, _, version = api_version.rpartition("/")
    entry = _index().get("kinds", {}).get(f"{group}/{kind}")
    if not group or not isinstance(entry, Mapping) or version not in entry["versions"]:
        return None
    return f"meshgen:{api_version}/{kind}"


def schema(api_version: str, kind: str) -> ShippedSchema | None:
    """The shipped schema of `kind` in `api_version` (`group/version`), if any."""
    origin = schema_origin(api_version, kind)
    if origin is None:
        return None
    group, _, version = api_version.rpartition("/")
    entry = _index()["kinds"][f"{group}/{kind}"]
    schemas = _json(entry["file"])
    return ShippedSchema(schemas[entry["versions"][version]], origin)


def charts() -> tuple[ChartInfo, ...]:
    return tuple(
        ChartInfo(
            name=item["name"],
            version=item["version"],
            repository=item["repository"],
            values_file=item.get("values"),
            values_schema_file=item.get("valuesSchema"),
            template_keys=tuple(item.get("templateKeys", ())),
        )
        for item in _index().get("charts", [])
    )


def chart(name: str, version: str | None = None) -> ChartInfo | None:
    """The shipped knowledge of chart `name` (at `version`, when given)."""
    for info in charts():
        if info.name == name and (version is None or info.version == version):
            return info
    return None


def chart_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys(info.name for info in charts()))
