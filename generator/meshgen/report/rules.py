"""`meshgen rules`: every rule with its ID, name, severity and fix, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from meshgen.report.json_report import rule_json
from meshgen.validate.findings import Rule

# The shape of `rules --format json`; raise it when the shape changes.
RULES_JSON_VERSION = 1


def render_rules_text(rules: Sequence[Rule], retired: Mapping[str, str]) -> str:
    lines = []
    for rule in rules:
        code = ""
        if rule.istio_code:
            code = f"  (istioctl {rule.istio_code}, {rule.istio_analyzer or 'analyze'})"
        lines.append(f"{rule.id}  {rule.name}  [{rule.severity.value}]{code}")
        lines.append(f"    {rule.summary}")
        if rule.fix:
            lines.append(f"    Fix: {rule.fix}")
    for former, successor in sorted(retired.items()):
        lines.append(f"{former}  retired: its checks are {successor}'s; the ID is never reused")
    return "\n".join(lines) + "\n"


def render_rules_json(rules: Sequence[Rule], retired: Mapping[str, str]) -> str:
    document = {
        "schemaVersion": RULES_JSON_VERSION,
        "rules": [rule_json(rule) for rule in rules],
        "retired": [
            {"id": former, "replacedBy": successor} for former, successor in sorted(retired.items())
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# The output formats of `meshgen rules --format`, by name.
RULES_RENDERERS: Mapping[str, Callable[[Sequence[Rule], Mapping[str, str]], str]] = {
    "text": render_rules_text,
    "json": render_rules_json,
}
