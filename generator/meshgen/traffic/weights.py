"""Canary weights: how they are read from an environment file, and the rules they obey.

The one place that says what a weight is; validation, editing, guard rails and diff
all read weights through it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

TOTAL = 100
TRAFFIC_KEY = "traffic"


def is_whole_number(value: object) -> TypeGuard[int]:
    """A whole number (YAML's true and false are not, though Python counts them as ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def traffic_of(values: object) -> Mapping[str, object]:
    """The `traffic:` map of an environment file's values, as written ({} if none)."""
    traffic = values.get(TRAFFIC_KEY) if isinstance(values, Mapping) else None
    return traffic if isinstance(traffic, Mapping) else {}


def whole_weights(values: object) -> dict[str, int]:
    """The weights of an environment file's values that are whole numbers, by version."""
    return {
        str(name): weight for name, weight in traffic_of(values).items() if is_whole_number(weight)
    }


def has_weight_problems(values: object) -> bool:
    """Whether an environment file's `traffic:` breaks a weight rule (see weight_problems)."""
    if not isinstance(values, Mapping) or not isinstance(values.get(TRAFFIC_KEY), Mapping):
        return False
    versions = values.get("versions")
    defined = versions.keys() if isinstance(versions, Mapping) else ()
    return bool(weight_problems(defined, values[TRAFFIC_KEY]))


@dataclass(frozen=True)
class WeightProblem:
    """A broken weight rule; `version` is None when the problem is the whole set."""

    code: str
    message: str
    version: str | None = None


def weight_problems(versions: Iterable[str], traffic: Mapping[str, object]) -> list[WeightProblem]:
    """Check weights: integers 0..100, over versions that exist, summing to 100."""
    defined = set(versions)
    problems: list[WeightProblem] = []
    total = 0
    for version, weight in traffic.items():
        if not is_whole_number(weight):
            problems.append(
                WeightProblem(
                    "type", f"weight of {version} must be a whole number, got {weight!r}", version
                )
            )
            continue
        if not 0 <= weight <= TOTAL:
            problems.append(
                WeightProblem("range", f"weight of {version} must be 0..100, got {weight}", version)
            )
        if version not in defined:
            known = ", ".join(sorted(defined)) or "none"
            problems.append(
                WeightProblem(
                    "unknown",
                    f"weight given for {version}, which is not under `versions:` "
                    f"(defined: {known})",
                    version,
                )
            )
        total += weight
    if not any(p.code == "type" for p in problems) and total != TOTAL:
        listed = " + ".join(f"{v}={w}" for v, w in traffic.items()) or "no weights"
        problems.append(WeightProblem("sum", f"weights sum to {total}, not 100 ({listed})"))
    return problems
