"""Where a repository pins the versions of its platform charts, per environment.

A pin is a chart version in a GitOps object: an Argo CD Application's `targetRevision`
of a Helm chart source, a Flux HelmRelease's `spec.chart.spec.version`, or a Flux
Kustomization patch that replaces that version for one environment's cluster. meshgen.yaml
records the version every environment runs (`versions:`) and, for an environment that
runs another, its own pin (`environments[].versions:`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from meshgen import yamlio
from meshgen.errors import ConfigError
from meshgen.repo import MANIFEST_NAME, Repo, exported_repo
from meshgen.yaml_lines import DocumentLines

# Components and the charts they are installed with; any other pinned chart is its own.
COMPONENTS: Mapping[str, tuple[str, ...]] = {
    "istio": ("base", "cni", "istiod", "gateway"),
    "cert-manager": ("cert-manager",),
}
MANIFEST_KEYS: Mapping[str, str] = {"istio": "istio", "cert-manager": "certManager"}
GITOPS_DIR = "gitops"
VERSION_PATCH_PATH = "/spec/chart/spec/version"
_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)


def component_of(chart: str) -> str:
    for component, charts in COMPONENTS.items():
        if chart in charts:
            return component
    return chart


@dataclass(frozen=True)
class Pin:
    component: str
    chart: str
    release: str
    version: str
    path: str
    line: int
    environments: tuple[str, ...]
    """The environments this pin applies to (all, for a file every cluster applies)."""
    patch: bool = False
    """A Flux Kustomization patch: overrides the shared HelmRelease for its environments."""


@dataclass(frozen=True)
class Chunk:
    """One YAML document of a file, parsed round-trip, with the line it starts on."""

    start: int
    text: str
    data: Any


def chunks(text: str, path: Path) -> Iterator[Chunk]:
    position, line = 0, 1
    pieces: list[tuple[int, int, int]] = []
    for match in _SEPARATOR.finditer(text):
        pieces.append((line, position, match.start()))
        line += text[position : match.end()].count("\n") + 1
        position = match.end() + 1
    pieces.append((line, position, len(text)))
    for start, begin, end in pieces:
        piece = text[begin:end]
        if piece.strip():
            yield Chunk(start, piece, yamlio.loads_roundtrip(piece, path))


def _environments_of(repo: Repo, relpath: str, destination: Any) -> tuple[str, ...]:
    if isinstance(destination, Mapping):
        for environment in repo.environments:
            if destination.get("name") == environment.cluster:
                return (environment.name,)
    parts = relpath.split("/")
    named = tuple(e.name for e in repo.environments if e.name in parts[:-1])
    named = named or tuple(
        e.name for e in repo.environments if Path(parts[-1]).stem.endswith(f"-{e.name}")
    )
    return named or tuple(e.name for e in repo.environments)


def built_folders(root: Path, folder: str) -> set[str]:
    """The folders a kustomize build of `folder` reads: itself and, through the
    `resources` of each kustomization.yaml, its bases (an environment's overlay includes
    the common platform folder beside it)."""
    seen: set[str] = set()
    pending = [posixpath.normpath(folder)]
    while pending:
        current = pending.pop()
        if current in seen or not (root / current).is_dir():
            continue
        seen.add(current)
        for name in ("kustomization.yaml", "kustomization.yml"):
            path = root / current / name
            if not path.is_file():
                continue
            try:
                data = yamlio.loads_roundtrip(yamlio.read_text(path), path)
            except ConfigError:
                continue  # validate reports unreadable files
            resources = data.get("resources") if isinstance(data, Mapping) else None
            for entry in resources if isinstance(resources, list) else []:
                pending.append(posixpath.normpath(posixpath.join(current, str(entry))))
    return seen


# Documents a caller has already parsed, by file: (the line each starts on, its data).
Parsed = Mapping[Path, Sequence[tuple[int, Any]]]


class KeyLineFinder(Protocol):
    def line(self, first_line: int, key_path: tuple[str | int, ...]) -> int: ...


def find(
    repo: Repo,
    parsed: Parsed | None = None,
    key_lines: Callable[[Path], KeyLineFinder] | None = None,
) -> list[Pin]:
    """Every pin of a platform chart under gitops/, in file order.

    A file in `parsed` (validate has read every static file already) is not parsed again,
    and `key_lines` gives the finder of key lines validate shares between its rules.
    """
    pins: list[Pin] = []
    folder = repo.root / GITOPS_DIR
    releases: dict[str, str] = {}
    patches: list[tuple[Pin, str]] = []
    for path in sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
        relpath = path.relative_to(repo.root).as_posix()
        known = parsed.get(path) if parsed is not None else None
        try:
            documents = (
                list(known)
                if known is not None
                else [
                    (d.line, d.data)
                    for d in yamlio.split_documents(yamlio.read_text(path), relpath)
                ]
            )
        except ConfigError:
            continue  # validate reports unreadable files
        lines = key_lines(path) if key_lines is not None else _FileLines(path)
        for first_line, data in documents:
            for pin in _pins_of(repo, relpath, data, partial(lines.line, first_line)):
                if pin.patch:
                    patches.append((pin, pin.release))
                else:
                    releases[pin.release] = pin.chart
                    pins.append(pin)
    for pin, release in patches:
        chart = releases.get(release, release)
        pins.append(
            Pin(
                component_of(chart),
                chart,
                release,
                pin.version,
                pin.path,
                pin.line,
                pin.environments,
                patch=True,
            )
        )
    return pins


# The line of a key path in one document (1-based, in its file).
LineAt = Callable[[tuple[str | int, ...]], int]


class _FileLines:
    """Lines of keys in a file's documents, read and composed (in C) only when a pin is
    found: parsing round-trip for them would cost ruamel's pure-Python scanner on every
    GitOps file, and most documents hold no pin."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lines: DocumentLines | None = None

    def line(self, first_line: int, key_path: tuple[str | int, ...]) -> int:
        if self._lines is None:
            try:
                self._lines = DocumentLines(yamlio.read_text(self._path))
            except ConfigError:
                return first_line  # read a moment ago: changed since
        return self._lines.line(first_line, key_path)


