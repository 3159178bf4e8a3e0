"""`meshgen weights show` as an aligned table or as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from meshgen.traffic.table import EnvironmentWeights

# The shape of `weights show --format json`; raise it when the shape changes.
WEIGHTS_JSON_VERSION = 1


def render_weights_text(table: Sequence[EnvironmentWeights]) -> str:
    """One row per environment and version; the app column only when there are several."""
    several_apps = len({entry.app for entry in table}) > 1
    header = ["ENVIRONMENT", *(["APP"] if several_apps else []), "VERSION", "WEIGHT", "IMAGE"]
    rows = [header]
    for entry in table:
        for row in entry.versions:
            weight = f"{row.weight}%" if isinstance(row.weight, int) else repr(row.weight)
            rows.append(
                [
                    entry.environment,
                    *([entry.app] if several_apps else []),
                    row.name,
                    weight,
                    f"{row.repository}:{row.tag}",
                ]
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    weight_column = header.index("WEIGHT")
    lines = []
    for r in rows:
        cells = [
            cell.rjust(widths[i]) if i == weight_column else cell.ljust(widths[i])
            for i, cell in enumerate(r)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def render_weights_json(table: Sequence[EnvironmentWeights]) -> str:
    document = {
        "schemaVersion": WEIGHTS_JSON_VERSION,
        "environments": [entry.to_json() for entry in table],
    }
    return json.dumps(document, indent=2) + "\n"


# The output formats of `meshgen weights show --format`, by name.
WEIGHTS_RENDERERS: Mapping[str, Callable[[Sequence[EnvironmentWeights]], str]] = {
    "text": render_weights_text,
    "json": render_weights_json,
}
