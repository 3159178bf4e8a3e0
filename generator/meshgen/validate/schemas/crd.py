"""CRD schemas found through schema locations, the way kubeconform finds them.

A location is a folder (schemas are `{group}/{kind}_{version}.json` inside it) or a
template with kubeconform's placeholders, a local path or a URL:

    https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json

Locations are tried in order; the first that has the schema wins, and the schemas meshgen
ships (see meshgen.upstream) come after all of them. Downloaded schemas are kept in a
local cache, so a second run (or a CI job with a restored cache) works offline. Only the
kinds present are looked up, and each validator is compiled once and shared by every
environment.

A location that cannot be used at all (a folder that does not exist, a server that does
not answer) is one problem, reported once and not tried again for the other kinds; a
schema that is simply absent from a usable location is no problem (the kind is skipped).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from meshgen import safefs
from meshgen.cache_folder import base_folder
from meshgen.errors import ConfigError
from meshgen.validate.schemas.crd_import import PLAIN_SUBDIR, SCHEMA_DIR, STRICT_SUBDIR
from meshgen.validate.schemas.verdicts import ObjectValidator, Verdicts, remembering

DEFAULT_LOCATION = "default"
FETCH_TIMEOUT_SECONDS = 20

_PLACEHOLDER = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
_LAYOUT = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where downloaded schemas are kept: $MESHGEN_CACHE_DIR, else the XDG cache folder.

    The command line passes its environment: below it, meshgen reads no variables.
    """
    return base_folder(environ) / "schemas"


def repo_schema_location(root: Path) -> Path:
    """The repository's own schema folder (strict), written by `meshgen schemas import`."""
    return root / SCHEMA_DIR / STRICT_SUBDIR


def repo_plain_schema_location(root: Path) -> Path:
    return root / SCHEMA_DIR / PLAIN_SUBDIR


@dataclass(frozen=True)
class LocationProblem:
    """A location that could not be read, or a schema there that is not valid JSON."""

    location: str
    message: str


@dataclass(frozen=True)
class FoundSchema:
    validator: ObjectValidator
    origin: str


