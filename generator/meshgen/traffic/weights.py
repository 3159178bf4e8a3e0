"""The rules canary weights obey: whole numbers 0..100, over versions that exist, summing
to 100.

Weights are read from an environment file by `meshgen.environment_file`; validation and
the canary commands check them here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from meshgen.environment_file import TRAFFIC_KEY, VERSIONS_KEY, is_whole_number

TOTAL = 100


def has_weight_problems(values: object) -> bool:
    """Whether an environment file's `traffic:` breaks a weight rule (see weight_problems)."""
    if not isinstance(values, Mapping) or not isinstance(values.get(TRAFFIC_KEY), Mapping):
        return False
    versions = values.get(VERSIONS_KEY)
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
