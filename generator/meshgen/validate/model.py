"""Findings, rules and the rule registry."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshgen.validate.context import ValidationContext


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding points: a repo-relative path and 1-based line and column."""

    path: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """What a rule check yields; the engine turns it into a `Finding` of that rule."""

    message: str
    location: Location
    severity: Severity | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    fix: str
    check: Callable[[ValidationContext], Iterator[Problem]] = field(compare=False, repr=False)
    istio_code: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: Severity
    message: str
    location: Location

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule.id, self.message)


_REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, name: str, severity: Severity, *, istio_code: str | None = None
) -> Callable[
    [Callable[[ValidationContext], Iterator[Problem]]],
    Callable[[ValidationContext], Iterator[Problem]],
]:
    """Register a check under a stable ID. Its docstring: first line what, rest how to fix."""

    def register(
        check: Callable[[ValidationContext], Iterator[Problem]],
    ) -> Callable[[ValidationContext], Iterator[Problem]]:
        if rule_id in _REGISTRY:
            raise ValueError(f"rule ID {rule_id} registered twice")
        doc = inspect.cleandoc(check.__doc__ or "")
        summary, _, fix = doc.partition("\n\n")
        _REGISTRY[rule_id] = Rule(
            id=rule_id,
            name=name,
            severity=severity,
            summary=summary.strip(),
            fix=" ".join(fix.split()),
            check=check,
            istio_code=istio_code,
        )
        return check

    return register


def all_rules() -> list[Rule]:
    """Every registered rule, by ID."""
    # Importing the rule modules registers them.
    import meshgen.validate.rules  # noqa: F401

    return [_REGISTRY[key] for key in sorted(_REGISTRY)]