def _is_url(location: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*://", location) is not None


def _local_folder(location: str) -> Path | None:
    """The local folder every schema of `location` lies under, or None for a remote URL.

    For a template, the folder is the part before the first placeholder.
    """
    path = location
    if _is_url(location):
        if not location.startswith("file:"):
            return None
        # Imported here for the same reason as in _fetch: only URL locations need it.
        import urllib.parse
        import urllib.request

        path = urllib.request.url2pathname(urllib.parse.urlsplit(location).path)
    placeholder = _PLACEHOLDER.search(path)
    if placeholder is None:
        return Path(path)
    prefix = path[: placeholder.start()]
    if not prefix:
        return Path()
    return Path(prefix) if prefix.endswith(("/", os.sep)) else Path(prefix).parent


def expand(location: str, group: str, kind: str, version: str) -> str:
    """The path or URL of one schema under `location` (a folder or a template)."""
    template = location if "{{" in location else location.rstrip("/") + "/" + _LAYOUT
    values = {
        "Group": group,
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": version,
        "KindSuffix": f"-{group.split('.', maxsplit=1)[0]}-{version}",
        "StrictSuffix": "-strict",
        "NormalizedKubernetesVersion": "master",
    }

    def fill(match: re.Match[str]) -> str:
        return values.get(match[1], match[0])

    return _PLACEHOLDER.sub(fill, template)


class CrdSchemas:
    """Validators for custom resources, looked up through `locations`, compiled once."""

    def __init__(
        self,
        locations: Sequence[str],
        *,
        cache_dir: Path | None = None,
        shipped: bool = True,
        verdicts: Verdicts | None = None,
    ) -> None:
        self.locations = tuple(locations)
        self.shipped = shipped
        self.verdicts = verdicts
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir({})
        self._found: dict[tuple[str, str], FoundSchema | None] = {}
        self._problems: list[LocationProblem] = []
        self._unusable: set[str] | None = None

    @property
    def problems(self) -> list[LocationProblem]:
        """Locations that cannot be used, and schemas that could not be read, so far."""
        self._unusable_locations()
        return list(self._problems)

    def _unusable_locations(self) -> set[str]:
        """Locations whose local folder is missing or unreadable, each reported once."""
        if self._unusable is None:
            self._unusable = set()
            for location in dict.fromkeys(self.locations):
                folder = _local_folder(location)
                if folder is None:
                    continue
                # A template names the folder its schemas lie under; a folder names itself.
                named = "" if folder == Path(location) else f"{folder.as_posix() or '.'} "
                problem = _folder_problem(folder, named)
                if problem is not None:
                    self._unusable.add(location)
                    self._problem(location, problem)
        return self._unusable

    def lookup(self, api_version: str, kind: str) -> FoundSchema | None:
        key = (api_version, kind)
        if key not in self._found:
            self._found[key] = self._search(api_version, kind)
        return self._found[key]

    def _search(self, api_version: str, kind: str) -> FoundSchema | None:
        group, _, version = api_version.rpartition("/")
        if not group:
            return None
        unusable = self._unusable_locations()
        for location in self.locations:
            if location in unusable:
                continue
            target = expand(location, group, kind, version)
            schema = self._read(location, target)
            if schema is None:
                continue
            import jsonschema

            try:
                cls = jsonschema.validators.validator_for(
                    schema, default=jsonschema.Draft7Validator
                )
                cls.check_schema(schema)
            except jsonschema.SchemaError as exc:
                self._problem(location, f"{target}: not a valid JSON schema: {exc.message}")
                continue
            identity = f"{target} {_digest(schema)}"
            return FoundSchema(remembering(partial(cls, schema), identity, self.verdicts), target)
        return self._shipped(api_version, kind) if self.shipped else None

    def _shipped(self, api_version: str, kind: str) -> FoundSchema | None:
        from meshgen import __version__, upstream

        origin = upstream.schema_origin(api_version, kind)
        if origin is None:
            return None
        identity = f"meshgen {__version__} {origin}"
        build = partial(_compile_shipped, api_version, kind)
        return FoundSchema(remembering(build, identity, self.verdicts), origin)

    def _read(self, location: str, target: str) -> dict[str, Any] | None:
        if _is_url(target):
            text = self._fetch(location, target)
        else:
            try:
                # A repository's own schemas/ is read like any of its files: confined,
                # regular, bounded (a CRD schema is far below 32 MiB).
                text = safefs.read_text(Path(target), limit=32 * 1024 * 1024)
            except ConfigError as exc:
                if not os.path.lexists(target):
                    return None
                self._problem(location, f"{target}: {exc.args[0]}")
                return None
        if text is None:
            return None
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            self._problem(location, f"{target}: not JSON: {exc}")
            return None
        if not isinstance(schema, dict):
            self._problem(location, f"{target}: not a JSON schema object")
            return None
        return schema

    def _fetch(self, location: str, url: str) -> str | None:  # noqa: PLR0911 - one exit per outcome
        # urllib.request pulls in http.client, ssl and email; only URL locations need it.
        import hashlib
        import urllib.error
        import urllib.request

        cached = self.cache_dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        if cached.is_file():
            return str(cached.read_text("utf-8"))
        if location in self._unusable_locations():
            return None
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 - user-chosen schema location
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            self._give_up(location, f"{url}: HTTP {exc.code} {exc.reason}")
            return None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, FileNotFoundError):
                return None
            self._give_up(location, f"{url}: {exc.reason}")
            return None
        except (OSError, ValueError) as exc:
            self._give_up(location, f"{url}: {exc}")
            return None
        text = bytes(body).decode("utf-8", errors="replace")
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(text, "utf-8")
        except OSError:
            pass  # a read-only cache only costs a download next time
        return text

    def _give_up(self, location: str, message: str) -> None:
        # A server that refuses one schema (no route, timeout, 5xx, 403) refuses the
        # next: waiting out a timeout per kind would only repeat the same warning.
        self._unusable_locations().add(location)
        self._problem(location, f"{message}; not tried for other kinds in this run")

    def _problem(self, location: str, message: str) -> None:
        problem = LocationProblem(location, message)
        if problem not in self._problems:
            self._problems.append(problem)


def _compile_shipped(api_version: str, kind: str) -> ObjectValidator:
    """The validator of a schema meshgen ships, read and compiled when first needed."""
    import jsonschema

    from meshgen import upstream

    found = upstream.schema(api_version, kind)
    if found is None:  # pragma: no cover - schema_origin said it is shipped
        raise LookupError(f"no shipped schema for {api_version}/{kind}")
    # Checked against its metaschema by the test suite, not on every run.
    cls = jsonschema.validators.validator_for(found.schema, default=jsonschema.Draft7Validator)
    validator: ObjectValidator = cls(found.schema)
    return validator


def _digest(schema: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode("utf-8")).hexdigest()


def _folder_problem(folder: Path, named: str) -> str | None:
    """Why schemas cannot be read from `folder` (`named` in the message), or None."""
    if not folder.exists():
        return f"folder {named}does not exist"
    if not folder.is_dir():
        return f"{named}is not a folder" if named else "not a folder"
    try:
        with os.scandir(folder):
            pass
    except OSError as exc:
        return f"folder {named}cannot be read: {exc.strerror or exc}"
    return None
