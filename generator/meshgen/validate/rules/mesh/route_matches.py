"""VirtualService rules that earlier rules shadow (istioctl's VirtualService validation,
schema.ValidationAnalyzer.VirtualService)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meshgen.render import Manifest
from meshgen.validate.context import ValidationContext
from meshgen.validate.facts.access import as_list, as_map, spec
from meshgen.validate.facts.world import problem_at, worlds
from meshgen.validate.findings import Problem, Severity, rule

# Fields of an HTTP match that compare a string (exact, prefix or regex).
_STRING_FIELDS = ("uri", "scheme", "method", "authority")
_MAP_FIELDS = ("headers", "queryParams")


def _string_covers(earlier: Any, later: Any) -> bool:
    """Whether an earlier string match accepts everything a later one accepts."""
    first, second = as_map(earlier), as_map(later)
    if first == second:
        return True
    if "prefix" in first:
        prefix = str(first["prefix"])
        if "prefix" in second:
            return str(second["prefix"]).startswith(prefix)
        if "exact" in second:
            return str(second["exact"]).startswith(prefix)
    return False


def _covers(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> bool:
    """Whether every request `later` matches is matched by `earlier` already."""
    for key, value in earlier.items():
        if key == "name":
            continue
        if key in _STRING_FIELDS:
            if key not in later or not _string_covers(value, later[key]):
                return False
        elif key in _MAP_FIELDS:
            theirs = as_map(later.get(key))
            for name, match in as_map(value).items():
                if name not in theirs or not _string_covers(match, theirs[name]):
                    return False
        elif later.get(key) != value:
            return False
    return True


def _shadowed(service: Manifest) -> Iterator[tuple[str, int, int | None, int]]:
    """(protocol, rule, match or None for the whole rule, earlier rule) of each shadowed one."""
    for protocol in ("http", "tcp", "tls"):
        earlier: list[tuple[int, Mapping[str, Any]]] = []
        catch_all: int | None = None
        for index, route in enumerate(as_list(spec(service).get(protocol))):
            if catch_all is not None:
                yield protocol, index, None, catch_all
                continue
            matches = [as_map(m) for m in as_list(as_map(route).get("match"))]
            if not matches:
                catch_all = index
                continue
            covering = [
                next((i for i, m in earlier if _covers(m, match)), None) for match in matches
            ]
            if all(c is not None for c in covering):
                yield protocol, index, None, int(covering[0] or 0)
            else:
                for position, by in enumerate(covering):
                    if by is not None:
                        yield protocol, index, position, by
            earlier.extend((index, m) for m in matches)


@rule(
    "MG456",
    "route-rule-unreachable",
    Severity.WARNING,
    istio_code="IST0130",
    istio_analyzer="schema.ValidationAnalyzer.VirtualService",
)
def route_rule_unreachable(ctx: ValidationContext) -> Iterator[Problem]:
    """A VirtualService rule is never used: an earlier rule matches all of its requests.

    Put the more specific rule first, or remove it; only the last rule may have no match.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for protocol, index, match, by in _shadowed(service):
                if match is None:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{protocol}[{index}] is never used: {protocol}[{by}] matches its requests",
                    )


@rule(
    "MG457",
    "route-match-ineffective",
    Severity.INFO,
    istio_code="IST0131",
    istio_analyzer="schema.ValidationAnalyzer.VirtualService",
)
def route_match_ineffective(ctx: ValidationContext) -> Iterator[Problem]:
    """A match of a VirtualService rule is never used: an earlier rule covers it.

    Remove the match, or move the rule before the one that covers it.
    """
    for world in worlds(ctx):
        for service in world.istio("VirtualService"):
            for protocol, index, match, by in _shadowed(service):
                if match is not None:
                    yield problem_at(
                        ctx,
                        world,
                        service,
                        f"{protocol}[{index}].match[{match}] is never used: {protocol}[{by}] "
                        "matches its requests",
                    )