def _pins_of(repo: Repo, relpath: str, data: Any, line_at: LineAt) -> Iterator[Pin]:
    if not isinstance(data, Mapping) or not isinstance(data.get("spec"), Mapping):
        return
    spec = data["spec"]
    kind = str(data.get("kind", ""))
    api = str(data.get("apiVersion", ""))
    if api.startswith("argoproj.io/") and kind == "Application":
        environments = _environments_of(repo, relpath, spec.get("destination"))
        listed = spec.get("sources")
        sources = listed or [spec.get("source")]
        for index, source in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(source, Mapping) and source.get("chart") and source.get("targetRevision"):
                chart = str(source["chart"])
                helm = source.get("helm")
                release = helm.get("releaseName") if isinstance(helm, Mapping) else None
                where: tuple[str | int, ...] = ("sources", index) if listed else ("source",)
                line = line_at(("spec", *where, "targetRevision"))
                yield Pin(
                    component_of(chart),
                    chart,
                    str(release or chart),
                    str(source["targetRevision"]),
                    relpath,
                    line,
                    environments,
                )
    elif api.startswith("helm.toolkit.fluxcd.io/") and kind == "HelmRelease":
        chart_spec = (
            spec.get("chart", {}).get("spec") if isinstance(spec.get("chart"), Mapping) else None
        )
        if not isinstance(chart_spec, Mapping) or not chart_spec.get("version"):
            return
        source = chart_spec.get("sourceRef")
        if not isinstance(source, Mapping) or source.get("kind") != "HelmRepository":
            return
        chart = str(chart_spec.get("chart"))
        line = line_at(("spec", "chart", "spec", "version"))
        release = str(data.get("metadata", {}).get("name", chart))
        yield Pin(
            component_of(chart),
            chart,
            release,
            str(chart_spec["version"]),
            relpath,
            line,
            _environments_of(repo, relpath, None),
        )
    elif api.startswith("kustomize.toolkit.fluxcd.io/") and kind == "Kustomization":
        patches = spec.get("patches")
        for index, patch in enumerate(patches if isinstance(patches, list) else []):
            found = _version_patch(patch)
            if found is not None:
                release, version, line_in_patch = found
                yield Pin(
                    "",
                    "",
                    release,
                    version,
                    relpath,
                    line_at(("spec", "patches", index, "patch")) + line_in_patch,
                    _environments_of(repo, relpath, None),
                    patch=True,
                )


