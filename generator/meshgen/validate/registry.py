"""The rule registry: the one module that imports the rule modules.

Importing it imports every rule (and the schema validators they bring), so the engine
imports it only once Helm is rendering. Adding a rule module means one import and one
line in `_MODULES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from meshgen.errors import ConfigError
from meshgen.validate.findings import RULE_ATTRIBUTE, Rule
from meshgen.validate.rules.files import domains, environment_files, repository, values, weights
from meshgen.validate.rules.gitops import (
    argocd_project,
    deployment,
    environments,
    flux_references,
    ownership,
    paths,
)
from meshgen.validate.rules.guardrails import canary
from meshgen.validate.rules.helm import chart
from meshgen.validate.rules.kubectl import dry_run
from meshgen.validate.rules.mesh import (
    annotation_use,
    authorization,
    conditions,
    deprecations,
    destination_tls,
    envoy_filters,
    gateway_api,
    gateway_conflicts,
    gateway_secrets,
    gateways,
    ingress_routes,
    injection,
    jwt_routes,
    mesh_hosts,
    ports,
    proxy_images,
    proxy_uid,
    route_matches,
    routing,
    service_association,
    service_entries,
    sidecars,
    subsets,
    telemetry,
    tls,
)
from meshgen.validate.rules.platform import chart_values, cni, ingress, pin_drift, pins
from meshgen.validate.rules.platform import environments as platform_environments
from meshgen.validate.rules.schemas import objects
from meshgen.validate.rules.security import credentials, hardening, istio_init, privileges

_MODULES = (
    repository,
    domains,
    environment_files,
    weights,
    values,
    chart,
    objects,
    routing,
    route_matches,
    ingress_routes,
    subsets,
    gateways,
    gateway_conflicts,
    gateway_secrets,
    mesh_hosts,
    jwt_routes,
    ports,
    service_association,
    service_entries,
    sidecars,
    telemetry,
    destination_tls,
    authorization,
    deprecations,
    proxy_uid,
    proxy_images,
    annotation_use,
    envoy_filters,
    gateway_api,
    conditions,
    injection,
    tls,
    ingress,
    cni,
    pin_drift,
    deployment,
    paths,
    ownership,
    platform_environments,
    environments,
    argocd_project,
    flux_references,
    pins,
    chart_values,
    privileges,
    hardening,
    istio_init,
    credentials,
    canary,
    dry_run,
)


# Retired IDs, never reused, and the rule that took over their checks.
RETIRED_RULES: Mapping[str, str] = {"MG502": "MG412"}

# Former rule names (still accepted by --select and --ignore) and their current names.
RENAMED_RULES: Mapping[str, str] = {
    "acme-solver-class-not-served": "acme-class-not-served",
    "manifest-unreadable": "config-unreadable",
    "manifest-schema": "config-schema",
    "manifest-file-unreadable": "static-file-unreadable",
    "overlay-unreadable": "environment-file-unreadable",
    "overlay-schema": "environment-file-schema",
    "overlay-missing": "environment-file-missing",
    "overlay-undeclared": "environment-file-undeclared",
}


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, by ID."""
    found: dict[str, Rule] = {}
    for module in _MODULES:
        for value in vars(module).values():
            declared = getattr(value, RULE_ATTRIBUTE, None)
            # A check imported from another module is declared there, not here.
            if not isinstance(declared, Rule) or value.__module__ != module.__name__:
                continue
            if declared.id in found or declared.id in RETIRED_RULES:
                raise ValueError(f"rule ID {declared.id} declared twice or retired")
            found[declared.id] = declared
    return tuple(found[key] for key in sorted(found))


def select_rules(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Rule]:
    """Rules chosen by ID or name prefix (`MG1` selects MG1xx); `ignore` wins."""

    def matches(rule: Rule, patterns: Sequence[str]) -> bool:
        return any(rule.id.startswith(p.upper()) or rule.name == p for p in patterns)

    # A configuration written before a rule was retired or renamed keeps working.
    select = [_current(pattern) for pattern in select]
    ignore = [_current(pattern) for pattern in ignore]
    rules = list(all_rules())
    # A mistyped pattern must not quietly turn validation off (or leave a rule on).
    for pattern in (*select, *ignore):
        if not any(matches(rule, (pattern,)) for rule in rules):
            raise ConfigError(
                f"no rule matches {pattern!r}; give a rule ID (MG110), an ID prefix (MG1) "
                "or a rule name (weights-invalid), see `meshgen rules`"
            )
    if select:
        rules = [rule for rule in rules if matches(rule, select)]
    return [rule for rule in rules if not matches(rule, ignore)]


def _current(pattern: str) -> str:
    return RETIRED_RULES.get(pattern.upper(), RENAMED_RULES.get(pattern, pattern))
