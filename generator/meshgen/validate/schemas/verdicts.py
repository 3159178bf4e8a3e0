"""Objects known to pass their schema, remembered across runs.

Most objects of a repository are the same from one run to the next: a canary step changes
two numbers in one environment. An object that passed its schema is remembered by the
SHA-256 of the schema's identity (its content, or the version of the package that ships
it) and of the object itself; the same pair passes again without being checked again.
Anything else (a new object, a changed schema, an object with errors) is checked in full,
so no verdict can be stale. Only passes are kept: a finding needs the validator's errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

_FORMAT = 1
# Enough for a few repositories of hundreds of environments; the oldest go first.
MAX_ENTRIES = 200_000


def _canonical(value: Any) -> str:
    # A value JSON cannot hold is tagged with its type, so that it never passes for a
    # string that reads the same (a YAML date is not the string of that date).
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        default=lambda other: f"\x00{type(other).__name__}:{other}",
    )


class Verdicts:
    """The passes of previous runs, read from `path` on first use and saved by `save()`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._known: dict[str, None] | None = None
        self._added = False

    def _entries(self) -> dict[str, None]:
        if self._known is None:
            self._known = {}
            if self.path is not None:
                try:
                    data = json.loads(self.path.read_text("utf-8"))
                    if data.get("format") == _FORMAT:
                        self._known = dict.fromkeys(str(key) for key in data["passed"])
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    pass  # unreadable: start afresh, nothing is trusted
        return self._known

    def key(self, schema_identity: str, instance: Any) -> str:
        digest = hashlib.sha256(schema_identity.encode("utf-8") + b"\0")
        digest.update(_canonical(instance).encode("utf-8"))
        return digest.hexdigest()

    def passed(self, key: str) -> bool:
        return key in self._entries()

    def record(self, key: str) -> None:
        entries = self._entries()
        if key not in entries:
            entries[key] = None
            self._added = True

    def save(self) -> None:
        """Write the passes back (atomically); a read-only cache only costs time."""
        if self.path is None or not self._added or self._known is None:
            return
        kept = list(self._known)[-MAX_ENTRIES:]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"format": _FORMAT, "passed": kept}, out)
            Path(name).replace(self.path)
        except OSError:
            return
        self._added = False


class ObjectValidator(Protocol):
    """What the schema rules need of a validator."""

    def iter_errors(self, instance: Any) -> Iterator[Any]: ...


def remembering(
    build: Callable[[], ObjectValidator], identity: str, verdicts: Verdicts | None
) -> ObjectValidator:
    """The validator `build()` makes, skipping objects that passed the same schema before
    (when `verdicts`). `identity` must name the schema without reading it: the schema
    is read and compiled only for an object that has no verdict yet, so a run whose
    objects all passed before loads no schema at all (nor jsonschema)."""
    return build() if verdicts is None else RememberingValidator(build, identity, verdicts)


class RememberingValidator:
    """A validator that skips objects that passed the same schema before."""

    def __init__(
        self, build: Callable[[], ObjectValidator], identity: str, verdicts: Verdicts
    ) -> None:
        self._build = build
        self._inner: ObjectValidator | None = None
        self.identity = identity
        self.verdicts = verdicts

    @property
    def inner(self) -> ObjectValidator:
        if self._inner is None:
            self._inner = self._build()
        return self._inner

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        key = self.verdicts.key(self.identity, instance)
        if self.verdicts.passed(key):
            return iter(())
        errors = list(self.inner.iter_errors(instance))
        if not errors:
            self.verdicts.record(key)
        return iter(errors)
