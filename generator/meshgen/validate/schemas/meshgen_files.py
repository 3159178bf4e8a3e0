"""yamale schemas for meshgen's own files, with errors mapped back to lines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yamale
from yamale.schema import Schema

from meshgen import resources, yamlio
from meshgen.credentials import scrub

_MANIFEST_SCHEMA = "manifest.yaml"


@dataclass(frozen=True)
class SchemaError:
    key_path: str
    message: str
    line: int


@cache
def _manifest_schema() -> Schema:
    from importlib.resources import as_file, files

    with as_file(files("meshgen") / "schemas" / _MANIFEST_SCHEMA) as path:
        return yamale.make_schema(str(path), parser="ruamel")


@cache
def _environment_file_schema() -> Schema:
    return yamale.make_schema(str(resources.environments_dir() / "schema.yaml"), parser="ruamel")


def check_config(tree: Any) -> list[SchemaError]:
    return _check(_manifest_schema(), tree)


def check_environment_file(tree: Any) -> list[SchemaError]:
    return _check(_environment_file_schema(), tree)


def _check(schema: Schema, tree: Any) -> list[SchemaError]:
    if tree is None:
        return [SchemaError("", "the file is empty", 1)]
    data = yamlio.to_plain(tree)
    results = yamale.validate(schema, [(data, "<data>")], strict=True, _raise_error=False)
    errors = []
    for result in results:
        for raw in result.errors:
            key_path, _, message = raw.partition(": ")
            if not message:
                key_path, message = "", raw
            message = _wording(scrub(message))
            errors.append(SchemaError(key_path, message, _line_for(tree, key_path)))
    return errors


def _line_for(tree: Any, key_path: str) -> int:
    """The line of the deepest node of `key_path` (dotted, as yamale reports) in `tree`."""
    return yamlio.line_of_path(tree, key_path.split(".") if key_path else ())


def _wording(message: str) -> str:
    """yamale says `is not a <name>` whatever the name; the schemas' names carry their
    own article (`a DNS label`, `an environment name`), and `int` reads as a number."""
    return (
        message.replace("is not a int.", "is not a whole number.")
        .replace("is not a a ", "is not a ")
        .replace("is not a an ", "is not an ")
    )
