"""What validation produces: locations, findings, and the rules behind them.

Data only. A rule module decorates its check with `@rule`, which records the rule on
the function; `registry` collects them. Nothing here imports the rest of meshgen but
the severity scale (`meshgen.severity`, shared with Helm's lint messages), so every
layer above can import it without a circle."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshgen.severity import Severity

# Severity is re-exported: rules and reporters take the scale from here with the rest.
__all__ = [
    "RULE_ATTRIBUTE",
    "STDIN_NAME",
    "Check",
    "Finding",
    "Location",
    "ObjectRef",
    "Problem",
    "Report",
    "Rule",
    "Severity",
    "rule",
]

# How `--files -` names standard input in findings.
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding points: a repo-relative path and 1-based line and column."""

    path: str
    line: int = 1
    column: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", printable(self.path))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def printable(text: str) -> str:
    """`text` with the bytes of a file name that are not UTF-8 (which Python keeps as lone
    surrogates) shown as U+FFFD: a terminal, a JSON parser or a SARIF reader would refuse
    them, and the report with them."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True, order=True)
class ObjectRef:
    """The Kubernetes object a finding is about, as istioctl names it."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


@dataclass(frozen=True)
class Problem:
    """What a rule check yields; the engine turns it into a `Finding` of that rule."""

    message: str
    location: Location
    severity: Severity | None = None
    subject: ObjectRef | None = None


Check = Callable[[Any], Iterator[Problem]]
"""A rule's check: takes the validation context, yields problems."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    fix: str
    check: Check = field(compare=False, repr=False)
    istio_code: str | None = None
    istio_analyzer: str | None = None
    """The `istioctl analyze` analyzer that reports `istio_code`, e.g.
    `virtualservice.DestinationHostAnalyzer`."""


@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: Severity
    message: str
    location: Location
    subject: ObjectRef | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", printable(self.message))

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule.id, self.message)


# The attribute under which `@rule` leaves the rule on its check function.
RULE_ATTRIBUTE = "meshgen_rule"


def rule(
    rule_id: str,
    name: str,
    severity: Severity,
    *,
    istio_code: str | None = None,
    istio_analyzer: str | None = None,
) -> Callable[[Check], Check]:
    """Declare a check as a rule with a stable ID. Docstring: first line what, rest how to fix."""

    def declare(check: Check) -> Check:
        doc = inspect.cleandoc(check.__doc__ or "")
        summary, _, fix = doc.partition("\n\n")
        declared = Rule(
            id=rule_id,
            name=name,
            severity=severity,
            summary=summary.strip(),
            fix=" ".join(fix.split()),
            check=check,
            istio_code=istio_code,
            istio_analyzer=istio_analyzer,
        )
        setattr(check, RULE_ATTRIBUTE, declared)
        return check

    return declare


@dataclass(frozen=True)
class Report:
    """The outcome of one validation run."""

    root: Path
    findings: tuple[Finding, ...]
    environments: tuple[str, ...]
    objects_checked: int
    rules_run: tuple[Rule, ...] = field(repr=False)
    files: tuple[str, ...] = ()
    """The inputs of a plain-object run (`--files`); empty for a repository."""

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    def failed(self, *, strict: bool = False) -> bool:
        """Errors fail a run; with `strict`, warnings do too."""
        if self.count(Severity.ERROR):
            return True
        return strict and self.count(Severity.WARNING) > 0