def _version_patch(patch: Any) -> tuple[str, str, int] | None:
    """(release, version, line within the patch) of a JSON6902 patch that replaces a
    HelmRelease's version."""
    if not isinstance(patch, Mapping):
        return None
    target = patch.get("target")
    if not isinstance(target, Mapping) or target.get("kind") != "HelmRelease":
        return None
    body = patch.get("patch")
    if not isinstance(body, str):
        return None
    match = re.search(
        rf"path:\s*{re.escape(VERSION_PATCH_PATH)}\s*\n\s*value:\s*[\"']?([^\"'\s]+)", body
    )
    if match is None:
        return None
    return str(target.get("name")), match.group(1), body[: match.start(1)].count("\n") + 1


def effective(pins: list[Pin], component: str) -> dict[str, dict[str, Pin]]:
    """environment -> release -> the pin that decides its version there."""
    result: dict[str, dict[str, Pin]] = {}
    for pin in pins:
        if pin.component != component:
            continue
        for environment in pin.environments:
            chosen = result.setdefault(environment, {})
            if pin.patch or pin.release not in chosen or not chosen[pin.release].patch:
                chosen[pin.release] = pin
    return result


def recorded(manifest: Any, component: str) -> tuple[str | None, dict[str, str]]:
    """The version meshgen.yaml records for every environment, and the explicit ones."""
    key = MANIFEST_KEYS.get(component, component)
    versions = manifest.get("versions") if isinstance(manifest, Mapping) else None
    shared = versions.get(key) if isinstance(versions, Mapping) else None
    explicit: dict[str, str] = {}
    entries = manifest.get("environments") if isinstance(manifest, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        own = entry.get("versions") if isinstance(entry, Mapping) else None
        if isinstance(own, Mapping) and own.get(key) is not None:
            explicit[str(entry.get("name"))] = str(own[key])
    return (str(shared) if shared is not None else None), explicit


# -- what validate and diff read -------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    path: str
    line: int
    message: str


def left_behind(
    repo: Repo,
    manifest: Any,
    parsed: Parsed | None = None,
    key_lines: Callable[[Path], KeyLineFinder] | None = None,
) -> Iterator[Spot]:
    """Pins that differ from what meshgen.yaml records for their environment."""
    found = find(repo, parsed, key_lines)
    for component in sorted({p.component for p in found}):
        shared, explicit = recorded(manifest, component)
        if shared is None and not explicit:
            continue
        for environment, releases in sorted(effective(found, component).items()):
            expected = explicit.get(environment, shared)
            for pin in releases.values():
                if expected is None or pin.version == expected:
                    continue
                where = (
                    f"its own pin environments[{environment}].versions"
                    if environment in explicit
                    else "versions"
                )
                yield Spot(
                    pin.path,
                    pin.line,
                    f"{environment} runs {component} {pin.version} ({pin.release}) but "
                    f"{MANIFEST_NAME} records {expected} ({where}): the environment is left "
                    f"behind; run `meshgen platform upgrade {component} {expected} --env "
                    f"{environment}`, or record the version it runs on purpose under "
                    f"environments[{environment}].versions",
                )


def pin_versions(root: Path) -> dict[tuple[str, str], str]:
    """(environment, component) -> the version(s) its pins name, for `meshgen diff`."""
    repo = exported_repo(root)
    if repo is None:
        return {}
    found = find(repo)
    versions: dict[tuple[str, str], str] = {}
    for component in sorted({p.component for p in found}):
        for environment, releases in effective(found, component).items():
            named = sorted({pin.version for pin in releases.values()})
            versions[(environment, component)] = "/".join(named)
    return versions


def pin_changes(base: Path, head: Path) -> list[str]:
    """`staging: istio 1.30.3 -> 1.30.4` for each environment whose platform moves."""
    before, after = pin_versions(base), pin_versions(head)
    changes = []
    for environment, component in sorted({*before, *after}):
        old = before.get((environment, component))
        new = after.get((environment, component))
        if old != new and old is not None and new is not None:
            changes.append(f"{environment}: {component} {old} -> {new}")
    return changes
